from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "xietong.supervision"
    verbose_name = "监督预警"
