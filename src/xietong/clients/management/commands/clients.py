"""``xietong clients create|rotate|revoke|list``: register agency systems and manage their secrets.
A secret is printed once, when it is made; only its hash and a sealed copy are kept."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xietong.clients import selectors, services
from xietong.errors import DomainError
from xietong.orgs.models import Unit, User


class Command(BaseCommand):
    help = "接入系统：登记（create）、轮换密钥（rotate）、吊销（revoke）、列表（list）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="op", required=True)
        create = sub.add_parser("create", help="登记接入系统并签发密钥")
        create.add_argument("--unit", required=True, help="单位代码")
        create.add_argument("--name", required=True, help="系统名称")
        create.add_argument("--duties", default="handler", help="职责，逗号分隔（默认 handler）")
        create.add_argument("--require-signature", action="store_true", help="要求每个请求签名")
        create.add_argument("--by", default="", help="登记人用户名")
        rotate = sub.add_parser("rotate", help="签发新密钥，旧密钥在重叠期后失效")
        rotate.add_argument("client_id")
        rotate.add_argument("--overlap-hours", type=float, default=None)
        rotate.add_argument("--by", default="")
        revoke = sub.add_parser("revoke", help="立即吊销接入系统（或其一个凭据）")
        revoke.add_argument("client_id")
        revoke.add_argument("--credential", default="", help="只吊销这个凭据（list 中的 key_id）")
        revoke.add_argument("--by", default="")
        sub.add_parser("list", help="列出接入系统与凭据")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['op']}")(options)
        except DomainError as exc:
            raise CommandError(f"{exc.message}（{exc.code}）") from exc

    def _actor(self, username: str) -> User | None:
        if not username:
            return None
        actor = User.objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"用户不存在：{username}")
        return actor

    def _print_secret(self, issued: services.Issued) -> None:
        self.stdout.write(f"client_id:     {issued.client.client_id}")
        self.stdout.write(f"client_secret: {issued.secret}")
        self.stdout.write(f"key_id:        {issued.credential.key_id}")
        self.stdout.write("密钥只显示这一次，请妥善保存。")

    def _create(self, options: dict[str, Any]) -> None:
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"单位代码不存在：{options['unit']}")
        duties = [d.strip() for d in options["duties"].split(",") if d.strip()]
        issued = services.client_create(
            unit=unit,
            name=options["name"],
            duties=duties,
            created_by=self._actor(options["by"]),
            require_signature=options["require_signature"],
        )
        self.stdout.write(f"已登记：{issued.client.name}，单位 {unit.name}，职责 {'、'.join(duties)}")
        self._print_secret(issued)

    def _rotate(self, options: dict[str, Any]) -> None:
        hours = options["overlap_hours"]
        issued = services.client_rotate(
            client_id=options["client_id"],
            actor=self._actor(options["by"]),
            overlap=timedelta(hours=hours) if hours is not None else None,
        )
        self.stdout.write("已签发新密钥；旧密钥在重叠期结束后失效。")
        self._print_secret(issued)

    def _revoke(self, options: dict[str, Any]) -> None:
        count = services.client_revoke(
            client_id=options["client_id"], actor=self._actor(options["by"]), key_id=options["credential"]
        )
        self.stdout.write(f"已吊销 {count} 个凭据，相关令牌立即失效。")

    def _list(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        for client in selectors.client_list():
            duties = ",".join(sorted(a.duty for a in client.user.appointments.all()))
            flag = " 须签名" if client.require_signature else ""
            self.stdout.write(
                f"{client.client_id}  {client.get_status_display()}  {client.unit.code} {client.unit.name}"
                f"  {client.name}  [{duties}]{flag}"
            )
            for c in client.credentials.all():
                state = "有效" if c.is_live(now) else ("已吊销" if c.revoked_at else "已过期")
                until = f" 至 {timezone.localtime(c.expires_at):%Y-%m-%d %H:%M}" if c.expires_at else ""
                self.stdout.write(f"    {c.key_id}  {state}{until}")
