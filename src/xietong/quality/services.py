"""Writes of 网上案件评查 (F16): campaigns, the draw, assignment of cross-district reviewers, machine
pre-screening, defects with their screenshots, the score, and the handling unit's answers.

Every function authorises, validates, then writes in one transaction; submitting a review and
answering a defect also append to the case's ledger (under the case row lock, like every writer of
a case's chain). A refused call writes nothing."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from xietong import servertime
from xietong.cases.models import Case, Clock, Participation
from xietong.cases.procedure import ACTIONS
from xietong.dossier import blobs
from xietong.dossier.models import Blob, CatalogueEntry, OcrStatus, Page, Volume, VolumeStatus
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.instruments.models import Instrument, InstrumentView
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import Actor, actor_of, ledger_append
from xietong.orgs.models import Agency, Duty, Unit, User
from xietong.quality import draw, prescreen, standards
from xietong.quality.models import (
    Campaign,
    CampaignCase,
    CampaignReviewer,
    CampaignStatus,
    Defect,
    DefectStatus,
    Finding,
    FindingStatus,
    ReviewStatus,
)
from xietong.quality.selectors import (
    campaign_manageable,
    county_of_unit,
    may_organise,
    reviewable_units,
)

REVIEWER_DUTIES = (Duty.REVIEWER, Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER)
ANSWER_DUTIES = (Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER)
MIN_RECT = 8  # px: a smaller rectangle is a slip of the mouse, not a marked region
CROP_MAX_SIDE = 1600
MAX_PER_UNIT = 200


def _actor(user: User) -> Actor:
    return actor_of(user, preferred=[Duty.REVIEWER, Duty.LEADER, Duty.DEPT_HEAD, Duty.HANDLER])


def _lock_case(case_id: int) -> None:
    """Every writer of a case's ledger chain locks the case row first (``ledger_append``)."""
    Case.objects.select_for_update().filter(pk=case_id).first()


# ---------------------------------------------------------------- campaigns


@dataclass
class CampaignInput:
    name: str
    period_start: date
    period_end: date
    unit_ids: list[int]
    rules: list[str]
    per_unit: int
    seed: int
    with_file_only: bool = True


def campaign_create(*, user: User, data: CampaignInput) -> Campaign:
    """A leader of a police unit, procuratorate or court (or the 政法委) opens a campaign over units
    he oversees; 政法委 campaigns may span agencies."""
    if not may_organise(user):
        raise NotAllowed("只有公安机关、检察院、法院的负责人或政法委可以组织案件评查", code="not_organiser")
    unit = user.unit
    if unit is None:  # may_organise says no; for the type checker
        raise NotAllowed("您不属于任何单位", code="no_unit")
    name = data.name.strip()
    if not name:
        raise ValidationFailed("请填写评查活动名称", code="name_required")
    if data.period_start > data.period_end:
        raise ValidationFailed("评查期间的开始日期不能晚于结束日期", code="period_invalid")
    unknown = [r for r in data.rules if r not in draw.RULES]
    if unknown:
        raise ValidationFailed(f"未知的抽查规则：{'、'.join(unknown)}", code="rule_unknown")
    if not 0 <= data.per_unit <= MAX_PER_UNIT:
        raise ValidationFailed(
            f"每单位抽取件数应在 0 至 {MAX_PER_UNIT} 之间（0 为全部）", code="per_unit_invalid"
        )
    if data.seed < 0:
        raise ValidationFailed("随机种子应为非负整数", code="seed_invalid")
    ids = set(data.unit_ids)
    if not ids:
        raise ValidationFailed("请至少选择一个被评查单位", code="units_required")
    units = list(reviewable_units(user).filter(pk__in=ids))
    if len(units) != len(ids):
        raise NotAllowed("所选单位不在您可组织评查的范围内", code="unit_out_of_scope")
    now = servertime.now()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name[:100],
            organiser=user,
            organiser_unit=unit,
            period_start=data.period_start,
            period_end=data.period_end,
            rules=sorted(set(data.rules)),
            per_unit=data.per_unit,
            seed=data.seed,
            with_file_only=data.with_file_only,
            created_at=now,
        )
        campaign.units.set(units)
    return campaign


def _campaign_for_manager(user: User, campaign_id: int, *, lock: bool = False) -> Campaign:
    qs = Campaign.objects.select_related("organiser_unit")
    if lock:
        qs = qs.select_for_update()
    campaign = qs.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("评查活动不存在或无权查看", code="campaign_not_found")
    if not campaign_manageable(user, campaign):
        raise NotAllowed("只有评查活动的组织者可以办理此项", code="not_campaign_manager")
    return campaign


def campaign_reviewer_add(*, user: User, campaign_id: int, reviewer_id: int) -> CampaignReviewer:
    """Add a reviewer (评查员). Reviewers come from the organiser's own agency (or any, for a 政法委
    campaign) and need a duty that reads case files."""
    with transaction.atomic():
        campaign = _campaign_for_manager(user, campaign_id, lock=True)
        if campaign.status == CampaignStatus.CLOSED:
            raise Conflict("评查活动已结束", code="campaign_closed")
        reviewer = User.objects.select_related("unit").filter(pk=reviewer_id, is_active=True).first()
        if reviewer is None or reviewer.unit is None:
            raise ValidationFailed("所选人员不存在", code="reviewer_not_found")
        if not reviewer.has_duty(*REVIEWER_DUTIES):
            raise ValidationFailed(
                f"{reviewer.full_name}不具有办案或评查职责，不能担任评查员", code="reviewer_duty"
            )
        agency = campaign.organiser_unit.agency
        if agency != Agency.COMMITTEE and reviewer.unit.agency not in {agency, Agency.COMMITTEE}:
            raise ValidationFailed("评查员应为本系统人员", code="reviewer_agency")
        row, created = CampaignReviewer.objects.get_or_create(
            campaign=campaign, user=reviewer, defaults={"added_at": servertime.now()}
        )
        if not created:
            raise Conflict(f"{reviewer.full_name}已是本次活动的评查员", code="reviewer_exists")
    return row


def _candidates(campaign: Campaign) -> dict[int, list[int]]:
    """Case ids of each scope unit (its subtree: a 分局 with its 派出所) filed in the period that
    match a rule of the campaign (or any case when it has none)."""
    from xietong.supervision.models import Alert

    shanghai = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(campaign.period_start, time.min), shanghai)
    end = timezone.make_aware(datetime.combine(campaign.period_end, time.max), shanghai)
    base = Case.objects.filter(created_at__gte=start, created_at__lte=end)
    if campaign.with_file_only:
        ready = Volume.objects.filter(case=OuterRef("pk"), status=VolumeStatus.READY)
        base = base.filter(Exists(ready))
    rule_q = Q()
    for rule in campaign.rules:
        if rule == "not_prosecuted":
            rule_q |= Q(stage="not_prosecuted")
        elif rule == "withdrawn":
            rule_q |= Q(stage="withdrawn")
        elif rule == "supplementary_twice":
            rule_q |= Q(supplementary_count__gte=2)
        elif rule == "acquittal":
            rule_q |= Q(verdict__guilty=False)
        elif rule == "alerted":
            rule_q |= Q(Exists(Alert.objects.filter(case=OuterRef("pk"))))
    if campaign.rules:
        base = base.filter(rule_q)
    field = {
        Agency.POLICE: "police_unit",
        Agency.PROCURATORATE: "procuratorate_unit",
        Agency.COURT: "court_unit",
    }
    out: dict[int, list[int]] = {}
    for unit in campaign.units.all():
        column = field.get(Agency(unit.agency))
        if column is None:
            continue
        ids = base.filter(**{f"{column}__path__startswith": unit.path}).values_list("pk", flat=True)
        out[unit.pk] = list(ids)
    return out


def _drawn_because(campaign: Campaign, case: Case, alerted: set[int]) -> str:
    reasons = []
    for rule in campaign.rules:
        hit = {
            "not_prosecuted": case.stage == "not_prosecuted",
            "withdrawn": case.stage == "withdrawn",
            "supplementary_twice": case.supplementary_count >= 2,
            "acquittal": isinstance(case.verdict, dict) and case.verdict.get("guilty") is False,
            "alerted": case.pk in alerted,
        }[rule]
        if hit:
            reasons.append(draw.RULES[rule])
    return "、".join(reasons) or "随机抽查"


def campaign_draw(*, user: User, campaign_id: int) -> int:
    """Draw the cases (once): by the campaign's rules, then at most ``per_unit`` of each unit at
    random with the campaign's seed, so the same campaign always draws the same cases. A case of two
    scope units (a 分局 and its 派出所 both chosen) is drawn once, for the lower one."""
    from xietong.supervision.models import Alert

    with transaction.atomic():
        campaign = _campaign_for_manager(user, campaign_id, lock=True)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict("本次活动已经抽取过案件", code="already_drawn")
        drawn = draw.sample(_candidates(campaign), per_unit=campaign.per_unit, seed=campaign.seed)
        all_ids = {cid for ids in drawn.values() for cid in ids}
        if not all_ids:
            raise ValidationFailed("按所设期间和规则没有可抽取的案件，请调整后再抽取", code="nothing_drawn")
        cases = Case.objects.in_bulk(all_ids)
        units = Unit.objects.in_bulk(list(drawn))
        alerted = set(Alert.objects.filter(case_id__in=all_ids).values_list("case_id", flat=True))
        rows, taken = [], set()
        # deepest unit first: a case of a 派出所 chosen with its 分局 counts as the 派出所's work
        for unit_id in sorted(drawn, key=lambda u: (-units[u].path.count("."), units[u].path)):
            for case_id in drawn[unit_id]:
                if case_id in taken:
                    continue
                taken.add(case_id)
                case = cases[case_id]
                checklist = standards.checklist_for(agency=units[unit_id].agency, stage=case.stage)
                rows.append(
                    CampaignCase(
                        campaign=campaign,
                        case=case,
                        unit=units[unit_id],
                        drawn_because=_drawn_because(campaign, case, alerted)[:100],
                        checklist=checklist.code,
                    )
                )
        CampaignCase.objects.bulk_create(rows)
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.ACTIVE, drawn_at=servertime.now()
        )
    return len(rows)


def reviewer_conflict(reviewer: User, case: Case, unit: Unit) -> str | None:
    """Why ``reviewer`` may not review ``case`` (交叉评查: not his own unit's case, nor one of his own
    county), or None."""
    own = reviewer.unit
    if own is None:
        return "评查员不属于任何单位"
    if own.pk == unit.pk or unit.is_within(own):  # his unit, or one under it
        return f"{reviewer.full_name}所在单位是被评查单位，不能评查本单位的案件"
    if Participation.objects.filter(case=case, unit=own).exists():
        return f"{reviewer.full_name}所在单位参与办理了本案，不能评查本单位的案件"
    county = county_of_unit(own)
    if county is not None and county == case.county_id:
        return f"{reviewer.full_name}与本案属同一区县，网上评查实行跨区县交叉评查"
    return None


def review_assign(*, user: User, review_id: int, reviewer_id: int) -> CampaignCase:
    """Give a drawn case to one of the campaign's reviewers; his access to its file follows."""
    with transaction.atomic():
        review = CampaignCase.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise NotFound("评查案件不存在", code="review_not_found")
        campaign = _campaign_for_manager(user, review.campaign_id)
        if campaign.status != CampaignStatus.ACTIVE:
            raise Conflict("评查活动不在进行中", code="campaign_not_active")
        if review.status == ReviewStatus.SUBMITTED:
            raise Conflict("本案已评查完毕，不能再分配", code="review_submitted")
        member = (
            CampaignReviewer.objects.select_related("user__unit")
            .filter(campaign=campaign, user_id=reviewer_id)
            .first()
        )
        if member is None:
            raise NotAllowed(
                "该人员不是本次活动的评查员，请先将其加入评查员名单", code="reviewer_not_in_campaign"
            )
        case = Case.objects.get(pk=review.case_id)
        conflict = reviewer_conflict(member.user, case, Unit.objects.get(pk=review.unit_id))
        if conflict:
            raise ValidationFailed(conflict, code="reviewer_conflict")
        if review.reviewer_id != member.user_id:
            review.reviewer = member.user
            review.status = ReviewStatus.ASSIGNED
            review.assigned_at = servertime.now()
            review.save(update_fields=["reviewer", "status", "assigned_at"])
    return review


def campaign_assign_auto(*, user: User, campaign_id: int) -> tuple[int, int]:
    """Give every unassigned case to the eligible reviewer with the fewest cases so far. Returns
    (assigned, left without an eligible reviewer)."""
    with transaction.atomic():
        campaign = _campaign_for_manager(user, campaign_id, lock=True)
        if campaign.status != CampaignStatus.ACTIVE:
            raise Conflict("评查活动不在进行中", code="campaign_not_active")
        reviewers = [
            m.user for m in CampaignReviewer.objects.filter(campaign=campaign).select_related("user__unit")
        ]
        if not reviewers:
            raise ValidationFailed("请先添加评查员", code="no_reviewers")
        load: dict[int, int] = defaultdict(int)
        for row in (
            CampaignCase.objects.filter(campaign=campaign, reviewer__isnull=False)
            .values("reviewer_id")
            .annotate(n=Count("pk"))
        ):
            load[row["reviewer_id"]] = row["n"]
        assigned = left = 0
        now = servertime.now()
        pending = CampaignCase.objects.filter(
            campaign=campaign, status=ReviewStatus.UNASSIGNED
        ).select_related("case", "unit")
        for review in pending:
            eligible = [r for r in reviewers if reviewer_conflict(r, review.case, review.unit) is None]
            if not eligible:
                left += 1
                continue
            chosen = min(eligible, key=lambda r: (load[r.pk], r.pk))
            updated = CampaignCase.objects.filter(pk=review.pk, status=ReviewStatus.UNASSIGNED).update(
                reviewer=chosen, status=ReviewStatus.ASSIGNED, assigned_at=now
            )
            if updated:  # not assigned by hand meanwhile
                load[chosen.pk] += 1
                assigned += 1
    return assigned, left


def _pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def campaign_close(*, user: User, campaign_id: int) -> Campaign:
    """End the campaign: reviewers lose access to the case files; results and answers stay."""
    with transaction.atomic():
        campaign = _campaign_for_manager(user, campaign_id, lock=True)
        if campaign.status != CampaignStatus.ACTIVE:
            raise Conflict("评查活动不在进行中", code="campaign_not_active")
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = servertime.now()
        campaign.save(update_fields=["status", "closed_at"])
    return campaign


# ---------------------------------------------------------------- the reviewer's work


def review_for_reviewer(user: User, review_id: int, *, lock: bool = False) -> CampaignCase:
    """The review assigned to ``user`` in an active campaign: the only way a reviewer reaches a case
    file that is not his unit's. Anything else is a 404, so other cases' existence does not leak."""
    qs = CampaignCase.objects.select_related("campaign", "case", "unit")
    if lock:
        qs = qs.select_for_update(of=("self",)) if _pg() else qs.select_for_update()
    review = qs.filter(pk=review_id, reviewer=user, campaign__status=CampaignStatus.ACTIVE).first()
    if review is None:
        raise NotFound("评查任务不存在或未分配给您", code="review_not_found")
    return review


def _open_for_edit(user: User, review_id: int) -> CampaignCase:
    review = review_for_reviewer(user, review_id, lock=True)
    if review.status == ReviewStatus.SUBMITTED:
        raise Conflict("本案评查已提交，不能再修改", code="review_submitted")
    return review


def page_of_review(review: CampaignCase, page_id: int) -> Page:
    page = Page.objects.select_related("volume", "image", "thumb").filter(pk=page_id).first()
    if page is None or page.volume.case_id != review.case_id:
        raise NotFound("页面不存在或不属于本案", code="page_not_found")
    return page


def review_page_view(*, user: User, review_id: int, page_id: int) -> Page:
    """A page of the assigned case file, logged like every page view (``dossier.PageView``)."""
    from xietong.dossier.services import page_view_log

    review = review_for_reviewer(user, review_id)
    page = page_of_review(review, page_id)
    page_view_log(user=user, page=page)
    return page


def review_instrument_open(*, user: User, review_id: int, instrument_id: int) -> Instrument:
    """A sealed instrument of the assigned case, logged in the instruments' own opening log. The
    reviewer's opening is not a 签收 (he is not a recipient), so no service row is touched."""
    review = review_for_reviewer(user, review_id)
    instrument = (
        Instrument.objects.select_related("pdf").filter(pk=instrument_id, case_id=review.case_id).first()
    )
    if instrument is None or instrument.pdf_id is None:
        raise NotFound("文书不存在或尚未盖章", code="instrument_not_found")
    InstrumentView.objects.create(instrument=instrument, user=user, at=servertime.now())
    return instrument


def prescreen_facts(case: Case) -> prescreen.CaseFacts:
    """The facts ``quality.prescreen`` reads, gathered from the case's ledger, instruments, pages
    and clocks."""
    import json

    local = timezone.get_default_timezone()
    acts = [
        prescreen.Act(
            code=e.action,
            label=json.loads(e.payload).get("label", e.action),
            day=timezone.localtime(e.recorded_at, local).date(),
        )
        for e in LedgerEntry.objects.filter(case_id=case.pk, action__in=list(ACTIONS)).order_by("seq")
    ]
    instruments = [
        prescreen.InstrumentFact(
            id=i.pk,
            kind=i.kind,
            action=i.action,
            status=i.status,
            claimed_date=i.claimed_date,
            sealed_day=timezone.localtime(i.sealed_at, local).date() if i.sealed_at else None,
        )
        for i in Instrument.objects.filter(case=case).order_by("pk")
    ]
    documents: dict[tuple[int, int], tuple[str, str]] = {}
    volumes = list(Volume.objects.filter(case=case))
    for volume in volumes:
        for entry in CatalogueEntry.objects.filter(volume=volume, version=volume.catalogue_version):
            for n in range(entry.start_page, entry.end_page + 1):
                documents[(volume.pk, n)] = (entry.title, entry.kind)
    pages = [
        prescreen.PageFact(
            id=p.pk,
            volume=p.volume.number,
            number=p.number,
            quality=tuple(p.quality or ()),
            text=p.text,
            ocr_done=p.ocr_status == OcrStatus.DONE,
            document=documents.get((p.volume_id, p.number), ("", ""))[0],
            document_kind=documents.get((p.volume_id, p.number), ("", ""))[1],
        )
        for p in Page.objects.filter(volume__case=case)
        .select_related("volume")
        .order_by("volume__number", "number")
    ]
    from xietong.cases import deadlines

    clocks = [
        prescreen.ClockFact(
            id=c.pk,
            label=deadlines.RULES[c.rule].label if c.rule in deadlines.RULES else c.rule,
            due_at=c.due_at,
            stopped_at=c.stopped_at,
        )
        for c in Clock.objects.filter(case=case)
    ]
    return prescreen.CaseFacts(
        stage=case.stage,
        supplementary_count=case.supplementary_count,
        acts=acts,
        instruments=instruments,
        pages=pages,
        clocks=clocks,
    )


ISSUES: dict[str, str] = {code: a.instrument for code, a in ACTIONS.items() if a.instrument}


def review_prescreen(*, user: User, review_id: int) -> int:
    """Run machine pre-screening over the assigned case; new suggestions are added, ones already
    confirmed or dismissed stay as decided. Returns how many are new."""
    with transaction.atomic():
        review = _open_for_edit(user, review_id)
        return _prescreen(review)


def _prescreen(review: CampaignCase) -> int:
    checklist = standards.CHECKLISTS[review.checklist]
    suggestions = prescreen.prescreen(prescreen_facts(review.case), issues=ISSUES, now=servertime.now())
    known = set(Finding.objects.filter(review=review).values_list("key", flat=True))
    rows = []
    for s in suggestions:
        if s.key in known:
            continue
        item = checklist.for_topic(s.topic)
        if item is None:
            continue
        known.add(s.key)
        rows.append(
            Finding(
                review=review,
                key=s.key[:80],
                topic=s.topic,
                item_code=item.code,
                severity=s.severity.value,
                message=s.message[:300],
                page_id=s.page_id,
                instrument_id=s.instrument_id,
            )
        )
    Finding.objects.bulk_create(rows)
    CampaignCase.objects.filter(pk=review.pk).update(prescreened_at=servertime.now())
    return len(rows)


def review_open(*, user: User, review_id: int) -> CampaignCase:
    """The reviewer opens his case: pre-screened once, the first time."""
    review = review_for_reviewer(user, review_id)
    if review.prescreened_at is None and review.status != ReviewStatus.SUBMITTED:
        with transaction.atomic():
            locked = _open_for_edit(user, review_id)
            if locked.prescreened_at is None:
                _prescreen(locked)
        review = review_for_reviewer(user, review_id)
    return review


def parse_rect(values: list[str | None]) -> tuple[int, int, int, int] | None:
    """Four numbers from a form (x, y, w, h in image pixels), or None when all are empty."""
    if all(v in (None, "") for v in values):
        return None
    try:
        x, y, w, h = (round(float(v or "")) for v in values)
    except ValueError as exc:
        raise ValidationFailed("标注区域的坐标须为数字", code="rect_invalid") from exc
    return x, y, w, h


def _check_rect(page: Page, rect: tuple[int, int, int, int]) -> None:
    x, y, w, h = rect
    if w < MIN_RECT or h < MIN_RECT:
        raise ValidationFailed("标注区域太小，请在页面上拖出一个矩形", code="rect_too_small")
    if x < 0 or y < 0 or x + w > page.width or y + h > page.height:
        raise ValidationFailed(
            f"标注区域超出页面范围（页面为 {page.width}×{page.height} 像素）", code="rect_outside_page"
        )


def crop_page(page: Page, rect: tuple[int, int, int, int] | None) -> Blob:
    """The region of the page image as a JPEG blob (the whole page when ``rect`` is None), scaled
    down to at most ``CROP_MAX_SIDE`` pixels. Stored by hash, so the same crop is kept once."""
    from PIL import Image

    with blobs.blob_open(page.image) as fh:
        source = Image.open(fh)
        source.load()
    image: Image.Image = source
    if rect is not None:
        x, y, w, h = rect
        sx, sy = image.width / page.width, image.height / page.height  # the row's size is the image's
        image = image.crop((round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)))
    image = image.convert("RGB")
    image.thumbnail((CROP_MAX_SIDE, CROP_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return blobs.blob_put_bytes(out.getvalue(), content_type="image/jpeg")


def _document_at(page: Page) -> str:
    entry = (
        CatalogueEntry.objects.filter(
            volume_id=page.volume_id,
            version=page.volume.catalogue_version,
            start_page__lte=page.number,
            end_page__gte=page.number,
        )
        .order_by("ordinal")
        .first()
    )
    return entry.title if entry else ""


@dataclass
class DefectInput:
    item_code: str
    severity: str
    comment: str
    page_id: int | None = None
    rect: tuple[int, int, int, int] | None = None
    instrument_id: int | None = None


def _defect_row(user: User, review: CampaignCase, data: DefectInput) -> Defect:
    """Validate ``data`` and build the defect (not saved). The crop is stored here, before any
    transaction: a blob is bytes by hash, kept once, and harmless if the row is then refused."""
    checklist = standards.CHECKLISTS[review.checklist]
    item = checklist.item(data.item_code)
    if item is None:
        raise ValidationFailed("请选择本案评查标准中的评查项目", code="item_unknown")
    if data.severity not in {s.value for s in standards.Severity}:
        raise ValidationFailed("请选择问题性质（瑕疵、不规范或错误）", code="severity_invalid")
    comment = data.comment.strip()
    if not comment:
        raise ValidationFailed("请填写评查意见", code="comment_required")
    page = None
    crop = None
    if data.page_id is not None:
        page = page_of_review(review, data.page_id)
        if data.rect is not None:
            _check_rect(page, data.rect)
        crop = crop_page(page, data.rect)
    elif data.rect is not None:
        raise ValidationFailed("标注区域须在卷宗页面上", code="rect_without_page")
    instrument = None
    if data.instrument_id is not None:
        instrument = Instrument.objects.filter(pk=data.instrument_id, case_id=review.case_id).first()
        if instrument is None:
            raise NotFound("文书不存在或不属于本案", code="instrument_not_found")
    return Defect(
        review=review,
        item_code=item.code,
        item_text=item.text[:200],
        citation=item.citation[:200],
        severity=data.severity,
        points=item.points_for(data.severity),
        comment=comment,
        page=page,
        volume_number=page.volume.number if page else None,
        page_number=page.number if page else None,
        document=_document_at(page)[:200] if page else "",
        rect=list(data.rect) if data.rect else None,
        crop=crop,
        instrument=instrument,
        created_by=user,
        created_at=servertime.now(),
    )


def defect_add(*, user: User, review_id: int, data: DefectInput) -> Defect:
    """Record a defect: the checklist item (and its norm), class and points, where it is — a page
    region, cropped from the page image and kept as a blob — and the reviewer's comment."""
    review = review_for_reviewer(user, review_id)
    if review.status == ReviewStatus.SUBMITTED:
        raise Conflict("本案评查已提交，不能再修改", code="review_submitted")
    defect = _defect_row(user, review, data)
    with transaction.atomic():
        _open_for_edit(user, review_id)
        defect.save()
    return defect


def defect_remove(*, user: User, defect_id: int) -> None:
    """Before the review is submitted the reviewer may withdraw a defect he recorded."""
    defect = Defect.objects.filter(pk=defect_id).first()
    if defect is None:
        raise NotFound("问题不存在", code="defect_not_found")
    with transaction.atomic():
        _open_for_edit(user, defect.review_id)
        Finding.objects.filter(defect=defect).update(
            status=FindingStatus.PENDING, defect=None, decided_at=None
        )
        defect.delete()


def finding_decide(
    *, user: User, finding_id: int, confirm: bool, severity: str = "", comment: str = ""
) -> Finding:
    """Confirm a machine suggestion (it becomes a defect, with the page as its screenshot when it is
    about a page) or dismiss it."""
    finding = Finding.objects.filter(pk=finding_id).first()
    if finding is None:
        raise NotFound("预审提示不存在", code="finding_not_found")
    review = review_for_reviewer(user, finding.review_id)
    if finding.status != FindingStatus.PENDING:
        raise Conflict("该提示已处理", code="finding_decided")
    if not confirm:
        with transaction.atomic():
            _open_for_edit(user, review.pk)
            updated = Finding.objects.filter(pk=finding.pk, status=FindingStatus.PENDING).update(
                status=FindingStatus.DISMISSED, decided_at=servertime.now()
            )
            if not updated:
                raise Conflict("该提示已处理", code="finding_decided")
        finding.refresh_from_db()
        return finding
    defect = _defect_row(
        user,
        review,
        DefectInput(
            item_code=finding.item_code,
            severity=severity or finding.severity,
            comment=comment.strip() or finding.message,
            page_id=finding.page_id,
            instrument_id=finding.instrument_id,
        ),
    )
    defect.from_finding = True
    with transaction.atomic():
        _open_for_edit(user, review.pk)
        defect.save()
        updated = Finding.objects.filter(pk=finding.pk, status=FindingStatus.PENDING).update(
            status=FindingStatus.CONFIRMED, decided_at=servertime.now(), defect=defect
        )
        if not updated:  # decided by a second click meanwhile: the transaction takes the defect back
            raise Conflict("该提示已处理", code="finding_decided")
    finding.refresh_from_db()
    return finding


def parse_adjustment(raw: str | None) -> int:
    text = (raw or "").strip() or "0"
    try:
        value = int(text)
    except ValueError as exc:
        raise ValidationFailed("调整分须为整数", code="adjustment_invalid") from exc
    return value


def review_submit(
    *, user: User, review_id: int, adjustment: int = 0, reason: str = "", summary: str = ""
) -> CampaignCase:
    """Score and submit: 100 minus the defects' points, plus an adjustment of at most
    ±``MAX_ADJUSTMENT`` with a reason. Every machine suggestion must have been confirmed or
    dismissed. The defects and the score go into the case's ledger, and the handling unit sees them."""
    if not -standards.MAX_ADJUSTMENT <= adjustment <= standards.MAX_ADJUSTMENT:
        raise ValidationFailed(
            f"调整分应在 -{standards.MAX_ADJUSTMENT} 至 {standards.MAX_ADJUSTMENT} 之间",
            code="adjustment_range",
        )
    reason = reason.strip()
    if adjustment and not reason:
        raise ValidationFailed("调整得分须说明理由", code="adjustment_reason_required")
    with transaction.atomic():
        review = _open_for_edit(user, review_id)
        pending = Finding.objects.filter(review=review, status=FindingStatus.PENDING).count()
        if pending:
            raise Conflict(f"尚有 {pending} 条机器预审提示未确认或排除", code="findings_pending")
        defects = list(Defect.objects.filter(review=review).select_related("crop").order_by("pk"))
        deduction = sum(d.points for d in defects)
        value = standards.score([d.points for d in defects], adjustment)
        has_error = any(d.severity == standards.Severity.ERROR for d in defects)
        now = servertime.now()
        review.deduction = deduction
        review.adjustment = adjustment
        review.adjustment_reason = reason[:300]
        review.score = value
        review.grade = standards.grade(value, has_error=has_error)
        review.summary = summary.strip()
        review.status = ReviewStatus.SUBMITTED
        review.submitted_at = now
        review.save(
            update_fields=[
                "deduction",
                "adjustment",
                "adjustment_reason",
                "score",
                "grade",
                "summary",
                "status",
                "submitted_at",
            ]
        )
        _lock_case(review.case_id)
        actor = _actor(user)
        for d in defects:
            ledger_append(
                case_id=review.case_id,
                actor=actor,
                action="quality_defect",
                payload={
                    "label": "评查发现问题",
                    "campaign": review.campaign.name,
                    "defect": d.pk,
                    "item": d.item_code,
                    "citation": d.citation,
                    "severity": standards.Severity(d.severity).label,
                    "points": d.points,
                    "page": d.page_id,
                    "rect": d.rect,
                    "crop_sha256": d.crop.sha256 if d.crop else None,
                    "comment": d.comment,
                },
            )
        ledger_append(
            case_id=review.case_id,
            actor=actor,
            action="quality_review",
            payload={
                "label": "案件质量评查",
                "campaign": review.campaign.name,
                "unit": review.unit.name,
                "checklist": standards.CHECKLISTS[review.checklist].name,
                "defects": len(defects),
                "deduction": deduction,
                "adjustment": adjustment,
                "reason": reason,
                "score": value,
                "grade": review.grade,
            },
        )
    return review


# ---------------------------------------------------------------- the handling unit's answers


def may_answer(user: User, review: CampaignCase) -> bool:
    """The reviewed unit's handlers and leaders answer; a leader of a unit above it may too."""
    unit = user.unit
    if unit is None or not user.has_duty(*ANSWER_DUTIES):
        return False
    if unit.pk == review.unit_id:
        return True
    return user.has_duty(Duty.DEPT_HEAD, Duty.LEADER) and review.unit.path.startswith(unit.path)


def defect_answer(*, user: User, defect_id: int, rectified: bool, text: str) -> Defect:
    """说明 (an explanation) or 整改 (rectified, with what was done); recorded in the case's ledger.
    A later answer replaces the shown one; the ledger keeps every answer."""
    defect = Defect.objects.select_related("review__unit", "review__campaign").filter(pk=defect_id).first()
    if defect is None or defect.review.status != ReviewStatus.SUBMITTED:
        raise NotFound("评查问题不存在", code="defect_not_found")
    review = defect.review
    if not may_answer(user, review):
        from xietong.cases.selectors import case_visible_to

        if not case_visible_to(user=user, case=Case(pk=review.case_id)):
            raise NotFound("评查问题不存在", code="defect_not_found")
        raise NotAllowed("只有被评查单位的承办人或负责人可以反馈", code="not_answerer")
    text = text.strip()
    if not text:
        raise ValidationFailed("请填写整改情况" if rectified else "请填写情况说明", code="answer_required")
    status = DefectStatus.RECTIFIED if rectified else DefectStatus.EXPLAINED
    with transaction.atomic():
        _lock_case(review.case_id)
        locked = Defect.objects.select_for_update().get(pk=defect.pk)
        if locked.status == DefectStatus.RECTIFIED:
            raise Conflict("该问题已整改完毕", code="already_rectified")
        now = servertime.now()
        locked.status = status
        locked.answer = text
        locked.answered_by = user
        locked.answered_at = now
        locked.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        ledger_append(
            case_id=review.case_id,
            actor=actor_of(user, preferred=list(ANSWER_DUTIES)),
            action="quality_answer",
            payload={
                "label": "评查问题整改" if rectified else "评查问题说明",
                "campaign": review.campaign.name,
                "defect": locked.pk,
                "item": locked.item_code,
                "answer": text,
            },
        )
    return locked
