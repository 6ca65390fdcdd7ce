from django.apps import AppConfig

# How often the embedded worker looks for threads whose answer time has run out. Answer limits are
# whole working days, so a few minutes of lateness in raising the alert does not matter.
SWEEP_SECONDS = 300.0


class BoardConfig(AppConfig):
    name = "xietong.board"
    verbose_name = "留言板"

    def ready(self) -> None:
        from xietong import tasks
        from xietong.board.services import board_unanswered_sweep

        tasks.register_periodic("board.unanswered", board_unanswered_sweep, every=SWEEP_SECONDS)
