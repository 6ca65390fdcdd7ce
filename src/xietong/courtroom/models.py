"""The courtroom cloud cabinet (云柜, F6): a hearing, who takes part in which role, what every
screen shows, and the record of 举证/质证 (F6) and of a leader's private advice (F18)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xietong.cases.models import Case
from xietong.orgs.models import Unit


class Role(models.TextChoices):
    PRESIDING = "presiding", "审判长"
    JUDGE = "judge", "审判员"
    CLERK = "clerk", "书记员"
    PROSECUTOR = "prosecutor", "公诉人"
    DEFENCE = "defence", "辩护人"
    DEFENDANT = "defendant", "被告人"
    PUBLIC = "public", "公共显示屏"
    LEADER = "leader", "远程指挥"


COURT_ROLES = frozenset({Role.PRESIDING, Role.JUDGE, Role.CLERK})
PARTY_ROLES = frozenset({Role.PROSECUTOR, Role.DEFENCE})


class HearingStatus(models.TextChoices):
    OPEN = "open", "庭审中"
    DELIBERATION = "deliberation", "合议"
    CLOSED = "closed", "闭庭"


class Hearing(models.Model):
    """One sitting. ``state`` is what every screen shows (the item, page, zoom, highlight, pointer,
    playback position); ``version`` orders its changes, so a screen that reconnects catches up and a
    late message is recognised as stale."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hearings")
    court = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=15, choices=HearingStatus.choices, default=HearingStatus.OPEN)
    presenter = models.CharField("举证方", max_length=15, choices=Role.choices, default=Role.PRESIDING)
    state = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0)
    presented = models.JSONField("已出示的证据", default=list)  # item keys the public screen may show
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.title


class ScreenCode(models.Model):
    """A one-time code that joins a courtroom screen (public display, defendant's screen) without a
    login. Stored hashed; used once; expires."""

    hearing = models.ForeignKey(Hearing, on_delete=models.CASCADE, related_name="codes")
    role = models.CharField(max_length=15, choices=Role.choices)
    code_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.hearing_id}/{self.role}"


class EventKind(models.TextChoices):
    PRESENT = "present", "举证"
    CROSS = "cross", "质证意见"
    RULING = "ruling", "认证"
    TURN = "turn", "举证方变更"
    NOTE = "note", "庭审笔录"
    REFUSED = "refused", "被拒绝的操作"


class HearingEvent(models.Model):
    """The 举证质证记录 and the refused attempts (who, what, when)."""

    hearing = models.ForeignKey(Hearing, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    role = models.CharField(max_length=15, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item = models.CharField("证据", max_length=60, blank=True)
    data = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.item}"


class Advice(models.Model):
    """A leader's private advice to his own officer in court (F18): never sent to the court or the
    other parties; acknowledged by the officer."""

    hearing = models.ForeignKey(Hearing, on_delete=models.CASCADE, related_name="advice")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=1000)
    sent_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.leader_id}→{self.officer_id}"
