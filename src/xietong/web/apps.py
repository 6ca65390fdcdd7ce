from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "xietong.web"
    label = "web"
    verbose_name = "网页"
