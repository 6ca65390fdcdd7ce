"""``xietong instruments verify FILE.pdf --ca CA.pem``: check a sealed instrument offline, with only
the platform's CA certificate (no database, no network). ``xietong instruments ca-cert``: print
that certificate. ``xietong instruments seals``: list the units' seals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.instruments import crypto, signing


class Command(BaseCommand):
    help = "电子印章文书：离线核验、导出根证书、列出印章"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        verify = sub.add_parser("verify", help="离线核验盖章 PDF（只需平台根证书）")
        verify.add_argument("file", type=Path)
        verify.add_argument("--ca", type=Path, required=True, help="平台印章根证书（PEM 或 DER）")
        verify.add_argument("--json", action="store_true", help="输出 JSON")
        verify.add_argument("--proof", type=Path, help="留痕存在证明（/verify/t/…/proof.json）")
        verify.add_argument("--ledger-key", help="账本 Ed25519 公钥（base64，见 /api/v1/ledger/tree-head）")
        sub.add_parser("ca-cert", help="输出平台印章根证书（PEM）")
        sub.add_parser("seals", help="列出各单位的电子印章")
        revoke = sub.add_parser("revoke-seal", help="吊销某单位当前的电子印章（下次盖章时重新刻制）")
        revoke.add_argument("unit_code")
        revoke.add_argument("--reason", required=True)
        revoke.add_argument("--by", default="admin", help="执行吊销的系统管理员用户名")

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what == "verify":
            self._verify(
                options["file"],
                options["ca"],
                as_json=options["json"],
                proof=options["proof"],
                key=options["ledger_key"],
            )
        elif what == "revoke-seal":
            self._revoke(options["unit_code"], options["reason"], options["by"])
        elif what == "ca-cert":
            from xietong.instruments.services import authority_certificate_der

            cert = crypto.load_certificate(authority_certificate_der())
            self.stdout.write(crypto.pem(cert).decode())
        else:
            from xietong.instruments.models import UnitSeal

            for seal in UnitSeal.objects.select_related("unit").order_by("unit__code", "-created_at"):
                state = f"已吊销 {seal.revoked_at:%Y-%m-%d}" if seal.revoked_at else "有效"
                self.stdout.write(f"{seal.unit.name}\t{seal.serial}\t{seal.not_after:%Y-%m-%d}\t{state}")

    def _revoke(self, unit_code: str, reason: str, by: str) -> None:
        from xietong.errors import DomainError
        from xietong.instruments.models import UnitSeal
        from xietong.instruments.services import seal_revoke
        from xietong.orgs.models import User

        seal = UnitSeal.objects.filter(unit__code=unit_code, revoked_at__isnull=True).first()
        user = User.objects.filter(username=by).first()
        if seal is None or user is None:
            raise CommandError("没有该单位的有效印章，或执行人不存在")
        try:
            seal_revoke(user=user, seal_id=seal.pk, reason=reason)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已吊销：{seal.unit.name} 印章 {seal.serial}")

    def _verify(
        self, path: Path, ca_path: Path, *, as_json: bool, proof: Path | None, key: str | None
    ) -> None:
        try:
            data = path.read_bytes()
            ca = crypto.load_certificate(ca_path.read_bytes())
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        except ValueError as exc:
            raise CommandError(f"根证书格式错误：{exc}") from exc
        from cryptography.hazmat.primitives import serialization

        check = signing.check_pdf(data, ca_der=ca.public_bytes(serialization.Encoding.DER))
        ledger_problems: list[str] | None = None
        if proof is not None:
            ledger_problems = self._check_proof(proof, data, key)
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": check.ok,
                        "signed": check.signed,
                        "intact": check.intact,
                        "trusted": check.trusted,
                        "entire_file": check.entire_file,
                        "signer_unit": check.signer_unit,
                        "certificate_serial": check.certificate_serial,
                        "signed_at": check.signed_at.isoformat() if check.signed_at else None,
                        "number": check.number,
                        "kind": check.kind,
                        "problems": check.problems,
                        "ledger": None
                        if ledger_problems is None
                        else {"ok": not ledger_problems, "problems": ledger_problems},
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self.stdout.write(f"文件：{path}")
            self.stdout.write(f"签章单位：{check.signer_unit or '—'}")
            self.stdout.write(f"文书：{check.kind or '—'}  文号：{check.number or '—'}")
            self.stdout.write(f"签名时间：{check.signed_at or '—'}")
            self.stdout.write(
                f"文件完整：{'是' if check.intact else '否'}；证书可信：{'是' if check.trusted else '否'}"
            )
            for problem in check.problems:
                self.stdout.write(f"问题：{problem}")
            if ledger_problems is not None:
                self.stdout.write(
                    "留痕存在证明：" + ("成立" if not ledger_problems else "；".join(ledger_problems))
                )
            self.stdout.write("结论：" + ("有效（撤回、更正状态请在线核验）" if check.ok else "无效"))
        if not check.ok or ledger_problems:
            raise SystemExit(1)

    def _check_proof(self, path: Path, data: bytes, key: str | None) -> list[str]:
        import base64
        import binascii

        from xietong.instruments.services import check_proof_bundle

        if not key:
            raise CommandError("核验存在证明需要 --ledger-key（账本公钥）")
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
            raw = base64.b64decode(key, validate=True)
        except (OSError, ValueError, binascii.Error) as exc:
            raise CommandError(f"存在证明或公钥格式错误：{exc}") from exc
        return check_proof_bundle(bundle, data, raw)
