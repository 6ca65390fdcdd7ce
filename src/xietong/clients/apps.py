from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "xietong.clients"
    label = "clients"
    verbose_name = "系统接入（外部业务系统）"
