from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "xietong.quality"
    label = "quality"
    verbose_name = "网上案件评查"
