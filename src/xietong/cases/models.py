"""Cases, suspects, transfers between agencies, approvals, statutory clocks (F2, F14).

Every row here is written by ``cases.services`` only; the ledger records each write."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from xietong.cases.procedure import ACTIONS, CUSTODY_LABELS, STAGE_LABELS, TRIAL_PROCEDURES, Custody, Stage
from xietong.ledger.chain import GENESIS
from xietong.orgs.models import Region, Unit

STAGE_CHOICES = [(s.value, STAGE_LABELS[s]) for s in Stage]
CUSTODY_CHOICES = [(c.value, CUSTODY_LABELS[c]) for c in Custody]
TRIAL_CHOICES = [("", "未定"), *TRIAL_PROCEDURES.items()]


class Case(models.Model):
    number = models.CharField("案件编号", max_length=40, unique=True)
    title = models.CharField("案件名称", max_length=200)
    charge = models.CharField("涉嫌罪名", max_length=100, db_index=True)
    facts = models.TextField("简要案情")
    occurred_at = models.DateTimeField("案发时间")
    place = models.CharField("案发地点", max_length=200, blank=True)
    town = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cases_in_town")
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cases_in_county")
    stage = models.CharField("阶段", max_length=30, choices=STAGE_CHOICES, db_index=True)
    holder_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="held_cases")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    police_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    procuratorate_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    court_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    execution_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plea = models.BooleanField("认罪认罚", default=False)
    fast_track = models.BooleanField("建议适用速裁", default=False)
    trial_procedure = models.CharField("审判程序", max_length=10, choices=TRIAL_CHOICES, blank=True)
    supplementary_count = models.PositiveSmallIntegerField("退回补充侦查次数", default=0)
    remand_count = models.PositiveSmallIntegerField("发回重审次数", default=0)
    verdict = models.JSONField("裁判结果", null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Set by the services from the server clock (not auto_now), so replayed history keeps its times.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The head of the case's ledger chain: seq and hash of its last entry (0 and GENESIS before the
    # first). Kept on the row that every ledger writer locks first, so an append reads it with the
    # lock instead of searching the ledger; written only by ``ledger.services`` and by the door's
    # UPDATE of the case in the same transaction as the entry (never by a full-row save of a case
    # read without the lock). A stale head cannot fork a chain: the next entry's seq would collide
    # with the ledger's unique (case_id, seq).
    ledger_seq = models.PositiveIntegerField(default=0, editable=False)
    ledger_head = models.CharField(max_length=64, default=GENESIS, editable=False)

    class Meta:
        verbose_name = "案件"
        verbose_name_plural = "案件"
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def stage_enum(self) -> Stage:
        return Stage(self.stage)


class Participation(models.Model):
    """A unit that takes or took part in a case; the basis of who may read it (F1)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participations")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="participations")
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "case"], name="uniq_participation")]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.case_id}"


class Party(models.Model):
    """A suspect / defendant / offender, each with his own coercive measure."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    ordinal = models.PositiveSmallIntegerField(default=1)
    name = models.CharField("姓名", max_length=50, db_index=True)
    gender = models.CharField("性别", max_length=2)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    custody = models.CharField("强制措施", max_length=20, choices=CUSTODY_CHOICES, default=Custody.NONE.value)
    custody_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "犯罪嫌疑人"
        verbose_name_plural = "犯罪嫌疑人"
        ordering = ["case", "ordinal"]

    def __str__(self) -> str:
        return self.name

    @property
    def custody_enum(self) -> Custody:
        return Custody(self.custody)


class TransferStatus(models.TextChoices):
    PENDING = "pending", "待受理"
    ACCEPTED = "accepted", "已受理"
    RETURNED = "returned", "已退回"


class Transfer(models.Model):
    """The file sent to another unit's inbox (待办), which accepts it or returns it with a reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    action = models.CharField(max_length=40)
    from_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="transfers_out")
    to_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="transfers_in")
    from_stage = models.CharField(max_length=30, choices=STAGE_CHOICES)
    to_stage = models.CharField(max_length=30, choices=STAGE_CHOICES)
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    party_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["to_unit", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="one_pending_transfer_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action_label} {self.from_unit_id}→{self.to_unit_id} ({self.status})"

    @property
    def action_label(self) -> str:
        return ACTIONS[self.action].label


class InstrumentCounter(models.Model):
    """Per unit, kind and year sequence (案件编号); bumped with one atomic upsert (no gaps on retry).
    The 文号 of instruments have their own counter in the instruments app."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE)
    kind = models.CharField(max_length=50)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind", "year"], name="uniq_instrument_counter")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.kind}/{self.year}={self.last}"


class ClockStatus(models.TextChoices):
    RUNNING = "running", "计时中"
    STOPPED = "stopped", "已停止"


class Clock(models.Model):
    """A statutory time limit running for a case or one suspect, computed by ``cases.deadlines``."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks")
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.CASCADE, related_name="clocks")
    rule = models.CharField(max_length=50)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="clocks")
    started_at = models.DateTimeField()
    in_custody = models.BooleanField()
    due = models.DateField()
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=ClockStatus.choices, default=ClockStatus.RUNNING)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["unit", "status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.rule} due {self.due_at:%Y-%m-%d %H:%M}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "不批准"


class ActionRequest(models.Model):
    """呈请: a handler's act that the law puts under a leader's approval, waiting in the leader's inbox."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="requests")
    action = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="action_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"request {self.action} ({self.status})"

    @property
    def action_label(self) -> str:
        return ACTIONS[self.action].label


class IdempotencyRecord(models.Model):
    """The stored answer to a request sent with an ``Idempotency-Key``, so a retry is applied once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class HolidayOverride(models.Model):
    """Admin-entered official rest/working days for years the ``chinese-calendar`` package lacks."""

    day = models.DateField("日期", unique=True)
    is_rest_day = models.BooleanField("休息日")
    note = models.CharField("说明", max_length=50, blank=True)

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'休' if self.is_rest_day else '班'}"
