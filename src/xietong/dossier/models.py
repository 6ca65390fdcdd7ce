"""The electronic case file (电子卷宗, F3): content-addressed blobs, volumes of scanned pages with
their OCR text layer, the catalogue (卷宗目录) in versions, resumable uploads, and the page-view log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from xietong.cases.models import Case


class Blob(models.Model):
    """Bytes stored once under their SHA-256 and never overwritten (F3). Rows are only inserted."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} B)"


class VolumeStatus(models.TextChoices):
    RECEIVED = "received", "已接收"
    RENDERING = "rendering", "正在拆页"
    OCR = "ocr", "正在识别"
    READY = "ready", "已完成"
    FAILED = "failed", "处理失败"


class Volume(models.Model):
    """One 卷 of a case file: the uploaded original and its pages."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="volumes")
    number = models.PositiveSmallIntegerField("卷号")
    title = models.CharField("卷名", max_length=100)
    source = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    source_name = models.CharField("原文件名", max_length=255)
    page_count = models.PositiveIntegerField(default=0)
    pages_rendered = models.PositiveIntegerField(default=0)
    pages_ocred = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=VolumeStatus.choices, default=VolumeStatus.RECEIVED)
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()
    catalogue_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["case", "number"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="uniq_volume_number")]

    def __str__(self) -> str:
        return f"{self.case_id} 第{self.number}卷 {self.title}"


class Evidence(models.Model):
    """Electronic evidence that is not a scanned volume: audio and video (视听资料), played in the
    browser with seeking (HTTP range requests)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    number = models.PositiveSmallIntegerField("编号")
    title = models.CharField("名称", max_length=200)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    source_name = models.CharField("原文件名", max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "number"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="uniq_evidence_number")]

    def __str__(self) -> str:
        return f"{self.case_id} 证据{self.number} {self.title}"

    @property
    def is_video(self) -> bool:
        return self.blob.content_type.startswith("video/")


class OcrStatus(models.TextChoices):
    PENDING = "pending", "待识别"
    DONE = "done", "已识别"
    FAILED = "failed", "无法识别"


class Page(models.Model):
    volume = models.ForeignKey(Volume, on_delete=models.PROTECT, related_name="pages")
    number = models.PositiveIntegerField()
    image = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    thumb = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    ocr_status = models.CharField(max_length=10, choices=OcrStatus.choices, default=OcrStatus.PENDING)
    ocr_engine = models.CharField(max_length=30, blank=True)
    ocr_confidence = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    words = models.JSONField(default=list)  # [[x, y, w, h, text], ...] in image pixels
    quality = models.JSONField(default=list)  # scan-quality flags: blank, skewed, dark, unreadable

    class Meta:
        ordering = ["volume", "number"]
        constraints = [models.UniqueConstraint(fields=["volume", "number"], name="uniq_page_number")]
        indexes = [models.Index(fields=["volume", "ocr_status"])]

    def __str__(self) -> str:
        return f"{self.volume_id}:{self.number}"


class CatalogueEntry(models.Model):
    """A document of the 卷宗目录 (讯问笔录, 鉴定意见 …) with its page range, in one version of the
    catalogue. A new version copies the entries; old versions stay readable."""

    volume = models.ForeignKey(Volume, on_delete=models.PROTECT, related_name="catalogue")
    version = models.PositiveIntegerField()
    ordinal = models.PositiveSmallIntegerField()
    title = models.CharField("文书名称", max_length=200)
    kind = models.CharField("类别", max_length=30)
    start_page = models.PositiveIntegerField("起始页")
    end_page = models.PositiveIntegerField("结束页")

    class Meta:
        ordering = ["volume", "version", "ordinal"]
        indexes = [models.Index(fields=["volume", "version"])]

    def __str__(self) -> str:
        return f"{self.title} {self.start_page}-{self.end_page}"


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving", "上传中"
    COMPLETE = "complete", "已完成"
    FAILED = "failed", "失败"


class Upload(models.Model):
    """A resumable upload: chunks land in a part file; the client can ask how far it got and go on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)  # declared by the client, checked at the end
    received = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=UploadStatus.choices, default=UploadStatus.RECEIVING)
    error = models.TextField(blank=True)
    volume = models.ForeignKey(Volume, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.filename} {self.received}/{self.size}"


class PageIndex(models.Model):
    """Search words of a page's OCR text (jieba words joined by spaces); see ``dossier.search``.
    The case id is copied here so that the permission filter needs no join."""

    page = models.OneToOneField(Page, on_delete=models.CASCADE, related_name="index")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", db_index=True)
    tokens = models.TextField()

    def __str__(self) -> str:
        return f"index of {self.page_id}"


class PageView(models.Model):
    """Who read which page when (every view is logged, visible to supervisors)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.PROTECT, related_name="views")
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["page", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.page_id} @ {self.at:%Y-%m-%d %H:%M}"


class EvidenceView(models.Model):
    """Who played which audio or video when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="views")
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.user_id} → evidence {self.evidence_id} @ {self.at:%Y-%m-%d %H:%M}"
