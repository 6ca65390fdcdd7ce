from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import City
from xietong.cases import services as case_services
from xietong.cases.models import Transfer
from xietong.instruments import services
from xietong.instruments.models import Instrument


@pytest.fixture(autouse=True)
def _blobs(tmp_path: Path, settings: object) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"  # type: ignore[attr-defined]


def act(city: City, who: str, case_id: int, action: str, **kwargs: object) -> case_services.ActResult:
    return case_services.case_act(user=city.u(who), case_id=case_id, action=action, **kwargs)  # type: ignore[arg-type]


def accept(city: City, who: str, case_id: int) -> None:
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    case_services.transfer_accept(user=city.u(who), transfer_id=transfer.pk)


def draft_of(case_id: int, kind: str) -> Instrument:
    return Instrument.objects.filter(case_id=case_id, kind=kind).order_by("-pk").first()  # type: ignore[return-value]


def seal_through(city: City, instrument: Instrument, handler: str, leader: str) -> Instrument:
    """Draft → 提交签发 (handler) → 签发 (leader) → 盖章 (handler)."""
    services.instrument_submit(user=city.u(handler), instrument_id=instrument.pk)
    services.instrument_approve(user=city.u(leader), instrument_id=instrument.pk)
    return services.instrument_seal(user=city.u(handler), instrument_id=instrument.pk)
