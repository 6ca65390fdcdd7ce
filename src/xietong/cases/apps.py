from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "xietong.cases"
    label = "cases"
    verbose_name = "案件与流程"
