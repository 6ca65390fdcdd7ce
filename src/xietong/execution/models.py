"""Execution of judgments and community corrections (F7): each person's custody events, the sentence
that took effect, and the corrections file of an offender supervised in the community.

Rows are written by ``execution.services`` (and custody events also by the door of
``cases.services``, in the transaction of the act that changes the custody)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xietong.cases.models import Case, Party
from xietong.execution import custody
from xietong.execution.custody import KIND_LABELS
from xietong.orgs.models import Region, Unit

CUSTODY_KIND_CHOICES = [(k.value, label) for k, label in KIND_LABELS.items()]


class CustodyEvent(models.Model):
    """One change of a person's custody or of the authority he is held under: what every agency
    sees of him, and what the daily reconciliation (``execution.reconcile``) reads."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="custody_events")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="custody_events")
    kind = models.CharField("事项", max_length=24, choices=CUSTODY_KIND_CHOICES)
    at = models.DateTimeField("时间（服务器）")
    on = models.DateField("日期")  # ``at`` in Asia/Shanghai: the day the limits count from
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    until = models.DateField("依据有效至", null=True, blank=True)
    variant = models.CharField(max_length=20, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "羁押变动"
        verbose_name_plural = "羁押变动"
        ordering = ["party", "at", "id"]
        indexes = [models.Index(fields=["party", "at", "id"], name="custody_event_person")]

    def __str__(self) -> str:
        return f"{self.party_id} {self.kind} {self.on}"

    def as_event(self) -> custody.Event:
        """The pure form that ``execution.custody`` reasons about."""
        return custody.Event(
            custody.Kind(self.kind), self.on, self.unit_id, self.until, self.variant, self.pk
        )


class Body(models.TextChoices):
    """Who executes a sentence (刑诉法第264条、第269条; 社区矫正法第17条)."""

    PRISON = "prison", "监狱"
    DETENTION_HOUSE = "detention_house", "看守所"
    CORRECTIONS = "corrections", "社区矫正机构"
    POLICE = "police", "公安机关"
    COURT = "court", "人民法院执行"
    RELEASE = "release", "无需执行（释放）"


class Sentence(models.Model):
    """The effective sentence of one person, with its term computed exactly (``execution.sentences``)."""

    party = models.OneToOneField(Party, on_delete=models.CASCADE, related_name="sentence")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sentences")
    penalty = models.CharField("主刑", max_length=20)
    months = models.PositiveSmallIntegerField("刑期（月）", default=0)
    probation_months = models.PositiveSmallIntegerField("缓刑考验期（月）", default=0)
    effective_on = models.DateField("生效日期")
    effective_basis = models.CharField(
        "生效方式", max_length=20, choices=[("appeal_expired", "上诉、抗诉期满"), ("final", "终审")]
    )
    credited_days = models.PositiveIntegerField("先行羁押折抵（日）", default=0)
    term_start = models.DateField("刑期起算", null=True, blank=True)
    term_end = models.DateField("刑期届满", null=True, blank=True)
    body = models.CharField("执行机关类别", max_length=20, choices=Body.choices)
    executing_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    residence = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    prohibitions = models.TextField("禁止令", blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "生效判决"
        verbose_name_plural = "生效判决"

    def __str__(self) -> str:
        return f"{self.party_id} {self.penalty} {self.term_start}–{self.term_end}"


class SuperviseeKind(models.TextChoices):
    CONTROL = "control", "管制"
    PROBATION = "probation", "缓刑"
    PAROLE = "parole", "假释"
    TEMPORARY = "temporary", "暂予监外执行"


class SuperviseeStatus(models.TextChoices):
    NOTIFIED = "notified", "已预告知（待交付）"
    AWAITING = "awaiting", "待报到"
    SUPERVISED = "supervised", "在矫"
    DISCHARGED = "discharged", "解除矫正"
    REVOKED = "revoked", "撤销（收监执行）"


class Supervisee(models.Model):
    """社区矫正对象: the file the corrections unit opens on an offender, from the court's notice
    (预告知) through 报到, supervision and 解除 (社区矫正法第17条至第22条、第44条)."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="supervisions")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisees")
    kind = models.CharField("矫正类别", max_length=12, choices=SuperviseeKind.choices)
    status = models.CharField(
        "状态",
        max_length=12,
        choices=SuperviseeStatus.choices,
        default=SuperviseeStatus.NOTIFIED,
        db_index=True,
    )
    corrections_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="司法所"
    )
    residence = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.CharField("居住地", max_length=200)
    term_start = models.DateField("矫正期起")
    term_end = models.DateField("矫正期满")
    report_due = models.DateField("报到期限")
    reported_at = models.DateTimeField("报到时间", null=True, blank=True)
    reported_to = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan = models.TextField("矫正方案", blank=True)
    conditions = models.TextField("应遵守的规定", blank=True)
    prohibitions = models.TextField("禁止令", blank=True)
    notified_at = models.DateTimeField("预告知时间")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "社区矫正对象"
        verbose_name_plural = "社区矫正对象"
        ordering = ["report_due"]
        constraints = [
            models.UniqueConstraint(
                fields=["party"],
                condition=~models.Q(status__in=["discharged", "revoked"]),
                name="one_open_supervision_per_person",
            )
        ]
        indexes = [
            models.Index(fields=["corrections_unit", "status"]),
            models.Index(fields=["office", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.party_id} {self.kind} {self.status}"
