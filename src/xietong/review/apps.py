from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "xietong.review"
    label = "review"
    verbose_name = "审查报告"
