"""Import runs (progress per file, for resumption) and the origin of every imported case."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from xietong.cases.models import Case


class RunStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "中断"


class ImportRun(models.Model):
    """One package file being imported. ``position`` is the number of lines whose batch has
    committed, moved in the batch's own transaction: a run killed at any point resumes there."""

    file_name = models.CharField("文件", max_length=500)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    position = models.PositiveBigIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)  # [{line, number, problems: [{code, message}]}], capped
    # Imported cases with a problem all the same (file_missing, instrument_number_taken), as above.
    notes = models.JSONField(default=list)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "数据包导入"
        verbose_name_plural = "数据包导入"

    def __str__(self) -> str:
        return f"{self.file_name} {self.position}"


class CaseOrigin(models.Model):
    """Where an imported case came from, and the sender's chain: the sender's ids and hash of each
    entry (in seq order), so that the sender's hashes can be recomputed from the local entries,
    whose own hashes commit to this database's ids. ``attachments`` keeps the package's
    instruments and files (by SHA-256) as received; they are not yet materialised as rows."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="origin")
    source_system = models.CharField("来源系统", max_length=100)
    source_case_id = models.BigIntegerField()
    source_number = models.CharField("来源案件编号", max_length=40)
    source_seq = models.PositiveIntegerField()
    source_head = models.CharField(max_length=64)
    source_chain = models.JSONField(default=list)  # [[actor_id, unit_id, entry_hash], …] by seq
    attachments = models.JSONField(default=dict)
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    line = models.PositiveBigIntegerField(default=0)
    imported_at = models.DateTimeField()

    class Meta:
        verbose_name = "案件来源"
        verbose_name_plural = "案件来源"
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_case_id"], name="uniq_exchange_source")
        ]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.source_case_id} → {self.case_id}"
