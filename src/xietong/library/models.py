"""The case library (F9): collections of judged cases — the platform's own concluded cases, collected
by themselves, and historic judgments imported from files — each record with its texts, the
structured fields read from them, a de-identified published view and its edit history.

Rows are written by ``library.services`` only. The similar-case index (``library.index``) is derived
from them and rebuilt when a collection's ``revision`` moves."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from xietong.cases.models import Case

PLATFORM_COLLECTION = "platform"


class Collection(models.Model):
    """A set of records searched together: ``platform`` (the cases concluded here) or one import
    (e.g. ``lecard``, a court's archive)."""

    name = models.SlugField("名称（英文标识）", max_length=60, unique=True)
    title = models.CharField("标题", max_length=100)
    source = models.TextField("来源与许可", blank=True)
    revision = models.PositiveIntegerField(default=0)  # moves on every change: the index is rebuilt
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "案例集"
        verbose_name_plural = "案例集"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.title


class Outcome(models.TextChoices):
    JUDGMENT = "judgment", "生效裁判"
    NOT_PROSECUTED = "not_prosecuted", "不起诉"
    WITHDRAWN = "withdrawn", "撤销案件"


class Record(models.Model):
    """One judged (or otherwise concluded) case. The texts are kept as written; ``published`` holds
    the de-identified view that users without a right to the original read."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="records")
    external_id = models.CharField("外部编号", max_length=100)
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="library_record"
    )
    outcome = models.CharField("结局", max_length=20, choices=Outcome.choices, default=Outcome.JUDGMENT)
    title = models.CharField("案件名称", max_length=300)
    document_name = models.CharField("文书名称", max_length=300, blank=True)
    court = models.CharField("法院", max_length=100, blank=True, db_index=True)
    region = models.CharField("地区", max_length=50, blank=True, db_index=True)
    year = models.PositiveSmallIntegerField("年份", null=True, blank=True, db_index=True)
    charges = models.JSONField("罪名", default=list)
    first_charge = models.CharField("主罪名", max_length=60, blank=True, db_index=True)
    articles = models.JSONField("适用条文", default=list)
    circumstances = models.JSONField("量刑情节", default=list)
    penalty_kind = models.CharField("主刑", max_length=24, blank=True, db_index=True)
    months = models.PositiveIntegerField("刑期（月）", null=True, blank=True)
    probation_months = models.PositiveIntegerField("缓刑考验期（月）", null=True, blank=True)
    penalty_label = models.CharField("判处", max_length=200, blank=True)
    money_yuan = models.FloatField("涉案金额（元）", null=True, blank=True)
    drug_grams = models.FloatField("毒品数量（克）", null=True, blank=True)
    facts = models.TextField("案件事实", blank=True)
    reasoning = models.TextField("裁判理由", blank=True)
    judgment = models.TextField("裁判结果", blank=True)
    full_text = models.TextField("全文", blank=True)
    details = models.JSONField("结构化信息", default=dict)  # amounts, defendants, stages, decisions …
    published = models.JSONField("脱敏文本", default=dict)  # {"facts", "reasoning", "judgment", "title"}
    tokens = models.TextField(blank=True)  # ``ranking.tokens`` of the facts, space-joined, for the index
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "案例"
        verbose_name_plural = "案例"
        ordering = ["collection", "id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "external_id"], name="library_record_external_id")
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.title}"

    def snapshot(self) -> dict[str, Any]:
        """The editable part, as kept in each version."""
        return {name: getattr(self, name) for name in EDITABLE_FIELDS}


EDITABLE_FIELDS = (
    "title",
    "document_name",
    "court",
    "region",
    "year",
    "charges",
    "articles",
    "circumstances",
    "penalty_kind",
    "months",
    "probation_months",
    "penalty_label",
    "money_yuan",
    "drug_grams",
    "facts",
    "reasoning",
    "judgment",
)


class RecordVersion(models.Model):
    """A record as it was before an edit (and as first written): who changed what, when."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    note = models.CharField("说明", max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "案例版本"
        verbose_name_plural = "案例版本"
        ordering = ["record", "version"]
        constraints = [models.UniqueConstraint(fields=["record", "version"], name="library_version_once")]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"


class ImportStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ImportRun(models.Model):
    """One import of a judgment file: how far it got (``position``, in lines) so that an interrupted
    import resumes where it stopped, and what was refused and why (the validation report)."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="imports")
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    position = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)  # [{"line", "code", "message"}], the first few hundred
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.collection_id} ({self.status})"


class RecordView(models.Model):
    """Who read which record, when, and whether the original (not de-identified) text."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    original = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "案例查阅记录"
        verbose_name_plural = "案例查阅记录"
        indexes = [models.Index(fields=["record", "at"], name="library_view_record")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.record_id} @ {self.at:%Y-%m-%d %H:%M}"
