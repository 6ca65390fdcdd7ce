"""Writes of the event feed: subscriptions, the delivery loop, dead letters and their replay.

Delivery is at-least-once and in order per subscription:

1. *claim* — in a short transaction, take due subscriptions with ``select_for_update(skip_locked=
   True)`` and stamp a lease (token + expiry) on them, so several workers on several machines share
   the subscriptions without two sending the same one at once;
2. *send* — outside any transaction (no row lock or SQLite write lock is held across the network):
   read the page after the cursor, POST it or publish it;
3. *record* — in one transaction, advance the cursor and record the attempt, only if the lease is
   still ours and the cursor still where we read it.

A crash between 2 and 3 leaves the cursor where it was; when the lease expires the same events are
sent again, and the receiver drops what it already has by event id (the leaf index). A failure
backs off exponentially with jitter; after ``XIETONG_FEEDS_MAX_ATTEMPTS`` attempts or
``XIETONG_FEEDS_MAX_AGE_SECONDS`` the batch becomes a ``DeadLetter`` and the cursor moves on."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from xietong import servertime
from xietong.errors import NotAllowed, NotFound, ValidationFailed
from xietong.feeds import transport
from xietong.feeds.models import DeadLetter, Subscription, SubscriptionKind, SubscriptionStatus
from xietong.feeds.selectors import EventPage, event_page, feed_tail
from xietong.ledger.models import LedgerEntry, MerkleLeaf
from xietong.ledger.services import ledger_integrate
from xietong.orgs.models import Duty, User

logger = logging.getLogger(__name__)

DELIVER_EVERY_SECONDS = 1.0
BACKOFF_BASE_SECONDS = 1.0
# Subscriptions one worker takes per claim: the others stay free for other workers.
CLAIM_SIZE = 10


def _lease_seconds() -> float:
    # A lease outlives the longest send (timeout of the POST or of the broker), so a live worker
    # never loses its subscription to another mid-send.
    return 3.0 * settings.XIETONG_FEEDS_TIMEOUT_SECONDS + 5.0


# ---------------------------------------------------------------- subscriptions


def subscription_create(
    *,
    owner: User,
    name: str,
    kind: str = SubscriptionKind.WEBHOOK,
    url: str,
    topic: str = "",
    secret: str | None = None,
    actions: Iterable[str] = (),
    case_ids: Iterable[int] = (),
    after: int | None = None,
) -> Subscription:
    """Subscribe ``owner`` (whose visibility filters the events) from ``after`` on (default: now,
    the current tail; -1: from the first event ever). A webhook gets a random secret unless one is
    given; it is shown once, in the answer to the creating call."""
    if kind not in SubscriptionKind.values:
        raise ValidationFailed("订阅方式只能是 webhook 或 broker", code="bad_kind")
    if not name.strip():
        raise ValidationFailed("请填写订阅名称", code="name_required")
    if not transport.url_is_valid(kind, url):
        raise ValidationFailed("地址无效：网络回调须为 http(s)://，消息代理须为 amqp://", code="bad_url")
    if not transport.host_is_allowed(url, settings.XIETONG_FEEDS_ALLOWED_HOSTS):
        raise ValidationFailed("该地址不在允许推送的主机名单内，请联系管理员登记", code="url_not_allowed")
    if after is not None and after < -1:
        raise ValidationFailed("after 须为 -1 或更大的整数", code="bad_cursor")
    if secret is None:
        secret = secrets.token_urlsafe(32) if kind == SubscriptionKind.WEBHOOK else ""
    now = servertime.now()
    return Subscription.objects.create(
        owner=owner,
        name=name.strip()[:100],
        kind=kind,
        url=url,
        topic=topic,
        secret=secret,
        actions=sorted({str(a) for a in actions}),
        case_ids=sorted({int(c) for c in case_ids}),
        cursor=feed_tail() if after is None else after,
        next_attempt_at=now,
        created_at=now,
    )


def _own(user: User, subscription_id: int) -> Subscription:
    sub = Subscription.objects.filter(pk=subscription_id).first()
    if sub is None or (sub.owner_id != user.pk and not user.has_duty(Duty.ADMIN)):
        raise NotFound("订阅不存在", code="subscription_not_found")
    return sub


@transaction.atomic
def subscription_set_status(*, user: User, subscription_id: int, status: str) -> Subscription:
    """Pause or resume. Resuming clears the backoff, so the next round delivers at once."""
    if status not in SubscriptionStatus.values:
        raise ValidationFailed("状态只能是 active 或 paused", code="bad_status")
    sub = _own(user, subscription_id)
    Subscription.objects.filter(pk=sub.pk).update(
        status=status, failures=0, first_failed_at=None, next_attempt_at=servertime.now()
    )
    sub.refresh_from_db()
    return sub


@transaction.atomic
def subscription_rewind(*, user: User, subscription_id: int, after: int) -> Subscription:
    """Move the cursor (back, to receive events again; or forward, to skip them). Receivers that
    dedupe by event id are unaffected by a rewind."""
    if after < -1:
        raise ValidationFailed("after 须为 -1 或更大的整数", code="bad_cursor")
    sub = _own(user, subscription_id)
    Subscription.objects.filter(pk=sub.pk).update(
        cursor=after, failures=0, first_failed_at=None, next_attempt_at=servertime.now()
    )
    sub.refresh_from_db()
    return sub


def subscription_delete(*, user: User, subscription_id: int) -> None:
    _own(user, subscription_id).delete()


# ---------------------------------------------------------------- delivery


@dataclass
class _Claim:
    pk: int
    token: str


def integrate_pending() -> int:
    """Integrate entries newer than the last leaf, so that events are deliverable at once instead
    of at the next ``ledger.integrate`` run. One batch, not "until nothing is pending": under a
    steady stream of acts that loop chases the writers and holds delivery back. Cheap when nothing
    is pending (two indexed reads). An entry that commits late with a lower id than the last
    integrated one is left to the regular integrator (on commit, and every round of
    ``xietong worker``). Returns the number of entries integrated."""
    last = MerkleLeaf.objects.order_by("-index").values_list("entry_id", flat=True).first()
    pending = LedgerEntry.objects.filter(id__gt=last) if last is not None else LedgerEntry.objects.all()
    if not pending.exists():
        return 0
    before = feed_tail()
    head = ledger_integrate()
    return int(head.size) - 1 - before if head is not None else 0


def _due(now: datetime, tail: int) -> Any:
    return (
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, next_attempt_at__lte=now, cursor__lt=tail
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_attempt_at", "pk")
    )


def _claim(now: datetime, limit: int) -> list[_Claim]:
    """Lease up to ``limit`` due subscriptions that are behind the tail. The first look is outside
    a transaction, so an idle loop writes nothing (on SQLite a write transaction locks the file)."""
    tail = feed_tail()
    if not _due(now, tail).exists():
        return []
    lease_until = now + timedelta(seconds=_lease_seconds())
    with transaction.atomic():
        ids = list(_due(now, tail).select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        claims = [_Claim(pk, secrets.token_hex(8)) for pk in ids]
        for claim in claims:
            Subscription.objects.filter(pk=claim.pk).update(leased_until=lease_until, lease_token=claim.token)
    return claims


def feeds_deliver_due(*, max_rounds: int = 1000) -> int:
    """One pass of the delivery worker: integrate what is pending, then deliver to every due
    subscription until none has anything left (or ``max_rounds`` batches). Returns the number of
    events delivered. Run by ``xietong worker``, the embedded worker and ``xietong feeds deliver``."""
    try:
        integrate_pending()
    except Exception:  # a failing integrator must not stop delivery of what is already integrated
        logger.exception("ledger integration before delivery failed")
    delivered = 0
    rounds = 0
    while rounds < max_rounds:
        claims = _claim(servertime.now(), CLAIM_SIZE)
        if not claims:
            break
        rounds += len(claims)
        sent, busy = _deliver_round(claims)
        delivered += sent
        if not busy:
            break
    return delivered


def deliver_claimed(subscription_id: int, token: str) -> tuple[int, bool]:
    """Send the next batch of one subscription we hold the lease of. Returns (events delivered,
    whether more may be waiting)."""
    return _deliver_round([_Claim(subscription_id, token)])


def _deliver_round(claims: list[_Claim]) -> tuple[int, bool]:
    """One batch for each claimed subscription: read the pages (once per owner, filters and
    cursor: several systems of one unit share the read), send them side by side (the waits on
    the receivers overlap), then record every outcome in one transaction."""
    tokens = {c.pk: c.token for c in claims}
    subs = list(Subscription.objects.select_related("owner__unit").filter(pk__in=tokens).order_by("pk"))
    pages: dict[tuple[Any, ...], EventPage] = {}
    work: list[tuple[Subscription, EventPage]] = []
    for sub in subs:
        key = (sub.owner_id, tuple(sub.actions), tuple(sub.case_ids), sub.cursor)
        if key not in pages:
            pages[key] = event_page(
                user=sub.owner,
                after=sub.cursor,
                limit=settings.XIETONG_FEEDS_BATCH,
                actions=sub.actions or None,
                case_ids=sub.case_ids or None,
            )
        work.append((sub, pages[key]))
    to_send = [(sub, page) for sub, page in work if page.events]
    outcomes: dict[int, str | transport.DeliveryFailed] = {}
    if len(to_send) == 1:
        outcomes[to_send[0][0].pk] = _send_or_fail(*to_send[0])
    elif to_send:
        for (sub, _), outcome in zip(to_send, _pool().map(lambda w: _send_or_fail(*w), to_send), strict=True):
            outcomes[sub.pk] = outcome
    delivered, busy = 0, False
    with transaction.atomic():
        for sub, page in work:
            outcome = outcomes.get(sub.pk, "")
            if isinstance(outcome, transport.DeliveryFailed):
                _record_failure(sub, tokens[sub.pk], page, str(outcome))
                continue
            _record_success(sub, tokens[sub.pk], page, sent=len(page.events), status=outcome)
            delivered += len(page.events)
            busy |= not page.caught_up
    return delivered, busy


_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=CLAIM_SIZE, thread_name_prefix="xietong-feeds-send")
    return _executor


def _send_or_fail(sub: Subscription, page: EventPage) -> str | transport.DeliveryFailed:
    try:
        return _send(sub, page)
    except transport.DeliveryFailed as exc:
        return exc


def _send(sub: Subscription, page: EventPage) -> str:
    if sub.kind == SubscriptionKind.BROKER:
        transport.broker_publish(url=sub.url, exchange=sub.topic, secret=sub.secret, events=page.events)
        return "committed"
    payload = {
        "subscription": sub.pk,
        "events": page.events,
        "next": page.next,
        "tree_head": page.tree_head,
    }
    first, last = page.events[0]["id"], page.events[-1]["id"]
    code = transport.webhook_post(
        url=sub.url, secret=sub.secret, payload=payload, delivery_id=f"{sub.pk}:{first}-{last}"
    )
    return f"HTTP {code}"


def _record_success(sub: Subscription, token: str, page: EventPage, *, sent: int, status: str) -> None:
    now = servertime.now()
    with transaction.atomic():
        fields: dict[str, Any] = {
            "cursor": page.next,
            "leased_until": None,
            "lease_token": "",
            "next_attempt_at": now,
        }
        if sent:
            fields.update(
                failures=0,
                first_failed_at=None,
                last_attempt_at=now,
                last_status=status,
                last_error="",
                delivered_count=F("delivered_count") + sent,
            )
        updated = Subscription.objects.filter(pk=sub.pk, lease_token=token, cursor=sub.cursor).update(
            **fields
        )
    if not updated and sent:
        logger.warning("subscription %s: lease lost during delivery; the batch may be sent twice", sub.pk)


def _backoff(failures: int) -> float:
    """Exponential, capped, with full jitter in the upper half: retries of many subscriptions that
    failed together (a receiver restarting) do not come back in one burst."""
    cap = float(settings.XIETONG_FEEDS_BACKOFF_CAP_SECONDS)
    delay = min(cap, BACKOFF_BASE_SECONDS * 2 ** max(0, failures - 1))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not a secret)


def _record_failure(sub: Subscription, token: str, page: EventPage, error: str) -> None:
    now = servertime.now()
    failures = sub.failures + 1
    first_failed = sub.first_failed_at or now
    too_old = (now - first_failed).total_seconds() >= settings.XIETONG_FEEDS_MAX_AGE_SECONDS
    with transaction.atomic():
        mine = Subscription.objects.filter(pk=sub.pk, lease_token=token, cursor=sub.cursor)
        if failures >= settings.XIETONG_FEEDS_MAX_ATTEMPTS or too_old:
            if not mine.select_for_update().exists():
                return
            DeadLetter.objects.create(
                subscription=sub,
                first_index=page.events[0]["id"],
                last_index=page.events[-1]["id"],
                events=page.events,
                last_error=error,
                attempts=failures,
                created_at=now,
            )
            mine.update(
                cursor=page.next,
                failures=0,
                first_failed_at=None,
                next_attempt_at=now,
                leased_until=None,
                lease_token="",
                last_attempt_at=now,
                last_status="dead_letter",
                last_error=error,
            )
            logger.warning(
                "subscription %s: batch %s moved to the dead letters", sub.pk, page.events[0]["id"]
            )
            return
        mine.update(
            failures=failures,
            first_failed_at=first_failed,
            next_attempt_at=now + timedelta(seconds=_backoff(failures)),
            leased_until=None,
            lease_token="",
            last_attempt_at=now,
            last_status="failed",
            last_error=error,
        )


# ---------------------------------------------------------------- dead letters


def dead_letter_replay(*, user: User, dead_letter_id: int) -> DeadLetter:
    """Send a dead letter again, as it was (re-signed now), to its subscription's current address.
    The events are older than the subscription's cursor: receivers that dedupe by event id take
    them whenever they come. A failed replay keeps the letter, with the error."""
    letter = DeadLetter.objects.select_related("subscription").filter(pk=dead_letter_id).first()
    if letter is None or (letter.subscription.owner_id != user.pk and not user.has_duty(Duty.ADMIN)):
        raise NotFound("死信不存在", code="dead_letter_not_found")
    if letter.replayed_at is not None:
        raise NotAllowed("该死信已重放成功", code="dead_letter_replayed")
    sub = letter.subscription
    events: list[dict[str, Any]] = list(letter.events)
    try:
        if sub.kind == SubscriptionKind.BROKER:
            transport.broker_publish(url=sub.url, exchange=sub.topic, secret=sub.secret, events=events)
        else:
            transport.webhook_post(
                url=sub.url,
                secret=sub.secret,
                payload={"subscription": sub.pk, "events": events, "next": None, "replay": letter.pk},
                delivery_id=f"{sub.pk}:{letter.first_index}-{letter.last_index}:replay{letter.pk}",
            )
    except transport.DeliveryFailed as exc:
        DeadLetter.objects.filter(pk=letter.pk).update(attempts=F("attempts") + 1, replay_error=str(exc))
        letter.refresh_from_db()
        return letter
    DeadLetter.objects.filter(pk=letter.pk).update(
        attempts=F("attempts") + 1, replayed_at=servertime.now(), replay_error=""
    )
    letter.refresh_from_db()
    return letter
