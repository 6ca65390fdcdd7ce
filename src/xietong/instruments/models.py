"""Instruments (文书) as documents: drafts, 签发, seals, service and revocation (F5).

Rows are written by ``instruments.services`` only (``cases.services`` creates the draft that an act
calls for); every step is also an entry in the case's ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xietong.cases.models import Case
from xietong.dossier.models import Blob
from xietong.orgs.models import Unit


class InstrumentStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待签发"
    APPROVED = "approved", "已签发"
    SEALING = "sealing", "盖章中"
    SEALED = "sealed", "已盖章"
    REVOKED = "revoked", "已撤回"
    SUPERSEDED = "superseded", "已更正"


class PendingChange(models.TextChoices):
    NONE = "", "无"
    WITHDRAW = "withdraw", "撤回"
    CORRECT = "correct", "更正"


class Instrument(models.Model):
    """One legal instrument of a case. Editable while a draft; immutable once sealed: a withdrawal or
    a correction is a new act, and the sealed PDF stays verifiable for ever."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="instruments")
    kind = models.CharField("文书", max_length=50)
    action = models.CharField("所属诉讼行为", max_length=40, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        "状态", max_length=12, choices=InstrumentStatus.choices, default=InstrumentStatus.DRAFT, db_index=True
    )
    party_ids = models.JSONField("涉及人员", default=list, blank=True)
    recipient = models.CharField("主送", max_length=100, blank=True)
    body = models.TextField("正文", blank=True)
    reason = models.TextField("理由/事项", blank=True)
    claimed_date = models.DateField("成文日期（落款）", null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField("起草时间（服务器）")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField("签发时间（服务器）", null=True, blank=True)
    rejected_reason = models.CharField("退回修改意见", max_length=500, blank=True)
    # Set at sealing, in the same transaction as the 文号: a failed seal leaves no number used.
    number = models.CharField("文号", max_length=80, unique=True, null=True, blank=True)
    number_year = models.PositiveSmallIntegerField(null=True, blank=True)
    number_seq = models.PositiveIntegerField(null=True, blank=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sealed_at = models.DateTimeField("盖章时间（服务器）", null=True, blank=True)
    seal = models.ForeignKey("UnitSeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A court's own judgment document (from its trial system), sealed instead of the template text.
    source = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source_pages = models.PositiveIntegerField(null=True, blank=True)
    pdf = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    public_token = models.CharField(max_length=32, unique=True, null=True, blank=True)
    sm2_seal = models.JSONField("国密签章数据（SM2/SM3）", null=True, blank=True)
    entry_hash = models.CharField("盖章留痕", max_length=64, blank=True)
    pending_change = models.CharField(max_length=10, choices=PendingChange.choices, blank=True, default="")
    pending_reason = models.CharField(max_length=500, blank=True)
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField("撤回/更正理由", max_length=500, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    class Meta:
        verbose_name = "文书"
        verbose_name_plural = "文书"
        ordering = ["issued_at", "pk"]
        # The 文号 itself is unique; its sequence is per numbering unit (a 派出所 shares its bureau's).

    def __str__(self) -> str:
        return f"{self.kind} {self.number or '（未编号）'}"

    @property
    def is_final(self) -> bool:
        return self.status in {InstrumentStatus.SEALED, InstrumentStatus.REVOKED, InstrumentStatus.SUPERSEDED}


class NumberCounter(models.Model):
    """Per numbering unit, 文号 word (字) and year: the last sequence used (``kind`` holds the word).
    Bumped by one atomic upsert in the short transaction that writes the number onto its
    instrument, which keeps it until sealed (gap-free); two sealers never share one (unique)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE)
    kind = models.CharField(max_length=50)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "kind", "year"], name="uniq_number_counter")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.kind}/{self.year}={self.last}"


class SigningAuthority(models.Model):
    """The platform's own certification authority for unit seals (one row). Its private key is
    stored encrypted with the key-encryption key from the environment (``XIETONG_SEAL_KEK``)."""

    name = models.CharField(max_length=100)
    certificate = models.BinaryField()  # DER
    key_encrypted = models.BinaryField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class UnitSeal(models.Model):
    """A unit's electronic seal: key pair, X.509 certificate from the platform CA, and the red round
    seal image drawn for it. A revoked seal signs nothing more; what it sealed still verifies, and
    shows that the certificate was revoked and when."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="seals")
    serial = models.CharField(max_length=40, unique=True)
    certificate = models.BinaryField()  # DER
    key_encrypted = models.BinaryField()
    image_png = models.BinaryField()
    # The seal's SM2 key (GB/T 32918) for the 国密 seal data beside the PAdES signature.
    sm2_public = models.CharField(max_length=128, blank=True)
    sm2_key_encrypted = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    not_after = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.unit} #{self.serial[:8]}"


class ServiceMethod(models.TextChoices):
    ELECTRONIC = "electronic", "电子送达"
    PERSONAL = "personal", "直接送达（送达回证）"


class Service(models.Model):
    """送达: electronic to a unit (delivered at once, opened when someone of that unit first opens
    it), or on paper to a person with a 送达回证 that is scanned and uploaded back."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="services")
    method = models.CharField(max_length=12, choices=ServiceMethod.choices)
    recipient_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_name = models.CharField("受送达人", max_length=100, blank=True)
    delivered_at = models.DateTimeField("送达时间（服务器）", null=True, blank=True)
    opened_at = models.DateTimeField("签收/打开时间（服务器）", null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    receipt_signed_on = models.DateField("回证签收日期", null=True, blank=True)
    receipt_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["recipient_unit", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.instrument} → {self.recipient_unit or self.recipient_name}"


class InstrumentView(models.Model):
    """Every opening of an instrument's PDF: who, which, when (F3/F5 access log)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["instrument", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} viewed {self.instrument_id} at {self.at:%Y-%m-%d %H:%M:%S}"
