"""The inter-agency message board (留言板, F17): threads on a case between two units, their messages,
attachments and citations into the e-file. Rows are written only by ``board.services``; messages are
never edited or deleted (each one is a ledger entry of the case, with the hash of its text)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from xietong.cases.models import STAGE_CHOICES, Case
from xietong.dossier.models import Blob, Page
from xietong.instruments.models import Instrument
from xietong.orgs.models import Unit


class ThreadKind(models.TextChoices):
    OBJECTION = "objection", "异议"
    OPINION = "opinion", "意见"
    QUESTION = "question", "询问"


class ThreadStatus(models.TextChoices):
    """Stored states. 逾期 is not stored: it is 待答复 past ``due_at`` (see ``Thread.state``)."""

    WAITING = "waiting", "待答复"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已关闭"


OVERDUE = "overdue"
STATE_LABELS = {
    ThreadStatus.WAITING.value: "待答复",
    OVERDUE: "逾期",
    ThreadStatus.ANSWERED.value: "已答复",
    ThreadStatus.CLOSED.value: "已关闭",
}


class Thread(models.Model):
    """One objection, opinion or question from one unit to another about a case (optionally one of
    its stages or instruments), open until the opener's unit closes it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="board_threads")
    stage = models.CharField("涉及阶段", max_length=30, choices=STAGE_CHOICES, blank=True)
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="board_threads"
    )
    kind = models.CharField("类型", max_length=10, choices=ThreadKind.choices)
    subject = models.CharField("事由", max_length=200)
    from_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="board_threads_out")
    to_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="board_threads_in")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField("发起时间（服务器）")
    due_at = models.DateTimeField("答复期限", db_index=True)
    status = models.CharField(max_length=10, choices=ThreadStatus.choices, default=ThreadStatus.WAITING)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_note = models.TextField("关闭说明", blank=True)
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "留言"
        verbose_name_plural = "留言"
        ordering = ["-last_message_at"]
        indexes = [
            models.Index(fields=["to_unit", "status", "due_at"]),
            models.Index(fields=["from_unit", "status"]),
            models.Index(fields=["status", "due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_unit=models.F("to_unit")), name="board_not_to_self"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_unit_id}→{self.to_unit_id}: {self.subject}"

    def state(self, now: datetime) -> str:
        """waiting / overdue / answered / closed: 逾期 is waiting past the answer limit."""
        if self.status == ThreadStatus.WAITING and now >= self.due_at:
            return OVERDUE
        return str(self.status)

    def state_label(self, now: datetime) -> str:
        return STATE_LABELS[self.state(now)]


class Message(models.Model):
    """One message of a thread, in order. ``is_answer`` marks the addressed unit's first reply, which
    stops the answer clock."""

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    seq = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("内容")
    text_sha256 = models.CharField(max_length=64)
    is_answer = models.BooleanField(default=False)
    posted_at = models.DateTimeField("时间（服务器）")
    entry_hash = models.CharField("留痕哈希", max_length=64, blank=True)

    class Meta:
        ordering = ["thread", "seq"]
        constraints = [models.UniqueConstraint(fields=["thread", "seq"], name="uniq_board_message_seq")]

    def __str__(self) -> str:
        return f"{self.thread_id}#{self.seq}"


class Attachment(models.Model):
    """A file of a message, stored in the dossier's content-addressed blob store."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("文件名", max_length=255)

    class Meta:
        ordering = ["message", "pk"]

    def __str__(self) -> str:
        return self.name


class Citation(models.Model):
    """A reference from a message into the e-file of the same case: one page of a volume, or one
    instrument. Exactly one of the two is set."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="citations")
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["message", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(page__isnull=False) & models.Q(instrument__isnull=True))
                | (models.Q(page__isnull=True) & models.Q(instrument__isnull=False)),
                name="board_citation_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"page {self.page_id}" if self.page_id else f"instrument {self.instrument_id}"
