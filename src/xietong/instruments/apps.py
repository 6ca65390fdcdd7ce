from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "xietong.instruments"
    verbose_name = "法律文书与电子印章"
