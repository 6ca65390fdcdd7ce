from django.apps import AppConfig

# How often the embedded worker runs the execution sweep and the custody reconciliation.
SWEEP_SECONDS = 300.0
RECONCILE_SECONDS = 6 * 3600.0


class ExecutionConfig(AppConfig):
    name = "xietong.execution"
    verbose_name = "交付执行与社区矫正"

    def ready(self) -> None:
        from xietong import tasks
        from xietong.execution.reconcile import reconcile
        from xietong.execution.sweeps import execution_sweep

        tasks.register_periodic("execution.sweep", execution_sweep, every=SWEEP_SECONDS)
        tasks.register_periodic("execution.reconcile", reconcile, every=RECONCILE_SECONDS)
