"""Test data for 网上案件评查: scanned volumes with real page images (so crops can be checked), and
campaigns built through the services."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.utils import timezone
from PIL import Image, ImageDraw

from tests.factories import City
from xietong.dossier import blobs
from xietong.dossier.models import CatalogueEntry, OcrStatus, Page, Volume, VolumeStatus
from xietong.orgs.models import User
from xietong.quality import services
from xietong.quality.models import Campaign

WIDTH, HEIGHT = 600, 800
BOX = (100, 120, 300, 200)  # x, y, w, h of the dark box drawn on every page


def page_jpeg(number: int) -> bytes:
    """A white page with a dark box at ``BOX`` and a grey mark whose shade differs per page."""
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    x, y, w, h = BOX
    draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(20, 20, 20))
    draw.rectangle((10, 10, 30, 30), fill=(number * 10 % 255, 100, 100))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95)
    return out.getvalue()


def add_volume(
    case_id: int, user: User, texts: list[str], *, quality: dict[int, list[str]] | None = None
) -> list[Page]:
    """A processed volume of ``len(texts)`` pages with real images and the given OCR text."""
    quality = quality or {}
    number = Volume.objects.filter(case_id=case_id).count() + 1
    source = blobs.blob_put_bytes(f"source-{case_id}-{number}".encode(), content_type="application/pdf")
    volume = Volume.objects.create(
        case_id=case_id,
        number=number,
        title="诉讼卷",
        source=source,
        source_name="诉讼卷.pdf",
        page_count=len(texts),
        pages_rendered=len(texts),
        pages_ocred=len(texts),
        status=VolumeStatus.READY,
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )
    pages = []
    for i, text in enumerate(texts, start=1):
        image = blobs.blob_put_bytes(page_jpeg(i + case_id * 7), content_type="image/jpeg")
        pages.append(
            Page.objects.create(
                volume=volume,
                number=i,
                image=image,
                thumb=image,
                width=WIDTH,
                height=HEIGHT,
                ocr_status=OcrStatus.DONE,
                text=text,
                quality=quality.get(i, []),
            )
        )
    return pages


def catalogue(volume: Volume, entries: list[tuple[str, str, int, int]]) -> None:
    for ordinal, (title, kind, start, end) in enumerate(entries, start=1):
        CatalogueEntry.objects.create(
            volume=volume,
            version=volume.catalogue_version,
            ordinal=ordinal,
            title=title,
            kind=kind,
            start_page=start,
            end_page=end,
        )


TEXTS = [
    "起诉意见书\n经依法侦查查明……",
    "讯问笔录\n问：你叫什么名字？答：张1。",
    "鉴定意见书\n鉴定意见：属实。",
]


def campaign(
    city: City,
    *,
    organiser: str = "city_police_leader",
    counties: tuple[str, ...] = ("gusu", "wuzhong"),
    rules: tuple[str, ...] = (),
    per_unit: int = 0,
    seed: int = 7,
    with_file_only: bool = False,
    reviewers: tuple[str, ...] = ("wuzhong.police",),
) -> Campaign:
    """A police campaign over the counties' 公安分局 (with their 派出所), reviewers added."""
    user = city.u(organiser)
    today = timezone.localdate()
    made = services.campaign_create(
        user=user,
        data=services.CampaignInput(
            name="测试评查活动",
            period_start=date(today.year - 1, 1, 1),
            period_end=today + timedelta(days=1),
            unit_ids=[city.counties[c].police.pk for c in counties],
            rules=list(rules),
            per_unit=per_unit,
            seed=seed,
            with_file_only=with_file_only,
        ),
    )
    for name in reviewers:
        services.campaign_reviewer_add(user=user, campaign_id=made.pk, reviewer_id=city.u(name).pk)
    return made
