"""A case under 审查逮捕 at 姑苏区人民检察院 with a scanned volume, for the review report tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.factories import City, register_case
from xietong.cases import services as case_services
from xietong.cases.models import Case, Transfer
from xietong.dossier.models import Blob, OcrStatus, Page, Volume, VolumeStatus
from xietong.orgs.models import User

PAGE_TEXTS = [
    "起诉意见书\n犯罪嫌疑人张1，男，一九九零年出生。",
    "讯问笔录\n问：你为什么盗窃电动自行车？\n答：我缺钱用。",
    "询问笔录\n被害人李娜陈述：电动自行车停在楼下被盗。",
]


@dataclass
class ReviewCase:
    case_id: int
    volume: Volume
    pages: list[Page]


def _blob(tag: str) -> Blob:
    digest = hashlib.sha256(tag.encode()).hexdigest()
    blob, _ = Blob.objects.get_or_create(
        sha256=digest, defaults={"size": 1, "content_type": "image/jpeg", "created_at": timezone.now()}
    )
    return blob


def add_volume(
    case_id: int, user: User, texts: list[str], title: str = "诉讼卷"
) -> tuple[Volume, list[Page]]:
    """A volume with OCR'd pages, as rows (rendering and OCR have their own tests in tests/dossier)."""
    number = Volume.objects.filter(case_id=case_id).count() + 1
    volume = Volume.objects.create(
        case_id=case_id,
        number=number,
        title=title,
        source=_blob(f"source-{case_id}-{number}"),
        source_name=f"{title}.pdf",
        page_count=len(texts),
        pages_rendered=len(texts),
        pages_ocred=len(texts),
        status=VolumeStatus.READY,
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )
    pages = [
        Page.objects.create(
            volume=volume,
            number=i,
            image=_blob(f"img-{case_id}-{number}-{i}"),
            thumb=_blob(f"thumb-{case_id}-{number}-{i}"),
            width=1240,
            height=1754,
            ocr_status=OcrStatus.DONE,
            text=text,
            words=[[100, 150 + 90 * j, 40 * len(line), 40, line] for j, line in enumerate(text.split("\n"))],
        )
        for i, text in enumerate(texts, start=1)
    ]
    return volume, pages


def to_arrest_review(city: City, case_id: int, county: str = "gusu") -> None:
    """拘留 → 提请批准逮捕 → the procuratorate accepts: the case is under 审查逮捕 there."""
    parties = list(Case.objects.get(pk=case_id).parties.values_list("pk", flat=True))
    leader = city.u(f"{county}.police_leader")
    case_services.case_act(user=leader, case_id=case_id, action="detain", party_ids=parties)
    case_services.case_act(user=leader, case_id=case_id, action="request_arrest", party_ids=parties)
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    case_services.transfer_accept(user=city.u(f"{county}.procu"), transfer_id=transfer.pk)


@pytest.fixture
def review_case(city: City) -> ReviewCase:
    case_id = register_case(city)
    volume, pages = add_volume(case_id, city.u("gusu.police"), PAGE_TEXTS)
    to_arrest_review(city, case_id)
    return ReviewCase(case_id=case_id, volume=volume, pages=pages)


def quote_block(page: Page, text: str) -> dict[str, object]:
    return {
        "type": "quote",
        "text": text,
        "volume_id": page.volume_id,
        "volume_number": page.volume.number,
        "page_id": page.pk,
        "page_number": page.number,
    }
