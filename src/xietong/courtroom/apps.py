from django.apps import AppConfig


class CourtroomConfig(AppConfig):
    name = "xietong.courtroom"
    verbose_name = "庭审云柜"
