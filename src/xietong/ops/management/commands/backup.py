"""``xietong backup DEST``: an online, consistent backup (see ``xietong.ops.backup``)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "在线备份数据库、卷宗文件与账本（目录或 .tar），平台可继续运行"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("dest", type=Path, help="新目录，或以 .tar 结尾的归档路径")
        parser.add_argument(
            "--no-key", action="store_true", help="不把账本签名私钥放入备份（须另行保管并在恢复前放回）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(
                options["dest"], include_key=not options["no_key"], progress=self.stdout.write
            )
        except BackupError as exc:
            raise CommandError(f"备份失败：{exc}") from exc
        manifest = result.manifest
        head = manifest["ledger"]["tree_head"]
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{result.path}（{manifest['database']['vendor']}，"
                f"{len(manifest['files'])} 个文件 {manifest['files_total_bytes'] / 1e6:.1f} MB，"
                f"账本树头 size={head['size']}，用时 {result.seconds:.1f} 秒）"
            )
        )
        if not manifest["database"].get("sealed"):
            self.stdout.write(
                self.style.WARNING(
                    "注意：本平台未开启文件加密（XIETONG_FILES_ENCRYPTED），备份为明文，含全部案件数据"
                    + ("与账本签名私钥" if manifest["ledger"]["key_included"] else "")
                    + "，须存放于加密介质并限制访问"
                )
            )
