from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "xietong.security"
    verbose_name = "安全"
    default_auto_field = "django.db.models.BigAutoField"
