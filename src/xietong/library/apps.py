from django.apps import AppConfig

# How often the embedded worker looks for concluded cases not yet in the library (a missed event
# or a worker killed mid-job only delays a record by this much).
COLLECT_SECONDS = 600.0
# The acts after which a case may have concluded (判决生效、二审终审、不起诉、撤销案件).
CONCLUDING_ACTS = frozenset({"judgment_effective", "decide_appeal", "not_prosecute", "withdraw"})


def _on_act(*, case_id: int | None, action: str) -> None:
    if case_id is not None and action in CONCLUDING_ACTS:
        from xietong import tasks

        tasks.request("library.collect")


class LibraryConfig(AppConfig):
    name = "xietong.library"
    verbose_name = "案例库与类案分析"

    def ready(self) -> None:
        from xietong import events, tasks
        from xietong.library.consistency import consistency_refresh
        from xietong.library.services import library_collect

        tasks.register_periodic("library.collect", library_collect, every=COLLECT_SECONDS)
        tasks.register_periodic("library.consistency", consistency_refresh, every=COLLECT_SECONDS)
        events.subscribe("case.acted", _on_act)
