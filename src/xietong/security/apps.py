from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "xietong.security"
    verbose_name = "安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from xietong.security.headers import mark_seen_at_login

        user_logged_in.connect(mark_seen_at_login, dispatch_uid="xietong.security.seen_at_login")
