from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "xietong.feeds"
    label = "feeds"
    verbose_name = "事件订阅（事件流、网络回调、消息代理）"

    def ready(self) -> None:
        from xietong import events, tasks
        from xietong.feeds.services import DELIVER_EVERY_SECONDS, feeds_deliver_due

        # Production: `xietong worker` runs it every round, `xietong feeds deliver --loop` keeps the
        # latency low. Embedded: every ledger entry (the door's acts and every other app's) asks for a
        # delivery as soon as it commits.
        tasks.register_periodic("feeds.deliver", feeds_deliver_due, every=DELIVER_EVERY_SECONDS)
        events.subscribe("ledger.appended", _deliver_soon)


def _deliver_soon(**_: object) -> None:
    from xietong import tasks

    tasks.request("feeds.deliver")
