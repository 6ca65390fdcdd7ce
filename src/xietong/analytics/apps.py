from django.apps import AppConfig

# How often the embedded worker looks for cases whose facts are stale (an act also asks for a refresh
# at once; this catches a missed event or a worker killed mid-batch).
REFRESH_SECONDS = 120.0
# Warnings are about whole months; assessing the last one a few times a day is plenty.
WARNINGS_SECONDS = 6 * 3600.0


class AnalyticsConfig(AppConfig):
    name = "xietong.analytics"
    verbose_name = "大数据分析研判"

    def ready(self) -> None:
        from xietong import events, tasks
        from xietong.analytics.services import facts_refresh, on_case_acted, warnings_refresh

        tasks.register_periodic("analytics.refresh", facts_refresh, every=REFRESH_SECONDS)
        tasks.register_periodic("analytics.warnings", warnings_refresh, every=WARNINGS_SECONDS)
        events.subscribe("case.acted", on_case_acted)
