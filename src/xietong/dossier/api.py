"""API for the case file: resumable uploads, volumes, pages, search. The browser's uploader and
reader use the same endpoints (session auth + CSRF)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.dossier import selectors, services
from xietong.dossier.models import Evidence, Upload, Volume
from xietong.errors import ValidationFailed
from xietong.idempotency import run_idempotent
from xietong.orgs.models import User


def _me(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise ValidationFailed("需要登录", code="not_authenticated")
    return user


class OctetStreamParser(BaseParser):
    media_type = "application/octet-stream"

    def parse(  # type: ignore[override]  # the body is the chunk itself
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        return stream.read(services.MAX_CHUNK + 1) if stream else b""


def upload_out(upload: Upload) -> dict[str, Any]:
    return {
        "id": str(upload.pk),
        "filename": upload.filename,
        "size": upload.size,
        "received": upload.received,
        "status": upload.status,
        "error": upload.error,
        "volume_id": upload.volume_id,
    }


def evidence_out(evidence: Evidence) -> dict[str, Any]:
    return {
        "kind": "evidence",
        "id": evidence.pk,
        "case_id": evidence.case_id,
        "number": evidence.number,
        "title": evidence.title,
        "source_name": evidence.source_name,
        "content_type": evidence.blob.content_type,
        "size": evidence.blob.size,
        "sha256": evidence.blob.sha256,
        "url": f"/evidence/{evidence.pk}/media",
    }


def volume_out(volume: Volume) -> dict[str, Any]:
    return {
        "kind": "volume",
        "id": volume.pk,
        "case_id": volume.case_id,
        "number": volume.number,
        "title": volume.title,
        "source_name": volume.source_name,
        "sha256": volume.source.sha256,
        "page_count": volume.page_count,
        "pages_rendered": volume.pages_rendered,
        "pages_ocred": volume.pages_ocred,
        "status": volume.status,
        "status_label": volume.get_status_display(),
        "error": volume.error,
        "catalogue_version": volume.catalogue_version,
    }


class UploadStartIn(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    size = serializers.IntegerField(min_value=0)
    sha256 = serializers.CharField(required=False, allow_blank=True, default="")


class UploadStartApi(APIView):
    @extend_schema(request=UploadStartIn, responses=OpenApiTypes.OBJECT, summary="开始上传卷宗（可续传）")
    def post(self, request: Request, case_id: int) -> Response:
        def compute() -> Response:
            data = UploadStartIn(data=request.data)
            data.is_valid(raise_exception=True)
            upload = services.upload_start(user=_me(request), case_id=case_id, **data.validated_data)
            return Response(upload_out(upload), status=201)

        return run_idempotent(request, compute)


class UploadApi(APIView):
    parser_classes = [OctetStreamParser]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="上传进度（续传从 received 开始）")
    def get(self, request: Request, upload_id: str) -> Response:
        return Response(upload_out(services._own_upload(_me(request), upload_id)))

    @extend_schema(
        parameters=[OpenApiParameter("offset", int, required=True)],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses=OpenApiTypes.OBJECT,
        summary="上传一个分片（请求头 X-Chunk-SHA256 为分片校验值）",
    )
    def put(self, request: Request, upload_id: str) -> Response:
        try:
            offset = int(request.query_params.get("offset", ""))
        except ValueError as exc:
            raise ValidationFailed("offset 须为整数", code="bad_offset") from exc
        data = request.data if isinstance(request.data, bytes) else b""
        upload = services.upload_chunk(
            user=_me(request),
            upload_id=upload_id,
            offset=offset,
            data=data,
            chunk_sha256=request.headers.get("X-Chunk-SHA256", ""),
        )
        return Response(upload_out(upload))


class UploadFinishIn(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class UploadFinishApi(APIView):
    @extend_schema(request=UploadFinishIn, responses=OpenApiTypes.OBJECT, summary="完成上传，生成卷宗")
    def post(self, request: Request, upload_id: str) -> Response:
        def compute() -> Response:
            data = UploadFinishIn(data=request.data)
            data.is_valid(raise_exception=True)
            result = services.upload_finish(
                user=_me(request), upload_id=upload_id, title=data.validated_data["title"]
            )
            if isinstance(result, Evidence):
                return Response(evidence_out(result), status=201)
            return Response(volume_out(result), status=201)

        return run_idempotent(request, compute)


class CaseVolumesApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="案件的卷宗及处理进度")
    def get(self, request: Request, case_id: int) -> Response:
        user = _me(request)
        volumes = selectors.volumes_of_case(user=user, case_id=case_id).select_related("source")
        evidence = selectors.evidence_of_case(user=user, case_id=case_id)
        return Response(
            {"results": [volume_out(v) for v in volumes], "evidence": [evidence_out(e) for e in evidence]}
        )


class VolumeApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="卷宗详情、目录与页面")
    def get(self, request: Request, volume_id: int) -> Response:
        volume = selectors.volume_get_visible(user=_me(request), volume_id=volume_id)
        pages = volume.pages.values("id", "number", "width", "height", "ocr_status", "quality")
        return Response(
            {
                **volume_out(volume),
                "catalogue": [
                    {"title": e.title, "kind": e.kind, "start_page": e.start_page, "end_page": e.end_page}
                    for e in selectors.catalogue(volume=volume)
                ],
                "pages": list(pages),
            }
        )


class PageWordsApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="页面文字层（带位置），用于选择复制")
    def get(self, request: Request, page_id: int) -> Response:
        page = selectors.page_get_visible(user=_me(request), page_id=page_id)
        return Response(
            {
                "id": page.pk,
                "number": page.number,
                "width": page.width,
                "height": page.height,
                "ocr_status": page.ocr_status,
                "text": page.text,
                "words": page.words,
            }
        )


class SearchApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True), OpenApiParameter("case_id", int)],
        responses=OpenApiTypes.OBJECT,
        summary="全文检索卷宗（仅限有权查看的案件）",
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ValidationFailed("请输入检索词", code="query_required")
        case_id = request.query_params.get("case_id")
        results = selectors.search_case_files(
            user=_me(request), query=query, case_id=int(case_id) if case_id and case_id.isdigit() else None
        )
        return Response(
            {
                "results": [
                    {
                        "page_id": r.page.pk,
                        "page": r.page.number,
                        "volume_id": r.page.volume_id,
                        "volume": r.page.volume.number,
                        "case_id": r.page.volume.case_id,
                        "case_title": r.page.volume.case.title,
                        "snippet": r.snippet,
                        "spans": r.spans,
                    }
                    for r in results
                ]
            }
        )
