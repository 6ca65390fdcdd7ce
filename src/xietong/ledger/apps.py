from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "xietong.ledger"
    label = "ledger"
    verbose_name = "全程留痕"

    def ready(self) -> None:
        from xietong import tasks
        from xietong.ledger.services import ledger_integrate_all

        tasks.register("ledger.integrate", ledger_integrate_all)
