"""Test data of the message board: a case both police and procuratorate work on, volumes with
pages (as rows), small valid files, and threads opened through the services (or as bare rows with
``ThreadFactory`` where only the listing is under test)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from PIL import Image

from tests.cases.test_services_lifecycle import accept, act
from tests.factories import City, register_case
from xietong.board import services
from xietong.board.models import Thread
from xietong.cases.models import Case
from xietong.dossier.models import Blob, OcrStatus, Page, Volume, VolumeStatus
from xietong.orgs.models import User


@dataclass
class BoardCase:
    city: City
    case_id: int

    @property
    def case(self) -> Case:
        return Case.objects.get(pk=self.case_id)

    @property
    def police(self) -> Any:
        return self.city.counties["gusu"].police

    @property
    def procuratorate(self) -> Any:
        return self.city.counties["gusu"].procuratorate


def board_case(city: City, county: str = "gusu") -> BoardCase:
    """Filed by the police, detained, sent for arrest review and accepted by the procuratorate."""
    case_id = register_case(city, county)
    parties = list(Case.objects.get(pk=case_id).parties.values_list("pk", flat=True))
    act(city, f"{county}.police_leader", case_id, "detain", party_ids=parties)
    act(city, f"{county}.police_leader", case_id, "request_arrest", party_ids=parties)
    accept(city, f"{county}.procu", case_id)
    return BoardCase(city, case_id)


def _blob(seed: str, content_type: str = "image/jpeg") -> Blob:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    blob, _ = Blob.objects.get_or_create(
        sha256=digest, defaults={"size": 1, "content_type": content_type, "created_at": timezone.now()}
    )
    return blob


def add_volume(case_id: int, user: User, pages: int = 3, title: str = "诉讼卷") -> tuple[Volume, list[Page]]:
    """A volume with rendered pages, as rows (rendering and OCR are tested in tests/dossier)."""
    number = Volume.objects.filter(case_id=case_id).count() + 1
    volume = Volume.objects.create(
        case_id=case_id,
        number=number,
        title=title,
        source=_blob(f"source-{case_id}-{number}", "application/pdf"),
        source_name=f"{title}.pdf",
        page_count=pages,
        pages_rendered=pages,
        pages_ocred=pages,
        status=VolumeStatus.READY,
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )
    rows = [
        Page.objects.create(
            volume=volume,
            number=i,
            image=_blob(f"img-{case_id}-{number}-{i}"),
            thumb=_blob(f"thumb-{case_id}-{number}-{i}"),
            width=1240,
            height=1754,
            ocr_status=OcrStatus.DONE,
            text=f"第{i}页",
        )
        for i in range(1, pages + 1)
    ]
    return volume, rows


def pdf_bytes(pages: int = 1) -> bytes:
    images = [Image.new("RGB", (300, 420), "white") for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=72)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(out, "PNG")
    return out.getvalue()


def attachment(name: str, data: bytes, size: int | None = None) -> services.AttachmentInput:
    return services.AttachmentInput(
        name=name, size=len(data) if size is None else size, file=io.BytesIO(data)
    )


def open_thread(bc: BoardCase, who: str = "gusu.police", **overrides: Any) -> Thread:
    data: dict[str, Any] = {
        "case_id": bc.case_id,
        "to_unit_id": bc.procuratorate.pk,
        "kind": "objection",
        "subject": "对提请批准逮捕书所列事实有异议",
        "text": "提请批准逮捕书第二段所列作案时间与监控记录不符，请核实。",
    }
    data.update(overrides)
    return services.thread_open(user=bc.city.u(who), **data)


class ThreadFactory(factory.django.DjangoModelFactory):
    """A bare thread row (no message, no ledger entry): for listing and counting tests only."""

    class Meta:
        model = Thread

    kind = "question"
    subject = factory.Sequence(lambda n: f"询问事项{n}")
    opened_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    last_message_at = factory.LazyFunction(timezone.now)
