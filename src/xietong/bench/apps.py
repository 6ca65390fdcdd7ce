from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "xietong.bench"
    label = "bench"
    verbose_name = "性能测试"
