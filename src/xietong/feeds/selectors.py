"""Reads of the event feed: a page of events after a cursor, as one user may see them.

An event is an integrated ledger entry; its id is its Merkle leaf index, which the integrator
assigns gapless and in order under one lock. So ``after=N`` never skips an entry that committed
late (an autoincrement id would: id 7 can commit after id 8 has been read). Only leaves up to the
latest signed tree head are read, and every leaf below a visible one is committed, because the
integrator commits its batches one after another.

Visibility is evaluated when the page is read, with the case list's own selector
(``cases.selectors.case_list_visible_to``) and the timeline's rule for agency-internal entries
(``ledger.selectors.entry_hidden_from``): a unit that joins a case later sees that case's events
from then on, and a re-read of an old page may show events that were hidden the first time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from xietong.cases.selectors import case_list_visible_to, sees_everything, timeline_agency
from xietong.ledger.chain import timestamp_text
from xietong.ledger.models import MerkleLeaf, TreeHead
from xietong.ledger.selectors import entry_hidden_from
from xietong.orgs.models import Unit, User

MAX_LIMIT = 1000
# How many leaves one read looks at, visible or not: bounds the cost of a page for a subscriber who
# sees few of many events; the cursor still moves past what was looked at.
SCAN_WINDOW = 50_000
# Leaves read per query while filling a page.
CHUNK = 1000


@dataclass
class EventPage:
    events: list[dict[str, Any]]
    next: int  # the cursor to ask with next time (``after=next``)
    tail: int  # the last integrated leaf index (-1: none yet)
    tree_head: dict[str, Any] | None = field(default=None)

    @property
    def caught_up(self) -> bool:
        return self.next >= self.tail


def feed_tail() -> int:
    """The highest leaf index covered by a signed tree head (-1 when the tree is empty)."""
    size = TreeHead.objects.order_by("-size").values_list("size", flat=True).first()
    return int(size or 0) - 1


def tree_head_brief() -> dict[str, Any] | None:
    """The latest signed tree head, for a subscriber to check inclusion proofs against
    (``/api/v1/ledger/proofs/inclusion``); the public key is at ``/api/v1/ledger/tree-head``."""
    head = TreeHead.objects.order_by("-size").first()
    if head is None:
        return None
    return {
        "size": head.size,
        "root_hash": head.root_hash,
        "signed_at": head.signed_at,
        "signature": head.signature,
        "key_id": head.key_id,
    }


def event_page(
    *,
    user: User,
    after: int = -1,
    limit: int = 100,
    actions: list[str] | None = None,
    case_ids: list[int] | None = None,
    with_tree_head: bool = True,
) -> EventPage:
    """Up to ``limit`` events with leaf index > ``after`` that ``user`` may see, in order. ``next``
    is the last leaf looked at when the page is full, else the tail (or the end of the scan
    window): hidden or filtered events are stepped over, never returned later.

    Leaves are read by index range, a chunk at a time, and the visibility of the chunk's cases is
    asked of the case selector in one query: joining the visibility rule into the leaf query lets
    PostgreSQL start from the unit's cases and walk all their entries, which grows with history."""
    limit = max(1, min(limit, MAX_LIMIT))
    tail = feed_tail()
    after = max(after, -1)
    upto = min(tail, after + SCAN_WINDOW)
    if upto <= after:
        return EventPage(events=[], next=after, tail=tail)
    everything = sees_everything(user)
    viewer_agency = timeline_agency(user)
    chunk = max(limit, CHUNK)
    events: list[dict[str, Any]] = []
    low = after
    next_cursor = upto
    while low < upto:
        high = min(upto, low + chunk)
        leaves = MerkleLeaf.objects.filter(index__gt=low, index__lte=high)
        if actions:
            leaves = leaves.filter(entry__action__in=actions)
        if case_ids:
            leaves = leaves.filter(entry__case_id__in=case_ids)
        rows = list(leaves.order_by("index").values_list(*_COLUMNS))
        visible = _visible_cases(user, {r[1] for r in rows}) if rows and not everything else None
        agency_of = _agencies({r[5] for r in rows if r[5] is not None}) if rows and viewer_agency else {}
        for row in rows:
            if visible is not None and row[1] not in visible:
                continue
            event = _event(row)
            if entry_hidden_from(
                payload=event["payload"], entry_agency=agency_of.get(row[5] or 0), viewer_agency=viewer_agency
            ):
                continue
            events.append(event)
            if len(events) == limit:
                break
        if len(events) == limit:
            next_cursor = events[-1]["id"]
            break
        low = high
    return EventPage(
        events=events,
        next=next_cursor,
        tail=tail,
        tree_head=tree_head_brief() if with_tree_head else None,
    )


_COLUMNS = (
    "index",
    "entry__case_id",
    "entry__seq",
    "entry__action",
    "entry__recorded_at",
    "entry__unit_id",
    "entry__unit_name",
    "entry__actor_name",
    "entry__actor_duty",
    "entry__payload",
    "entry__entry_hash",
)


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    index, case_id, seq, action, at, unit_id, unit_name, actor, duty, payload_text, digest = row
    return {
        "id": index,
        "case_id": case_id,
        "seq": seq,
        "action": action,
        "recorded_at": timestamp_text(at),
        "unit": {"id": unit_id, "name": unit_name},
        "actor": {"name": actor, "duty": duty},
        "payload": json.loads(payload_text),
        "entry_hash": digest,
    }


def _visible_cases(user: User, case_ids: set[int]) -> set[int]:
    """Which of ``case_ids`` the user may see: the case list's own selector, asked once."""
    return set(case_list_visible_to(user=user).filter(pk__in=case_ids).values_list("pk", flat=True))


def _agencies(unit_ids: set[int]) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "agency"))


def subscription_list_for(*, user: User) -> Any:
    """The user's own subscriptions; administrators see all."""
    from xietong.feeds.models import Subscription
    from xietong.orgs.models import Duty

    qs = Subscription.objects.select_related("owner")
    return qs if user.has_duty(Duty.ADMIN) else qs.filter(owner=user)


def dead_letter_list(*, user: User, pending_only: bool = False) -> Any:
    """Dead letters of the user's subscriptions (administrators: all), newest first."""
    from xietong.feeds.models import DeadLetter
    from xietong.orgs.models import Duty

    qs = DeadLetter.objects.select_related("subscription")
    if not user.has_duty(Duty.ADMIN):
        qs = qs.filter(subscription__owner=user)
    if pending_only:
        qs = qs.filter(replayed_at__isnull=True)
    return qs
