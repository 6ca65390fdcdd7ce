"""Demo threads for ``xietong demo load``: on cases the police and the procuratorate both work on,
an objection of the police answered by the procuratorate, and a question of the procuratorate
still waiting for the police's answer — written through the real services, so each is in the
case's ledger. Loaded once (skipped when any thread exists)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from xietong.board import services
from xietong.board.models import Thread
from xietong.cases.models import Case, Participation
from xietong.instruments.models import Instrument
from xietong.orgs.models import Duty, User


def _handler(unit_id: int) -> User | None:
    return User.objects.filter(unit_id=unit_id, appointments__duty=Duty.HANDLER).order_by("pk").first()


def board_demo(*, count: int = 2) -> int:
    """Open up to ``count`` pairs of demo threads; returns how many threads were written."""
    if Thread.objects.exists():
        return 0
    both = Case.objects.filter(procuratorate_unit__isnull=False).filter(
        Exists(Participation.objects.filter(case=OuterRef("pk"), unit=OuterRef("police_unit"))),
        Exists(Participation.objects.filter(case=OuterRef("pk"), unit=OuterRef("procuratorate_unit"))),
    )
    made = 0
    for case in both.order_by("-updated_at", "-pk")[: count * 4]:  # cases being worked on now
        if made >= 2 * count:
            break
        procuratorate_id = case.procuratorate_unit_id
        police = _handler(case.police_unit_id)
        prosecutor = _handler(procuratorate_id) if procuratorate_id is not None else None
        if procuratorate_id is None or police is None or prosecutor is None:
            continue
        instrument = Instrument.objects.filter(case=case).order_by("pk").first()
        cites = [services.CitationInput(instrument_id=instrument.pk)] if instrument else []
        objection = services.thread_open(
            user=police,
            case_id=case.pk,
            to_unit_id=procuratorate_id,
            kind="objection",
            subject="对退回补充侦查提纲第三项有异议",
            text=(
                "提纲第三项要求补充调取被害人银行流水。该流水已于侦查阶段调取并附卷，"
                "请核实卷宗后决定是否仍需补充。"
            ),
            stage=case.stage,
            citations=cites,
        )
        services.message_post(
            user=prosecutor,
            thread_id=objection.pk,
            text="经核实，银行流水已在卷，第三项不再要求补充；其余各项请按期完成。",
        )
        services.thread_open(
            user=prosecutor,
            case_id=case.pk,
            to_unit_id=case.police_unit_id,
            kind="question",
            subject="扣押物品的去向",
            text="起诉意见书所列扣押电动自行车一辆，未见发还或移送记录，请说明该物品现存放何处。",
        )
        made += 2
    return made
