"""The one door for writes to review reports (F4): create (prefilled from the case), save (versions,
autosave coalescing, conflict detection), restore an old version, finalise (ledger).

Each call authorises before it writes and raises before anything is written when it refuses:
NotFound (404) if the user may not see the case, NotAllowed (403) if he sees it but may not do this,
Conflict (409) for a stale version or a finalised report, ValidationFailed (400) for a bad body.
How versions and coalescing work is told in ``review.models``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from xietong import servertime, tasks
from xietong.cases.models import Case
from xietong.cases.selectors import case_get_visible
from xietong.dossier.models import Page, Volume
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.instruments.models import Instrument
from xietong.ledger.selectors import case_timeline
from xietong.ledger.services import Actor, actor_of, ledger_append
from xietong.orgs.models import Duty, User
from xietong.review import document, selectors
from xietong.review.models import COALESCE_WINDOW, Report, ReportKind, ReportStatus, ReportVersion
from xietong.review.templates_catalog import CaseFacts, EventFacts, Kind, PartyFacts, VolumeFacts, prefill

# Timeline entries that are not steps of the procedure (they stay out of 发破案经过).
_NOT_PROCEDURE = ("report_", "volume_", "catalogue_", "request:", "reject:", "instrument_", "hearing_")


@dataclass
class SaveResult:
    report: Report
    version: ReportVersion
    changed: bool  # the content differed from the head
    created: bool  # a new version was made (otherwise: coalesced, or nothing to do)

    def as_dict(self) -> dict[str, Any]:
        saved = timezone.localtime(self.version.saved_at)
        return {
            "report_id": self.report.pk,
            "version": self.version.number,
            "revision": self.report.revision,
            "autosave": self.version.autosave,
            "changed": self.changed,
            "created": self.created,
            "saved_at": saved.isoformat(),
            "saved_time": f"{saved:%H:%M:%S}",
            "sha256": self.version.sha256,
        }


def _actor(user: User) -> Actor:
    return actor_of(user, preferred=(Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER))


def _instrument_text(instrument: dict[str, Any], numbers: dict[int, str | None]) -> str:
    """「立案决定书（苏姑苏公(刑)立字〔2026〕1号）」 once sealed, the kind alone while a draft: the act's
    entry names the instrument, its 文号 comes with the seal."""
    if not instrument:
        return ""
    number = instrument.get("number") or numbers.get(instrument.get("id") or 0)
    return f"{instrument['kind']}（{number}）" if number else str(instrument["kind"])


def _lock_case(case_id: int) -> None:
    # Join-free, as cases.services does: the ledger chain of a case is appended under this lock.
    if not Case.objects.select_for_update().filter(pk=case_id).exists():
        raise NotFound("案件不存在", code="case_not_found")


def _after_commit() -> None:
    transaction.on_commit(lambda: tasks.request("ledger.integrate"))


# ---------------------------------------------------------------- create


def case_facts(case: Case, author: User) -> CaseFacts:
    """What the templates need to know of the case, read from the case, its suspects, its
    timeline (ledger) and its file."""
    parties = tuple(
        PartyFacts(
            name=p.name,
            gender=p.gender,
            birth_date=p.birth_date,
            id_number=p.id_number,
            address=p.address,
            custody=p.custody,
            custody_since=timezone.localdate(p.custody_since) if p.custody_since else None,
        )
        for p in case.parties.all()
    )
    events = []
    timeline = [r for r in case_timeline(case_id=case.pk) if not r["action"].startswith(_NOT_PROCEDURE)]
    numbers = dict(Instrument.objects.filter(case=case, number__isnull=False).values_list("pk", "number"))
    for row in timeline:
        instrument = row.get("instrument") or {}
        events.append(
            EventFacts(
                day=timezone.localdate(row["at"]),
                action=row["action"],
                label=row["label"],
                unit=row["unit"],
                instrument=_instrument_text(instrument, numbers),
                parties=tuple(row.get("parties") or ()),
            )
        )
    volumes = tuple(
        VolumeFacts(number=v.number, title=v.title, pages=v.page_count)
        for v in Volume.objects.filter(case=case).order_by("number")
    )
    return CaseFacts(
        number=case.number,
        title=case.title,
        charge=case.charge,
        facts=case.facts,
        occurred_on=timezone.localdate(case.occurred_at) if case.occurred_at else None,
        place=_place(case),
        police_unit=case.police_unit.name,
        reviewing_unit=author.unit.name if author.unit else "",
        author=author.full_name or author.username,
        plea=case.plea,
        fast_track=case.fast_track,
        parties=parties,
        events=tuple(events),
        volumes=volumes,
    )


def _place(case: Case) -> str:
    town = case.town.name
    county = "" if town.startswith(case.county.name) else case.county.name
    return f"{county}{town}{case.place}"


def report_create(*, user: User, case_id: int, kind: str) -> Report:
    """A new report of ``kind`` on the case, its first version prefilled from the case's data."""
    if kind not in ReportKind.values:
        raise ValidationFailed("未知的报告类型", code="unknown_kind")
    with transaction.atomic():
        case = case_get_visible(user=user, case_id=case_id)  # NotFound when not visible
        _lock_case(case.pk)
        case.refresh_from_db(fields=["holder_unit", "stage"])
        refusal = selectors.create_refusal(user, case, kind)
        if refusal is not None:
            raise refusal
        unit = user.unit
        if unit is None:  # create_refusal has refused already; this tells the type checker
            raise NotAllowed("您不属于任何单位", code="no_unit")
        body = document.clean_body(prefill(Kind(kind), case_facts(case, user)))
        now = servertime.now()
        report = Report.objects.create(
            case=case,
            kind=kind,
            title=body["title"],
            author=user,
            unit=unit,
            created_at=now,
            updated_at=now,
        )
        ReportVersion.objects.create(
            report=report,
            number=1,
            body=body,
            sha256=document.body_sha256(body),
            created_at=now,
            saved_at=now,
            saved_by=user,
        )
        ledger_append(
            case_id=case.pk,
            actor=_actor(user),
            action="report_create",
            payload={
                "label": f"新建{ReportKind(kind).label}",
                "report_id": report.pk,
                "title": report.title,
                "scope": "agency",  # an internal paper: shown on the timeline to its own agency only
            },
        )
        _after_commit()
        return report


# ---------------------------------------------------------------- save


def _lock_report_for_edit(user: User, report_id: int) -> Report:
    """Lock the report row, then authorise: NotFound / NotAllowed / Conflict (finalised)."""
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound("报告不存在", code="report_not_found")
    case_get_visible(user=user, case_id=report.case_id)
    if not selectors.may_edit(user, report):
        if selectors.may_read(user, report):
            raise NotAllowed("只有撰写单位的承办人可以修改本报告", code="report_read_only")
        raise NotAllowed("审查报告仅限撰写单位查看", code="report_forbidden")
    if report.status == ReportStatus.FINAL:
        raise Conflict("报告已定稿，不能再修改", code="report_final")
    return report


def _check_version(report: Report, expected_version: int, expected_revision: int | None) -> None:
    stale = expected_version != report.current_version or (
        expected_revision is not None and expected_revision != report.revision
    )
    if stale:
        raise Conflict(
            f"报告已在别处被修改（现为第{report.current_version}版），请重新载入后再编辑",
            code="version_conflict",
            details={"current_version": report.current_version, "revision": report.revision},
        )


def _check_citations(case_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Every quotation must cite pages of this case's file; the volume and page numbers are taken
    from the file, so a citation always says where the text really is."""
    quotes = document.quotations(body)
    if not quotes:
        return body
    ids = {q["page_id"] for q in quotes} | {q["end_page_id"] for q in quotes if "end_page_id" in q}
    pages = {
        p.pk: p for p in Page.objects.filter(pk__in=ids, volume__case_id=case_id).select_related("volume")
    }
    for quote in quotes:
        page = pages.get(quote["page_id"])
        end = pages.get(quote["end_page_id"]) if "end_page_id" in quote else page
        if page is None or end is None or end.volume_id != page.volume_id or end.number < page.number:
            raise ValidationFailed("引文所注的卷宗页不属于本案", code="citation_invalid")
        quote["volume_id"], quote["volume_number"] = page.volume_id, page.volume.number
        quote["page_number"] = page.number
        if "end_page_id" in quote:
            quote["end_page_number"] = end.number
    return body


def report_save(
    *,
    user: User,
    report_id: int,
    body: Any,
    expected_version: int,
    autosave: bool = False,
    expected_revision: int | None = None,
) -> SaveResult:
    """Save the editor's content over head version ``expected_version`` (and, if given, write
    ``expected_revision``; the web editor always gives both). A manual save that changes something,
    or follows autosaves, makes a new version; an autosave makes one only when the content changed,
    and goes into the head instead while that head is the same person's autosave less than
    ``COALESCE_WINDOW`` old. A stale version or revision is a Conflict (409) and writes nothing."""
    try:
        clean = document.clean_body(body)
    except document.BodyInvalid as exc:
        raise ValidationFailed(str(exc), code="body_invalid") from exc
    with transaction.atomic():
        report = _lock_report_for_edit(user, report_id)
        _check_version(report, expected_version, expected_revision)
        clean = _check_citations(report.case_id, clean)
        digest = document.body_sha256(clean)
        head = ReportVersion.objects.get(report=report, number=report.current_version)
        now = servertime.now()
        if digest == head.sha256 and (autosave or not head.autosave):
            return SaveResult(report=report, version=head, changed=False, created=False)
        changed = digest != head.sha256
        coalesce = (
            autosave
            and head.autosave
            and head.saved_by_id == user.pk
            and head.number > 1
            and now - head.created_at < COALESCE_WINDOW
        )
        if coalesce:
            head.body, head.sha256, head.saved_at, head.saves = clean, digest, now, head.saves + 1
            head.save(update_fields=["body", "sha256", "saved_at", "saves"])
            version, created = head, False
        else:
            version = ReportVersion.objects.create(
                report=report,
                number=report.current_version + 1,
                body=clean,
                sha256=digest,
                created_at=now,
                saved_at=now,
                saved_by=user,
                autosave=autosave,
            )
            created = True
        report.current_version = version.number
        report.revision += 1
        report.title = clean["title"]
        report.updated_at = now
        report.save(update_fields=["current_version", "revision", "title", "updated_at"])
        return SaveResult(report=report, version=version, changed=changed, created=created)


def report_restore(
    *, user: User, report_id: int, number: int, expected_version: int, expected_revision: int | None = None
) -> SaveResult:
    """Make an old version's content the new head (a manual save; the versions between stay)."""
    report = selectors.report_get_visible(user=user, report_id=report_id)  # NotFound / NotAllowed
    old = selectors.version_get(report=report, number=number)
    return report_save(
        user=user,
        report_id=report_id,
        body=old.body,
        expected_version=expected_version,
        expected_revision=expected_revision,
        autosave=False,
    )


# ---------------------------------------------------------------- finalise


def report_finalise(*, user: User, report_id: int, expected_version: int) -> Report:
    """定稿: the head version becomes final and can no longer be changed; the ledger records the
    SHA-256 of its body (``document.canonical_json``), so the text handed on can be proved."""
    case_id = Report.objects.filter(pk=report_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound("报告不存在", code="report_not_found")
    with transaction.atomic():
        case_get_visible(user=user, case_id=case_id)
        _lock_case(case_id)  # the case row first, as every ledger writer does
        report = _lock_report_for_edit(user, report_id)
        _check_version(report, expected_version, None)
        head = ReportVersion.objects.get(report=report, number=report.current_version)
        now: datetime = servertime.now()
        report.status = ReportStatus.FINAL
        report.finalised_at, report.finalised_by = now, user
        report.final_sha256 = head.sha256
        report.revision += 1
        report.updated_at = now
        report.save(
            update_fields=["status", "finalised_at", "finalised_by", "final_sha256", "revision", "updated_at"]
        )
        ledger_append(
            case_id=case_id,
            actor=_actor(user),
            action="report_finalise",
            payload={
                "label": f"{ReportKind(report.kind).label}定稿",
                "report_id": report.pk,
                "title": report.title,
                "version": head.number,
                "sha256": head.sha256,
                "scope": "agency",
            },
        )
        _after_commit()
        return report
