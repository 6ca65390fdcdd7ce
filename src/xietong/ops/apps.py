from django.apps import AppConfig

REQUEUE_SECONDS = 60.0


class OpsConfig(AppConfig):
    name = "xietong.ops"
    label = "ops"
    verbose_name = "运维（备份与恢复）"

    def ready(self) -> None:
        from xietong import jobs, tasks

        # Jobs whose worker died mid-job go back in the queue within a minute, not only when a job
        # worker of the same machine next starts (xietong worker runs this; so does the embedded mode).
        tasks.register_periodic("jobs.requeue_orphans", jobs.requeue_orphans, every=REQUEUE_SECONDS)
