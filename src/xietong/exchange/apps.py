from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "xietong.exchange"
    verbose_name = "标准数据包（案件交换与迁移）"
