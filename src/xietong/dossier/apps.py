from django.apps import AppConfig


class DossierConfig(AppConfig):
    name = "xietong.dossier"
    label = "dossier"
    verbose_name = "电子卷宗"
