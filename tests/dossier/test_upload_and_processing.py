"""Upload → blob → volume → pages → OCR → search, through the API as the browser does it."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.dossier.conftest import pdf_bytes
from tests.factories import City, register_case
from xietong.cases import services as case_services
from xietong.cases.models import Transfer
from xietong.dossier import blobs
from xietong.dossier.models import Blob, CatalogueEntry, Page, PageView, Upload, Volume
from xietong.dossier.services import EntryInput, catalogue_save, volume_process
from xietong.errors import Conflict, NotAllowed, ValidationFailed
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")


def api_for(city: City, who: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(city.u(who))
    return client


def upload(client: APIClient, case_id: int, data: bytes, name: str = "卷一.pdf", chunk: int = 40_000) -> dict:
    """Start, send in chunks, finish; jobs queued on commit run at once (ImmediateBackend)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return _upload(client, case_id, data, name, chunk)


def _upload(client: APIClient, case_id: int, data: bytes, name: str, chunk: int) -> dict:
    started = client.post(
        f"/api/v1/cases/{case_id}/uploads",
        {"filename": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        format="json",
    )
    assert started.status_code == 201, started.content
    upload_id = started.json()["id"]
    for offset in range(0, len(data), chunk):
        part = data[offset : offset + chunk]
        response = client.put(
            f"/api/v1/uploads/{upload_id}?offset={offset}",
            part,
            content_type="application/octet-stream",
            HTTP_X_CHUNK_SHA256=hashlib.sha256(part).hexdigest(),
        )
        assert response.status_code == 200, response.content
    finished = client.post(f"/api/v1/uploads/{upload_id}/finish", {"title": "诉讼卷"}, format="json")
    return {"upload_id": upload_id, "response": finished}


@needs_tesseract
def test_upload_renders_ocrs_and_makes_the_text_searchable(city: City, scanned_pdf: bytes) -> None:
    case_id = register_case(city)
    police = api_for(city, "gusu.police")
    result = upload(police, case_id, scanned_pdf)
    assert result["response"].status_code == 201, result["response"].content
    volume = Volume.objects.get(pk=result["response"].json()["id"])
    assert (volume.page_count, volume.status) == (3, "ready")  # ImmediateBackend ran the job on commit
    pages = list(volume.pages.order_by("number"))
    assert [p.ocr_status for p in pages] == ["done", "done", "done"]
    assert "起诉意见书" in pages[0].text.replace(" ", "") and pages[0].words
    assert pages[2].quality == ["blank"]
    entry = LedgerEntry.objects.get(case_id=case_id, action="volume_upload")
    assert hashlib.sha256(scanned_pdf).hexdigest() in entry.payload
    hits = police.get(f"/api/v1/search?q=支付宝&case_id={case_id}").json()["results"]
    assert {h["page"] for h in hits} == {1, 2}
    other = api_for(city, "wuzhong.police").get("/api/v1/search?q=支付宝").json()["results"]
    assert other == []  # never text from a case the user may not read
    ledger_integrate_all()
    assert ledger_verify().ok


def test_same_bytes_are_stored_once(city: City, scanned_pdf: bytes) -> None:
    first = blobs.blob_put_bytes(scanned_pdf, content_type="application/pdf")
    second = blobs.blob_put_bytes(scanned_pdf, content_type="application/pdf")
    assert first.pk == second.pk and Blob.objects.count() == 1
    path = blobs.blob_path(first.sha256)
    assert path.read_bytes() == scanned_pdf and not path.stat().st_mode & 0o222  # read-only


def test_interrupted_upload_resumes_and_duplicate_chunks_are_ignored(city: City, scanned_pdf: bytes) -> None:
    case_id = register_case(city)
    police = api_for(city, "gusu.police")
    start = police.post(
        f"/api/v1/cases/{case_id}/uploads", {"filename": "a.pdf", "size": len(scanned_pdf)}, format="json"
    )
    upload_id = start.json()["id"]
    half = len(scanned_pdf) // 2
    police.put(
        f"/api/v1/uploads/{upload_id}?offset=0", scanned_pdf[:half], content_type="application/octet-stream"
    )
    again = police.put(
        f"/api/v1/uploads/{upload_id}?offset=0", scanned_pdf[:half], content_type="application/octet-stream"
    )
    assert again.json()["received"] == half
    gap = police.put(
        f"/api/v1/uploads/{upload_id}?offset={half + 10}", b"x", content_type="application/octet-stream"
    )
    assert gap.status_code == 409 and gap.json()["details"]["received"] == half
    status = police.get(f"/api/v1/uploads/{upload_id}").json()
    rest = scanned_pdf[status["received"] :]
    police.put(
        f"/api/v1/uploads/{upload_id}?offset={status['received']}",
        rest,
        content_type="application/octet-stream",
    )
    done = police.post(f"/api/v1/uploads/{upload_id}/finish", {}, format="json")
    assert done.status_code == 201
    assert (
        police.post(f"/api/v1/uploads/{upload_id}/finish", {}, format="json").json()["id"]
        == done.json()["id"]
    )


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("卷.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "type_mismatch"),
        ("卷.pdf", b"%PDF-1.7\n garbage that is not a pdf", "pdf_corrupt"),
        ("卷.pdf", b"hello world, plain text", "unrecognised_content"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(city: City, name: str, data: bytes, code: str) -> None:
    case_id = register_case(city)
    result = upload(api_for(city, "gusu.police"), case_id, data, name=name)
    assert result["response"].status_code == 400 and result["response"].json()["code"] == code
    assert Volume.objects.count() == 0 and Blob.objects.count() == 0
    assert Upload.objects.get(pk=result["upload_id"]).status == "failed"


def test_encrypted_pdf_is_refused(city: City, scanned_pdf: bytes) -> None:
    import io

    import pypdfium2  # noqa: F401  (PDFium reads the encryption dictionary)
    from pypdf import PdfReader, PdfWriter  # type: ignore[import-not-found]

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(scanned_pdf)))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    result = upload(api_for(city, "gusu.police"), register_case(city), out.getvalue())
    assert result["response"].json()["code"] == "pdf_encrypted"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"filename": "a.pdf", "size": 0}, "empty_file"),
        ({"filename": "a.pdf", "size": 10 * 1024**3}, "file_too_large"),
        ({"filename": "a.docx", "size": 10}, "unsupported_type"),
    ],
)
def test_upload_start_refuses_empty_huge_and_unsupported(city: City, payload: dict, code: str) -> None:
    response = api_for(city, "gusu.police").post(
        f"/api/v1/cases/{register_case(city)}/uploads", payload, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == code


def test_only_the_holder_unit_uploads_and_others_do_not_see(city: City) -> None:
    case_id = register_case(city)
    assert (
        api_for(city, "wuzhong.police")
        .post(f"/api/v1/cases/{case_id}/uploads", {"filename": "a.pdf", "size": 10}, format="json")
        .status_code
        == 404
    )
    assert (
        api_for(city, "city_police_leader")
        .post(f"/api/v1/cases/{case_id}/uploads", {"filename": "a.pdf", "size": 10}, format="json")
        .json()["code"]
        == "not_holder"
    )


def test_chunk_with_a_wrong_checksum_is_refused(city: City) -> None:
    police = api_for(city, "gusu.police")
    upload_id = police.post(
        f"/api/v1/cases/{register_case(city)}/uploads", {"filename": "a.pdf", "size": 4}, format="json"
    ).json()["id"]
    bad = police.put(
        f"/api/v1/uploads/{upload_id}?offset=0",
        b"%PDF",
        content_type="application/octet-stream",
        HTTP_X_CHUNK_SHA256="0" * 64,
    )
    assert bad.status_code == 400 and bad.json()["code"] == "chunk_checksum_mismatch"
    assert Upload.objects.get(pk=upload_id).received == 0


def _volume(city: City, case_id: int, data: bytes) -> Volume:
    result = upload(api_for(city, "gusu.police"), case_id, data)
    return Volume.objects.get(pk=result["response"].json()["id"])


def test_catalogue_is_edited_in_place_until_transfer_then_versioned(city: City, scanned_pdf: bytes) -> None:
    case_id = register_case(city)
    volume = _volume(city, case_id, scanned_pdf)
    police = city.u("gusu.police")
    entries = [EntryInput("起诉意见书", "法律文书", 1, 1), EntryInput("被害人询问笔录", "询问笔录", 2, 3)]
    assert catalogue_save(user=police, volume_id=volume.pk, entries=entries, expected_version=1) == 1
    assert catalogue_save(user=police, volume_id=volume.pk, entries=entries[:1], expected_version=1) == 1
    assert CatalogueEntry.objects.filter(volume=volume).count() == 1
    with pytest.raises(ValidationFailed):
        catalogue_save(
            user=police, volume_id=volume.pk, entries=[EntryInput("x", "书证", 2, 9)], expected_version=1
        )
    case_services.case_act(
        user=city.u("gusu.police_leader"), case_id=case_id, action="transfer_for_prosecution"
    )
    # the transfer froze the catalogue; the police may still fix it until the procuratorate accepts? No:
    # the case is in transit, so the procuratorate (once it holds the case) edits, making version 2.
    transfer = Transfer.objects.get(case_id=case_id)
    case_services.transfer_accept(user=city.u("gusu.procu"), transfer_id=transfer.pk)
    with pytest.raises(NotAllowed):
        catalogue_save(user=police, volume_id=volume.pk, entries=entries, expected_version=1)
    procu = city.u("gusu.procu")
    assert catalogue_save(user=procu, volume_id=volume.pk, entries=entries, expected_version=1) == 2
    assert CatalogueEntry.objects.filter(volume=volume, version=1).count() == 1  # the old one stays
    assert CatalogueEntry.objects.filter(volume=volume, version=2).count() == 2
    with pytest.raises(Conflict):
        catalogue_save(user=procu, volume_id=volume.pk, entries=entries, expected_version=1)
    assert LedgerEntry.objects.filter(case_id=case_id, action="catalogue_revise").count() == 1


def test_processing_again_after_a_crash_stores_nothing_twice(city: City, scanned_pdf: bytes) -> None:
    volume = _volume(city, register_case(city), scanned_pdf)
    pages_before = list(Page.objects.filter(volume=volume).values_list("pk", flat=True))
    Volume.objects.filter(pk=volume.pk).update(status="ocr")  # as if the worker died before the end
    volume_process(volume_id=volume.pk)
    assert list(Page.objects.filter(volume=volume).values_list("pk", flat=True)) == pages_before
    assert Volume.objects.get(pk=volume.pk).pages_rendered == 3


def test_reader_pages_render_and_every_page_view_is_logged(city: City, scanned_pdf: bytes) -> None:
    case_id = register_case(city)
    volume = _volume(city, case_id, scanned_pdf)
    client = Client()
    client.force_login(city.u("gusu.police"))
    reader = client.get(f"/volumes/{volume.pk}/")
    assert reader.status_code == 200 and "第1页" in reader.content.decode()
    page = volume.pages.get(number=1)
    image = client.get(f"/pages/{page.pk}/image")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    cached = client.get(f"/pages/{page.pk}/image", HTTP_IF_NONE_MATCH=image["ETag"])
    assert cached.status_code == 304
    assert PageView.objects.filter(page=page, user=city.u("gusu.police")).count() == 2
    files = client.get(f"/cases/{case_id}/files/")
    assert files.status_code == 200 and "第1卷" in files.content.decode()
    outsider = Client()
    outsider.force_login(city.u("wuzhong.police"))
    assert outsider.get(f"/pages/{page.pk}/image").status_code == 404
    assert outsider.get(f"/volumes/{volume.pk}/").status_code == 404


def test_search_page_needs_a_visible_case(city: City) -> None:
    case_id = register_case(city)
    volume = _volume(city, case_id, pdf_bytes([["盗窃 电动自行车 支付宝"]]))
    client = Client()
    client.force_login(city.u("gusu.police"))
    page = client.get("/search/?q=支付宝").content.decode()
    if volume.pages_ocred:
        assert "第1页" in page
    outsider = Client()
    outsider.force_login(city.u("wuzhong.police"))
    assert "没有找到含“支付宝”的卷宗页" in outsider.get("/search/?q=支付宝").content.decode()


def test_a_full_disk_refuses_the_upload_with_507_and_the_same_upload_finishes_later(
    city: City, scanned_pdf: bytes, settings: object
) -> None:
    """The copy into the store fails half-way (ENOSPC): 507 ``storage_full``, no torn copy left on
    disk, no blob row, and the upload waits as it was, to be finished once there is room."""
    from pathlib import Path
    from unittest import mock

    case_id = register_case(city)
    police = api_for(city, "gusu.police")
    started = police.post(
        f"/api/v1/cases/{case_id}/uploads", {"filename": "卷.pdf", "size": len(scanned_pdf)}, format="json"
    )
    upload_id = started.json()["id"]
    police.put(f"/api/v1/uploads/{upload_id}?offset=0", scanned_pdf, content_type="application/octet-stream")
    blobs_before = Blob.objects.count()

    def disk_full(src: object, dst: object, length: int = 0) -> None:
        dst.write(b"%PDF-torn")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    with mock.patch("xietong.dossier.blobs.shutil.copyfileobj", side_effect=disk_full):
        refused = police.post(f"/api/v1/uploads/{upload_id}/finish", {}, format="json")
    assert refused.status_code == 507
    assert refused.json()["code"] == "storage_full" and "存储空间已满" in refused.json()["message"]
    assert Blob.objects.count() == blobs_before
    assert not list(Path(settings.XIETONG_BLOB_ROOT).rglob("*.tmp"))  # type: ignore[attr-defined]
    assert Upload.objects.get(pk=upload_id).status == "receiving"

    done = police.post(f"/api/v1/uploads/{upload_id}/finish", {}, format="json")
    assert done.status_code == 201, done.content
    assert Volume.objects.filter(case_id=case_id).count() == 1
