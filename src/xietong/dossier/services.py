"""Writes to the case file: resumable upload → stored blob → volume → pages (rendered and OCR'd in
the background, page by page), the catalogue, and the page-view log. Every stored file's hash goes
into the case's ledger."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max

from xietong import jobs, servertime
from xietong.cases.models import Case, Transfer
from xietong.cases.procedure import HANDLERS
from xietong.cases.selectors import case_visible_to
from xietong.dossier import blobs, render, search
from xietong.dossier.models import (
    Blob,
    CatalogueEntry,
    Evidence,
    EvidenceView,
    OcrStatus,
    Page,
    PageView,
    Upload,
    UploadStatus,
    Volume,
    VolumeStatus,
)
from xietong.dossier.sniff import LABELS, MEDIA_TYPES, SCAN_TYPES, expected_type, same_kind, sniff_path
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.ledger.services import Actor, actor_of, ledger_append
from xietong.orgs.models import User

UploadId = str | uuid.UUID
MAX_UPLOAD = 2 * 1024**3  # 2 GB
MAX_CHUNK = 16 * 1024 * 1024

CATALOGUE_KINDS = [
    "讯问笔录",
    "询问笔录",
    "鉴定意见",
    "书证",
    "物证照片",
    "勘验检查笔录",
    "辨认笔录",
    "视听资料",
    "电子数据",
    "法律文书",
    "其他",
]


def _parts_dir() -> Path:
    path = Path(settings.XIETONG_HOME) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _part_path(upload: Upload) -> Path:
    return _parts_dir() / f"{upload.pk}.part"


def _actor(user: User) -> Actor:
    return actor_of(user, preferred=sorted(user.duty_codes))


def _may_add_material(user: User, case: Case) -> None:
    """The unit that holds the case adds to its file (police while investigating, the procuratorate
    and the court their own materials)."""
    if not case_visible_to(user=user, case=case):
        raise NotFound("案件不存在或无权查看", code="case_not_found")
    if user.unit_id != case.holder_unit_id:
        raise NotAllowed("只有当前办理单位可以上传卷宗材料", code="not_holder")
    if not user.has_duty(*(HANDLERS | {"clerk"})):
        raise NotAllowed("您的职责不能上传卷宗材料", code="duty_forbidden")


# ---------------------------------------------------------------- resumable upload


def upload_start(*, user: User, case_id: int, filename: str, size: int, sha256: str = "") -> Upload:
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise NotFound("案件不存在", code="case_not_found")
    _may_add_material(user, case)
    if expected_type(filename) not in SCAN_TYPES | MEDIA_TYPES:
        raise ValidationFailed(
            "只支持扫描卷宗（PDF、JPEG、PNG、TIFF）和视听资料（MP3、WAV、M4A、MP4、WebM）",
            code="unsupported_type",
        )
    if size <= 0:
        raise ValidationFailed("文件为空（0 字节）", code="empty_file")
    if size > MAX_UPLOAD:
        raise ValidationFailed("单个文件不能超过 2 GB，请分卷上传", code="file_too_large")
    if sha256 and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256)):
        raise ValidationFailed("SHA-256 校验值格式错误", code="bad_checksum")
    now = servertime.now()
    return Upload.objects.create(
        case=case,
        user=user,
        filename=filename[:255],
        size=size,
        sha256=sha256,
        created_at=now,
        updated_at=now,
    )


def _own_upload(user: User, upload_id: UploadId) -> Upload:
    upload = Upload.objects.filter(pk=upload_id, user=user).first()
    if upload is None:
        raise NotFound("上传任务不存在", code="upload_not_found")
    return upload


def upload_chunk(
    *, user: User, upload_id: UploadId, offset: int, data: bytes, chunk_sha256: str = ""
) -> Upload:
    """Append one chunk at ``offset``. A chunk already received (a retry) is acknowledged and not
    written twice; a gap is refused with the offset to resume from."""
    if len(data) > MAX_CHUNK:
        raise ValidationFailed("分片过大（最大 16 MB）", code="chunk_too_large")
    if chunk_sha256 and hashlib.sha256(data).hexdigest() != chunk_sha256.lower():
        raise ValidationFailed("分片校验失败，请重传该分片", code="chunk_checksum_mismatch")
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_id, user=user).first()
        if upload is None:
            raise NotFound("上传任务不存在", code="upload_not_found")
        if upload.status != UploadStatus.RECEIVING:
            raise Conflict("该上传已结束", code="upload_closed")
        if offset + len(data) <= upload.received:
            return upload  # duplicate of a chunk we have
        if offset != upload.received:
            raise Conflict(
                f"分片位置不连续，请从第 {upload.received} 字节继续",
                code="offset_mismatch",
                details={"received": upload.received},
            )
        if upload.received + len(data) > upload.size:
            raise ValidationFailed("上传内容超过声明的文件大小", code="size_exceeded")
        part = _part_path(upload)
        with part.open("ab") as fh:
            fh.seek(offset)
            fh.truncate(offset)  # a torn earlier write beyond ``received`` is discarded
            fh.write(data)
        upload.received = offset + len(data)
        upload.updated_at = servertime.now()
        upload.save(update_fields=["received", "updated_at"])
        return upload


def upload_finish(*, user: User, upload_id: UploadId, title: str = "") -> Volume | Evidence:
    """Check the whole file (size, declared SHA-256, real type, readable pages) and make it a volume
    (scans) or an item of e-evidence (audio, video). On any failure nothing is stored and the upload
    says why. Finishing twice returns the same result."""
    upload = _own_upload(user, upload_id)
    if upload.status == UploadStatus.COMPLETE:
        if upload.volume_id:
            return Volume.objects.get(pk=upload.volume_id)
        if upload.evidence_id:
            return Evidence.objects.get(pk=upload.evidence_id)
    if upload.received != upload.size:
        raise Conflict(f"文件尚未传完（{upload.received}/{upload.size} 字节）", code="upload_incomplete")
    part = _part_path(upload)
    case = upload.case
    _may_add_material(user, case)

    def fail(message: str, code: str) -> ValidationFailed:
        Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.FAILED, error=message)
        part.unlink(missing_ok=True)
        return ValidationFailed(message, code=code)

    actual = sniff_path(part)
    claimed = expected_type(upload.filename)
    if actual is None:
        raise fail("无法识别的文件内容，请上传 PDF、图像、音频或视频", "unrecognised_content")
    if not same_kind(actual, claimed):
        raise fail(
            f"文件内容是 {LABELS.get(actual, actual)}，与扩展名（{Path(upload.filename).suffix}）不符",
            "type_mismatch",
        )
    digest = blobs.sha256_of_file(part)
    if upload.sha256 and digest != upload.sha256:
        raise fail("整体校验值不一致，文件在传输中损坏，请重新上传", "checksum_mismatch")
    pages = 0
    if actual in SCAN_TYPES:
        try:
            pages = render.count_pages(part, actual)
        except render.RenderError as exc:
            raise fail(exc.message, exc.code) from exc
    blob = blobs.blob_put_file(part, content_type=actual, sha256=digest)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # serialise numbers and the chain
        result: Volume | Evidence
        if actual in SCAN_TYPES:
            result = _volume_create(user, upload, blob, title, pages)
            upload.volume = result
        else:
            result = _evidence_create(user, upload, blob, title)
            upload.evidence = result
        upload.status = UploadStatus.COMPLETE
        upload.save(update_fields=["status", "volume", "evidence"])
    part.unlink(missing_ok=True)
    return result


def _volume_create(user: User, upload: Upload, blob: Blob, title: str, pages: int) -> Volume:
    case = upload.case
    number = (Volume.objects.filter(case=case).aggregate(n=Max("number"))["n"] or 0) + 1
    volume = Volume.objects.create(
        case=case,
        number=number,
        title=title.strip()[:100] or f"第{number}卷",
        source=blob,
        source_name=upload.filename,
        page_count=pages,
        uploaded_by=user,
        uploaded_at=servertime.now(),
    )
    ledger_append(
        case_id=case.pk,
        actor=_actor(user),
        action="volume_upload",
        payload={
            "label": "上传卷宗",
            "volume": number,
            "title": volume.title,
            "file": upload.filename,
            "sha256": blob.sha256,
            "size": blob.size,
            "pages": pages,
        },
    )
    from xietong.dossier.tasks import volume_process_task

    jobs.enqueue_on_commit(volume_process_task, volume.pk)
    return volume


def _evidence_create(user: User, upload: Upload, blob: Blob, title: str) -> Evidence:
    case = upload.case
    number = (Evidence.objects.filter(case=case).aggregate(n=Max("number"))["n"] or 0) + 1
    evidence = Evidence.objects.create(
        case=case,
        number=number,
        title=title.strip()[:200] or Path(upload.filename).stem[:200],
        blob=blob,
        source_name=upload.filename,
        uploaded_by=user,
        uploaded_at=servertime.now(),
    )
    ledger_append(
        case_id=case.pk,
        actor=_actor(user),
        action="evidence_upload",
        payload={
            "label": "上传视听资料",
            "evidence": number,
            "title": evidence.title,
            "file": upload.filename,
            "content_type": blob.content_type,
            "sha256": blob.sha256,
            "size": blob.size,
        },
    )
    return evidence


# ---------------------------------------------------------------- background processing


def volume_process(*, volume_id: int, ocr: bool = True) -> Volume:
    """Render every page not yet rendered, then OCR it, one page at a time, committing each page so
    that the first pages can be read and searched before the last is done. Safe to run again after
    a crash: it resumes at the first missing page and never stores a page twice."""
    volume = Volume.objects.select_related("source").get(pk=volume_id)
    if volume.status == VolumeStatus.READY:
        return volume
    engine = None
    if ocr:
        from xietong.dossier.ocr import OcrUnavailable, default_engine

        try:
            engine = default_engine()
        except OcrUnavailable as exc:
            Volume.objects.filter(pk=volume.pk).update(error=str(exc))
    done = set(Page.objects.filter(volume=volume).values_list("number", flat=True))
    start = max(done) + 1 if done else 1
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.RENDERING)
    try:
        with blobs.blob_local_path(volume.source) as source:
            for rendered in render.render_pages(source, volume.source.content_type, start=start):
                _store_page(volume, rendered, engine)
    except render.RenderError as exc:
        Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.FAILED, error=exc.message)
        return Volume.objects.get(pk=volume.pk)
    if engine is not None:  # pages rendered in an earlier run but not yet recognised
        for page in Page.objects.filter(volume=volume, ocr_status=OcrStatus.PENDING).order_by("number"):
            with blobs.blob_open(page.image) as fh:
                from PIL import Image

                _ocr_page(page, Image.open(fh).convert("L"), engine)
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.READY)
    return Volume.objects.get(pk=volume.pk)


def _store_page(volume: Volume, rendered: render.RenderedPage, engine: Any) -> None:
    image = blobs.blob_put_bytes(rendered.image, content_type="image/jpeg")
    thumb = blobs.blob_put_bytes(rendered.thumb, content_type="image/jpeg")
    with transaction.atomic():
        page, created = Page.objects.get_or_create(
            volume=volume,
            number=rendered.number,
            defaults={
                "image": image,
                "thumb": thumb,
                "width": rendered.width,
                "height": rendered.height,
                "quality": rendered.quality,
            },
        )
        if created:
            Volume.objects.filter(pk=volume.pk).update(pages_rendered=F("pages_rendered") + 1)
    if engine is not None and page.ocr_status == OcrStatus.PENDING and rendered.pil is not None:
        Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.OCR)
        _ocr_page(page, rendered.pil, engine)


def _ocr_page(page: Page, image: Any, engine: Any) -> None:
    try:
        result = engine.recognise(image)
    except Exception as exc:  # a page OCR cannot read is marked, the rest of the volume goes on
        Page.objects.filter(pk=page.pk).update(
            ocr_status=OcrStatus.FAILED, ocr_engine=getattr(engine, "name", "")
        )
        Volume.objects.filter(pk=page.volume_id).update(error=f"第{page.number}页识别失败：{exc}")
        return
    with transaction.atomic():
        updated = Page.objects.filter(pk=page.pk, ocr_status=OcrStatus.PENDING).update(
            ocr_status=OcrStatus.DONE,
            ocr_engine=result.engine,
            ocr_confidence=result.confidence,
            text=result.text,
            words=result.words,
        )
        if updated:
            Volume.objects.filter(pk=page.volume_id).update(pages_ocred=F("pages_ocred") + 1)
            search.index_page(page_id=page.pk, case_id=page.volume.case_id, text=result.text)


# ---------------------------------------------------------------- catalogue


@dataclass
class EntryInput:
    title: str
    kind: str
    start_page: int
    end_page: int


def catalogue_save(*, user: User, volume_id: int, entries: list[EntryInput], expected_version: int) -> int:
    """Replace the catalogue. Before the volume first leaves the unit it is edited in place; after,
    every change makes a new version and the old one stays readable. Returns the version saved."""
    volume = Volume.objects.select_related("case").filter(pk=volume_id).first()
    if volume is None:
        raise NotFound("卷宗不存在", code="volume_not_found")
    _may_add_material(user, volume.case)
    for entry in entries:
        if not entry.title.strip():
            raise ValidationFailed("目录条目须填写名称", code="catalogue_invalid")
        if entry.kind not in CATALOGUE_KINDS:
            raise ValidationFailed(f"未知的文书类别：{entry.kind}", code="catalogue_invalid")
        if not 1 <= entry.start_page <= entry.end_page <= volume.page_count:
            raise ValidationFailed(
                f"「{entry.title}」的页码应在 1 至 {volume.page_count} 之间且起始页不大于结束页",
                code="catalogue_invalid",
            )
    with transaction.atomic():
        locked = Volume.objects.select_for_update().get(pk=volume.pk)
        if locked.catalogue_version != expected_version:
            raise Conflict("目录已被他人修改，请刷新后重试", code="version_conflict")
        version = locked.catalogue_version
        sealed = volume_is_sealed(locked)
        if sealed:
            version += 1
            Volume.objects.filter(pk=locked.pk).update(catalogue_version=version)
        else:
            CatalogueEntry.objects.filter(volume=locked, version=version).delete()
        CatalogueEntry.objects.bulk_create(
            [
                CatalogueEntry(
                    volume=locked,
                    version=version,
                    ordinal=i,
                    title=e.title.strip()[:200],
                    kind=e.kind,
                    start_page=e.start_page,
                    end_page=e.end_page,
                )
                for i, e in enumerate(sorted(entries, key=lambda e: (e.start_page, e.end_page)), start=1)
            ]
        )
        if sealed:
            Case.objects.select_for_update().filter(pk=locked.case_id).first()
            ledger_append(
                case_id=locked.case_id,
                actor=_actor(user),
                action="catalogue_revise",
                payload={"label": "修订卷宗目录", "volume": locked.number, "version": version},
            )
        return version


def volume_is_sealed(volume: Volume) -> bool:
    """Once the case has been sent to another unit after this volume was uploaded, the catalogue
    is frozen: changes make a new version and the old one stays readable (F3)."""
    return Transfer.objects.filter(case_id=volume.case_id, sent_at__gte=volume.uploaded_at).exists()


def page_view_log(*, user: User, page: Page) -> None:
    PageView.objects.create(user=user, page=page, at=servertime.now())


def evidence_view_log(*, user: User, evidence: Evidence) -> None:
    """Plays are logged like page views; a player's range requests within a minute count once."""
    now = servertime.now()
    recent = EvidenceView.objects.filter(user=user, evidence=evidence, at__gte=now - timedelta(minutes=1))
    if not recent.exists():
        EvidenceView.objects.create(user=user, evidence=evidence, at=now)
