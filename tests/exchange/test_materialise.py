"""Instruments and files of imported packages become rows (``import-cases --files``)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.exchange.test_exchange import as_another_system, read_packages, walked_cases, write_packages
from tests.factories import City
from xietong.cases.models import Case
from xietong.dossier.blobs import blob_path, blob_put_bytes
from xietong.dossier.models import Blob, Evidence, OcrStatus, Page, Volume, VolumeStatus
from xietong.exchange.exporter import blob_target, cases_export
from xietong.exchange.importer import cases_import
from xietong.exchange.materialise import IMPORT_USERNAME
from xietong.exchange.models import CaseOrigin
from xietong.instruments.models import Instrument
from xietong.orgs.models import User


@pytest.fixture(autouse=True)
def _store(settings: Any, tmp_path: Path) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "store"


def jpeg(shade: int, size: tuple[int, int] = (300, 420)) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, shade).save(out, "JPEG", quality=80)
    return out.getvalue()


def add_files(city: City, case_id: int) -> None:
    """A sealed instrument (number, PDF), and a scanned volume of two pages and one video, as an
    upload and its rendering leave them."""
    from tests.instruments.conftest import seal_through

    first = Instrument.objects.filter(case_id=case_id, kind="立案决定书").get()
    seal_through(city, first, "gusu.police", "gusu.police_leader")
    user = city.u("gusu.police")
    source = blob_put_bytes(b"%PDF-1.4 two scanned pages", content_type="application/pdf")
    volume = Volume.objects.create(
        case_id=case_id,
        number=1,
        title="诉讼卷",
        source=source,
        source_name="卷1.pdf",
        page_count=2,
        pages_rendered=2,
        status=VolumeStatus.READY,
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )
    for n in (1, 2):
        image = blob_put_bytes(jpeg(200 + n), content_type="image/jpeg")
        Page.objects.create(volume=volume, number=n, image=image, thumb=image, width=300, height=420)
    video = blob_put_bytes(b"\x00\x00\x00\x18ftypmp42 video", content_type="video/mp4")
    Evidence.objects.create(
        case_id=case_id,
        number=1,
        title="监控录像",
        blob=video,
        source_name="监控.mp4",
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )


def exported(city: City, tmp_path: Path) -> tuple[list[int], list[dict[str, Any]], Path]:
    ids = walked_cases(city)
    add_files(city, ids[0])
    files = tmp_path / "files"
    cases_export(out=tmp_path / "out.jsonl", files_dir=files)
    return ids, read_packages(tmp_path / "out.jsonl"), files


def with_new_bytes(item: dict[str, Any], files: Path) -> dict[str, Any]:
    """The package's files replaced by bytes this platform has never seen, put in ``files`` by
    hash: the import must take them from there."""
    item = json.loads(json.dumps(item))
    blobs: list[dict[str, Any]] = []

    def put(data: bytes, media_type: str) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = blob_target(files, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        blobs.append({"sha256": sha, "size": len(data), "media_type": media_type})
        return sha

    volume = item["files"]["volumes"][0]
    scan = io.BytesIO()
    pages = [Image.new("RGB", (200, 280), (10 + n,) * 3) for n in (1, 2)]
    pages[0].save(scan, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    volume["source"] = put(scan.getvalue(), "application/pdf")
    volume["pages"] = [put(jpeg(10 + n, (200, 280)), "image/jpeg") for n in (1, 2)]
    item["files"]["evidence"][0]["blob"] = put(b"\x00\x00\x00\x18ftypmp42 theirs", "video/mp4")
    item["files"]["blobs"] = blobs
    return item


def test_files_and_instruments_arrive_as_rows_with_the_same_bytes(
    city: City, tmp_path: Path, client: Client
) -> None:
    ids, items, files = exported(city, tmp_path)
    original = Case.objects.get(pk=ids[0])
    sent = as_another_system(items)
    sealed = [i for i in sent[0]["instruments"] if i["number"]]
    assert sealed, "the walked case has sealed instruments"

    [result] = cases_import(path=write_packages(tmp_path / "in.jsonl", sent), files_dir=files)

    assert (result.imported, result.rejected) == (3, 0)
    copy = Case.objects.get(number="X" + original.number)
    volume = Volume.objects.get(case=copy)
    assert volume.source.sha256 == Volume.objects.get(case=original).source.sha256
    assert (volume.number, volume.title, volume.page_count, volume.status) == (
        1,
        "诉讼卷",
        2,
        VolumeStatus.OCR,
    )
    assert volume.uploaded_by.username == IMPORT_USERNAME
    theirs = list(Page.objects.filter(volume__case=original).order_by("number").values_list("image__sha256"))
    ours = list(Page.objects.filter(volume=volume).order_by("number").values_list("image__sha256"))
    assert ours == theirs
    page = Page.objects.filter(volume=volume).first()
    assert page is not None and (page.width, page.height, page.ocr_status) == (300, 420, OcrStatus.PENDING)
    assert Evidence.objects.get(case=copy).blob.sha256 == Evidence.objects.get(case=original).blob.sha256
    # Instruments: everything the package carries; the 文号 are this platform's own (same DB), so
    # they are taken: the instruments come without one and the report says so.
    mine = list(Instrument.objects.filter(case=copy).order_by("pk"))
    assert [(i.kind, i.status, i.entry_hash) for i in mine] == [
        (i["kind"], i["status"], i["entry_hash"]) for i in sent[0]["instruments"]
    ]
    assert all(i.number is None and i.seal_id is None and not i.public_token for i in mine)
    assert {i.reason.split("：")[1].split("（")[0] for i in mine if i.reason} == {i["number"] for i in sealed}
    assert all(
        i.pdf is not None and i.pdf.sha256 == s["pdf_sha256"]
        for i, s in zip(mine, sent[0]["instruments"], strict=True)
        if s["pdf_sha256"]
    )
    codes = [p["code"] for n in result.notes for p in n["problems"]]
    assert codes.count("instrument_number_taken") == len(sealed)
    importer = User.objects.get(username=IMPORT_USERNAME)
    assert (importer.full_name, importer.has_usable_password(), importer.unit_id) == ("数据迁移", False, None)
    assert not importer.appointments.exists()
    # The pages of the imported case open.
    client.force_login(city.u("gusu.judge"))
    assert client.get(f"/cases/{copy.pk}/").status_code == 200
    assert client.get(f"/cases/{copy.pk}/files/").status_code == 200
    assert client.get(f"/volumes/{volume.pk}/").status_code == 200
    for i in mine:
        assert client.get(f"/instruments/{i.pk}/").status_code == 200
    assert client.get("/instruments/register/").status_code == 200
    # /verify does not present the imported copy as registered here: no pdf_sha256, no token, no
    # seal; the same bytes verify as the original instrument this platform sealed.
    from xietong.dossier.blobs import blob_open
    from xietong.instruments.services import verify_document

    with_pdf = next(i for i in mine if i.pdf is not None)
    with blob_open(with_pdf.pdf) as fh:
        data = fh.read()
    assert client.get(f"/instruments/{with_pdf.pk}/pdf").content == data  # served as sent
    found = verify_document(data)
    assert found.instrument is not None and found.instrument.case_id == original.pk
    assert Client().post("/verify/", {"file": _upload("x.pdf", data)}).status_code == 200


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_bytes_never_seen_here_are_taken_from_the_files_directory(city: City, tmp_path: Path) -> None:
    _, items, files = exported(city, tmp_path)
    item = with_new_bytes(as_another_system(items)[:1][0], files)

    [result] = cases_import(path=write_packages(tmp_path / "in.jsonl", [item]), files_dir=files)

    assert (result.imported, result.rejected) == (1, 0)
    copy = Case.objects.get(number=item["case"]["number"])
    volume = Volume.objects.get(case=copy)
    named = [
        volume.source.sha256,
        *Page.objects.filter(volume=volume).values_list("image__sha256", flat=True),
    ]
    named.append(Evidence.objects.get(case=copy).blob.sha256)
    assert named == [
        item["files"]["volumes"][0]["source"],
        *item["files"]["volumes"][0]["pages"],
        item["files"]["evidence"][0]["blob"],
    ]
    for sha in named:  # stored through the platform's blob store, bytes intact
        assert hashlib.sha256(blob_path(sha).read_bytes()).hexdigest() == sha
    assert Blob.objects.get(sha256=named[-1]).content_type == "video/mp4"
    thumb = Page.objects.filter(volume=volume).first()
    assert thumb is not None and thumb.thumb.sha256 != thumb.image.sha256 and thumb.width == 200
    # The background job that follows an upload finds every page there: nothing rendered twice,
    # only OCR left (off here), and the volume is ready.
    from xietong.dossier.services import volume_process

    assert volume_process(volume_id=volume.pk, ocr=False).status == VolumeStatus.READY
    assert list(Page.objects.filter(volume=volume).values_list("image__sha256", flat=True)) == named[1:3]


def test_a_missing_file_is_reported_and_the_case_imported_without_it(city: City, tmp_path: Path) -> None:
    _, items, files = exported(city, tmp_path)
    item = with_new_bytes(as_another_system(items)[:1][0], files)
    gone = item["files"]["evidence"][0]["blob"]
    blob_target(files, gone).unlink()
    report = tmp_path / "report.json"

    call_command(
        "import-cases", str(write_packages(tmp_path / "in.jsonl", [item])), "--files", str(files),
        "--report", str(report),
    )  # fmt: skip

    copy = Case.objects.get(number=item["case"]["number"])
    assert Volume.objects.filter(case=copy).count() == 1 and not Evidence.objects.filter(case=copy).exists()
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["totals"]["imported"] == 1 and written["rejected"] == []
    missing = [p for n in written["problems"] for p in n["problems"] if p["code"] == "file_missing"]
    assert len(missing) == 1 and gone in missing[0]["message"]
    assert CaseOrigin.objects.get(case=copy).attachments["files"]["evidence"][0]["blob"] == gone


def test_without_files_only_the_blobs_already_here_are_used(city: City, tmp_path: Path) -> None:
    _, items, files = exported(city, tmp_path)
    item = with_new_bytes(as_another_system(items)[:1][0], files)

    [result] = cases_import(path=write_packages(tmp_path / "in.jsonl", [item]))

    assert result.imported == 1
    copy = Case.objects.get(number=item["case"]["number"])
    assert not Volume.objects.filter(case=copy).exists() and not Evidence.objects.filter(case=copy).exists()
    assert Instrument.objects.filter(case=copy).count() == len(item["instruments"])  # their PDFs are here
    assert sum(p["code"] == "file_missing" for n in result.notes for p in n["problems"]) == 4


def test_a_file_whose_bytes_do_not_match_refuses_its_case_and_writes_nothing_of_it(
    city: City, tmp_path: Path
) -> None:
    _, items, files = exported(city, tmp_path)
    sent = as_another_system(items)
    sent[0] = with_new_bytes(sent[0], files)
    bad = sent[0]["files"]["volumes"][0]["pages"][1]
    blob_target(files, bad).chmod(0o644)
    blob_target(files, bad).write_bytes(b"not the page")
    before = (
        Volume.objects.count(),
        Page.objects.count(),
        Evidence.objects.count(),
        Instrument.objects.count(),
    )

    [result] = cases_import(path=write_packages(tmp_path / "in.jsonl", sent), files_dir=files)

    assert (result.imported, result.rejected) == (2, 1)
    [refusal] = result.problems
    assert refusal["number"] == sent[0]["case"]["number"]
    assert [p["code"] for p in refusal["problems"]] == ["file_hash_mismatch"]
    assert not Case.objects.filter(number=sent[0]["case"]["number"]).exists()
    assert (Volume.objects.count(), Page.objects.count(), Evidence.objects.count()) == before[:3]
    assert Instrument.objects.count() == before[3] + sum(len(p["instruments"]) for p in sent[1:])
    assert not Blob.objects.filter(sha256=bad).exists()


def test_importing_again_writes_nothing_twice(city: City, tmp_path: Path) -> None:
    _, items, files = exported(city, tmp_path)
    sent = as_another_system(items)
    sent[0] = with_new_bytes(sent[0], files)
    cases_import(path=write_packages(tmp_path / "in.jsonl", sent), files_dir=files)
    counts = (
        Case.objects.count(),
        Volume.objects.count(),
        Page.objects.count(),
        Evidence.objects.count(),
        Instrument.objects.count(),
        Blob.objects.count(),
        User.objects.filter(username=IMPORT_USERNAME).count(),
    )

    [again] = cases_import(path=write_packages(tmp_path / "again.jsonl.gz", sent), files_dir=files)

    assert (again.imported, again.skipped, again.rejected) == (0, 3, 0)
    assert counts[-1] == 1
    assert (
        Case.objects.count(),
        Volume.objects.count(),
        Page.objects.count(),
        Evidence.objects.count(),
        Instrument.objects.count(),
        Blob.objects.count(),
        User.objects.filter(username=IMPORT_USERNAME).count(),
    ) == counts


def test_a_dry_run_leaves_no_rows(city: City, tmp_path: Path) -> None:
    _, items, files = exported(city, tmp_path)
    sent = as_another_system(items)
    sent[0] = with_new_bytes(sent[0], files)
    before = (Case.objects.count(), Volume.objects.count(), Instrument.objects.count(), Blob.objects.count())

    [result] = cases_import(path=write_packages(tmp_path / "in.jsonl", sent), files_dir=files, dry_run=True)

    assert result.imported == 3
    assert (
        Case.objects.count(),
        Volume.objects.count(),
        Instrument.objects.count(),
        Blob.objects.count(),
    ) == before
    assert not User.objects.filter(username=IMPORT_USERNAME).exists()
