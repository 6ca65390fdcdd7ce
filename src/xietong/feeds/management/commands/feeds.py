"""``xietong feeds``: run the delivery loop, list and replay dead letters (operators)."""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from xietong.feeds.models import DeadLetter, Subscription
from xietong.feeds.services import dead_letter_replay, feeds_deliver_due
from xietong.orgs.models import Duty, User


class Command(BaseCommand):
    help = (
        "事件订阅：deliver 投递（--loop 常驻低延迟）；subscriptions 列出订阅；dead-letters 列出死信；"
        "replay 重放死信"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        deliver = sub.add_parser("deliver", help="投递到期的订阅")
        deliver.add_argument(
            "--loop", action="store_true", help="常驻：有新事件即投递（生产环境的低延迟投递进程）"
        )
        deliver.add_argument("--interval", type=float, default=0.1, help="空闲时两轮之间的秒数")
        sub.add_parser("subscriptions", help="列出全部订阅")
        letters = sub.add_parser("dead-letters", help="列出死信")
        letters.add_argument("--all", action="store_true", help="包括已重放成功的")
        replay = sub.add_parser("replay", help="重放死信")
        replay.add_argument("ids", nargs="*", type=int, help="死信编号；不填则重放全部未重放的")

    def handle(self, *args: Any, **options: Any) -> None:
        cmd = options["cmd"]
        if cmd == "deliver":
            self._deliver(loop=options["loop"], interval=options["interval"])
        elif cmd == "subscriptions":
            for s in Subscription.objects.select_related("owner").order_by("pk"):
                self.stdout.write(
                    f"{s.pk}\t{s.name}\t{s.owner.username}\t{s.kind}\t{s.status}\tcursor={s.cursor}"
                    f"\tfailures={s.failures}\t{s.last_status}\t{s.url}"
                )
        elif cmd == "dead-letters":
            qs = DeadLetter.objects.select_related("subscription").order_by("pk")
            if not options["all"]:
                qs = qs.filter(replayed_at__isnull=True)
            for d in qs:
                state = f"已重放 {d.replayed_at:%Y-%m-%d %H:%M}" if d.replayed_at else "待重放"
                self.stdout.write(
                    f"{d.pk}\t订阅{d.subscription_id}\t叶{d.first_index}-{d.last_index}\t{len(d.events)}条"
                    f"\t尝试{d.attempts}次\t{state}\t{d.replay_error or d.last_error}"
                )
        elif cmd == "replay":
            operator = User.objects.filter(appointments__duty=Duty.ADMIN, is_active=True).first()
            if operator is None:
                raise CommandError("没有系统管理员账号，无法以管理员身份重放")
            ids = options["ids"] or list(
                DeadLetter.objects.filter(replayed_at__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            failed = 0
            for pk in ids:
                letter = dead_letter_replay(user=operator, dead_letter_id=pk)
                ok = letter.replayed_at is not None
                failed += not ok
                self.stdout.write(f"{pk}\t{'成功' if ok else '失败：' + letter.replay_error}")
            if failed:
                raise CommandError(f"{failed} 条重放失败")

    def _deliver(self, *, loop: bool, interval: float) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        if loop:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while True:
            close_old_connections()
            try:
                sent = feeds_deliver_due()
            except Exception as exc:  # the database may be restarting: wait and try again
                self.stderr.write(f"delivery failed, retrying: {exc}")
                sent = 0
            if sent:
                self.stdout.write(f"delivered {sent} event(s)")
            if not loop or stopping:
                break
            if not sent:
                time.sleep(interval)
