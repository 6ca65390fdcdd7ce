"""Reads of the message board, always scoped: a thread is seen by the two units it is between (and
the leaders of a subtree holding either, 政法委 and administrators, like cases), and only while the
case itself is visible to the reader (F1). A thread the user may not see is a 404."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from xietong import servertime
from xietong.board.models import OVERDUE, Attachment, Citation, Message, Thread, ThreadStatus
from xietong.cases.models import Case, Participation
from xietong.cases.procedure import LEADERS
from xietong.cases.selectors import case_list_visible_to, sees_everything
from xietong.dossier.models import Volume, VolumeStatus
from xietong.errors import NotFound
from xietong.instruments.models import Instrument
from xietong.orgs.models import Agency, Unit, User

BOXES = ("in", "out", "all")


def _unit_filter(user: User) -> Q:
    unit = user.unit
    if unit is None:
        return Q(pk__in=[])
    if user.has_duty(*LEADERS):
        return Q(from_unit__path__startswith=unit.path) | Q(to_unit__path__startswith=unit.path)
    return Q(from_unit=unit) | Q(to_unit=unit)


def thread_list_visible_to(*, user: User) -> QuerySet[Thread]:
    """Every thread the user may read."""
    qs = Thread.objects.all()
    if sees_everything(user):
        return qs
    return qs.filter(_unit_filter(user), case__in=case_list_visible_to(user=user))


def thread_get_visible(*, user: User, thread_id: int) -> Thread:
    thread = (
        thread_list_visible_to(user=user)
        .select_related("case", "from_unit", "to_unit", "opened_by", "closed_by", "instrument")
        .filter(pk=thread_id)
        .first()
    )
    if thread is None:
        raise NotFound("留言不存在或无权查看", code="thread_not_found")
    return thread


def threads_of_case(*, user: User, case: Case) -> list[Thread]:
    """The threads of one case the user may read, open ones first, newest activity first."""
    return list(
        thread_list_visible_to(user=user)
        .filter(case=case)
        .select_related("from_unit", "to_unit")
        .order_by("closed_at", "-last_message_at")
    )


def board_inbox(*, user: User, box: str = "in", state: str = "") -> QuerySet[Thread]:
    """Threads addressed to (``in``), opened by (``out``) or either (``all``) the user's own unit;
    ``state`` narrows to waiting / overdue / answered / closed. 政法委 and administrators see every
    thread under ``all``."""
    unit = user.unit
    if box == "all" and sees_everything(user):
        qs = Thread.objects.all()
    elif unit is None:
        return Thread.objects.none()
    elif box == "out":
        qs = Thread.objects.filter(from_unit=unit)
    elif box == "all":
        qs = Thread.objects.filter(Q(from_unit=unit) | Q(to_unit=unit))
    else:
        qs = Thread.objects.filter(to_unit=unit)
    now = servertime.now()
    if state == OVERDUE:
        qs = qs.filter(status=ThreadStatus.WAITING, due_at__lte=now)
    elif state == ThreadStatus.WAITING:
        qs = qs.filter(status=ThreadStatus.WAITING, due_at__gt=now)
    elif state in {ThreadStatus.ANSWERED, ThreadStatus.CLOSED}:
        qs = qs.filter(status=state)
    return qs.select_related("case", "from_unit", "to_unit").order_by("closed_at", "due_at", "-pk")


def waiting_count(*, user: User) -> int:
    """Threads addressed to the user's unit still waiting for its answer (the nav badge). One
    COUNT over the (to_unit, status, due_at) index: the addressed unit has a role in the case, so no
    visibility join is needed."""
    if not user.is_authenticated or user.unit_id is None:
        return 0
    return Thread.objects.filter(to_unit_id=user.unit_id, status=ThreadStatus.WAITING).count()


def waiting_for_unit(*, user: User, limit: int = 10) -> list[Thread]:
    """The workbench's 待答复留言: the oldest deadlines first."""
    if user.unit_id is None:
        return []
    return list(
        Thread.objects.filter(to_unit_id=user.unit_id, status=ThreadStatus.WAITING)
        .select_related("case", "from_unit")
        .order_by("due_at")[:limit]
    )


def messages_of(*, thread: Thread) -> list[Message]:
    """The messages of a thread the caller already checked, with their files and citations (four
    queries whatever the number of messages)."""
    return list(
        Message.objects.filter(thread=thread)
        .select_related("author", "unit")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.select_related("blob")),
            Prefetch(
                "citations", queryset=Citation.objects.select_related("page", "page__volume", "instrument")
            ),
        )
        .order_by("seq")
    )


def addressable_units(*, user: User, case: Case) -> list[Unit]:
    """Units the user may address on this case: those with a role in it (F1 participation), except
    his own; 政法委 may address any unit."""
    own = user.unit_id
    if own is None:
        return []
    if user.unit is not None and user.unit.agency == Agency.COMMITTEE:
        qs = Unit.objects.exclude(pk=own)
    else:
        qs = Unit.objects.filter(pk__in=Participation.objects.filter(case=case).values("unit_id")).exclude(
            pk=own
        )
    return list(qs.order_by("agency", "path"))


@dataclass
class CitationChoices:
    volumes: list[Volume]
    instruments: list[Instrument]


def citation_choices(*, case: Case) -> CitationChoices:
    """What a message on ``case`` may cite: its volumes that have pages, and its instruments."""
    volumes = list(
        Volume.objects.filter(case=case, pages_rendered__gt=0)
        .exclude(status=VolumeStatus.FAILED)
        .only("id", "number", "title", "pages_rendered", "page_count")
        .order_by("number")
    )
    instruments = list(
        Instrument.objects.filter(case=case).only("id", "kind", "number", "status").order_by("pk")
    )
    return CitationChoices(volumes=volumes, instruments=instruments)


def attachment_get_visible(*, user: User, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_related("blob", "message").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("附件不存在或无权查看", code="attachment_not_found")
    thread_get_visible(user=user, thread_id=attachment.message.thread_id)
    return attachment
