from django.apps import AppConfig

# The live path is an act's event; this period only repairs what an event missed and finds clocks
# that ran out while nobody acted (an indexed query when there is nothing to do).
EVALUATE_SECONDS = 30.0


class SupervisionConfig(AppConfig):
    name = "xietong.supervision"
    verbose_name = "监督预警"

    def ready(self) -> None:
        from xietong import events, tasks
        from xietong.supervision.engine import DIRTY_JOB, evaluate_dirty, evaluate_stale, on_case_acted

        tasks.register_periodic("supervision.evaluate", evaluate_stale, every=EVALUATE_SECONDS)
        tasks.register(DIRTY_JOB, evaluate_dirty)
        # every entry, not only the door's ``case.acted``: an instrument sealed or withdrawn, a file
        # uploaded, a quality review … move the ledger head too, and rules read them
        events.subscribe("ledger.appended", on_case_acted)
