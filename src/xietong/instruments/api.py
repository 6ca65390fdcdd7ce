"""REST API for instruments: drafts, 签发, 盖章, service receipts, 撤回/更正, and the public
verification of a sealed PDF. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.errors import ValidationFailed
from xietong.idempotency import run_idempotent
from xietong.instruments import catalogue, services
from xietong.instruments.models import Instrument, Service

MAX_VERIFY_BYTES = 50 * 1024 * 1024


def service_out(s: Service) -> dict[str, Any]:
    return {
        "id": s.pk,
        "method": s.method,
        "recipient_unit": s.recipient_unit.name if s.recipient_unit else None,
        "recipient_name": s.recipient_name,
        "delivered_at": s.delivered_at,
        "opened_at": s.opened_at,
        "receipt_signed_on": s.receipt_signed_on,
        "has_receipt": bool(s.receipt_id),
    }


def instrument_out(i: Instrument, *, with_text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": i.pk,
        "case_id": i.case_id,
        "kind": i.kind,
        "status": i.status,
        "status_label": i.get_status_display(),
        "unit": i.unit.name,
        "number": i.number,
        "claimed_date": i.claimed_date,
        "version": i.version,
        "issued_at": i.issued_at,
        "approved_at": i.approved_at,
        "sealed_at": i.sealed_at,
        "pdf_sha256": i.pdf_sha256 or None,
        "verify_url": services.verify_url(i.public_token) if i.public_token else None,
        "pending_change": i.pending_change or None,
        "revoked_at": i.revoked_at,
        "revoked_reason": i.revoked_reason or None,
        "supersedes": i.supersedes_id,
    }
    if with_text:
        body, closing = services.draft_text(i)
        out.update(body=body, closing=closing, services=[service_out(s) for s in i.services.all()])
    return out


class InstrumentCreateIn(serializers.Serializer):
    kind = serializers.CharField(max_length=50)
    party_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CaseInstrumentsApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="本案文书")
    def get(self, request: Request, case_id: int) -> Response:
        from xietong.cases.selectors import case_get_visible

        case = case_get_visible(user=request.user, case_id=case_id)  # type: ignore[arg-type]
        rows = Instrument.objects.filter(case=case).select_related("unit")
        return Response({"case_id": case.pk, "instruments": [instrument_out(i) for i in rows]})

    @extend_schema(request=InstrumentCreateIn, responses=OpenApiTypes.OBJECT, summary="起草文书")
    def post(self, request: Request, case_id: int) -> Response:
        def compute() -> Response:
            data = InstrumentCreateIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            i = services.instrument_create(
                user=request.user,  # type: ignore[arg-type]
                case_id=case_id,
                kind=v["kind"],
                party_ids=v["party_ids"],
                reason=v["reason"],
            )
            return Response(instrument_out(i, with_text=True), status=201)

        return run_idempotent(request, compute)


class InstrumentEditIn(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=50_000)
    recipient = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    claimed_date = serializers.DateField(required=False, allow_null=True, default=None)
    expected_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class InstrumentApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="文书详情（正文、送达情况）")
    def get(self, request: Request, instrument_id: int) -> Response:
        i = services.instrument_get(user=request.user, instrument_id=instrument_id)  # type: ignore[arg-type]
        return Response(instrument_out(i, with_text=True))

    @extend_schema(request=InstrumentEditIn, responses=OpenApiTypes.OBJECT, summary="修改草稿")
    def patch(self, request: Request, instrument_id: int) -> Response:
        def compute() -> Response:
            data = InstrumentEditIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            i = services.instrument_edit(
                user=request.user,  # type: ignore[arg-type]
                instrument_id=instrument_id,
                body=v["body"],
                recipient=v["recipient"],
                claimed_date=v["claimed_date"],
                expected_version=v["expected_version"],
            )
            return Response(instrument_out(i, with_text=True))

        return run_idempotent(request, compute)


class StepIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    change = serializers.ChoiceField(choices=["withdraw", "correct"], required=False)
    approve = serializers.BooleanField(required=False, default=True)


class InstrumentStepApi(APIView):
    @extend_schema(
        request=StepIn,
        responses=OpenApiTypes.OBJECT,
        summary="文书流转（submit/approve/reject/seal/change/decide）",
    )
    def post(self, request: Request, instrument_id: int, step: str) -> Response:
        if step not in services.STEPS:
            raise ValidationFailed("未知的文书操作", code="unknown_step")

        def compute() -> Response:
            data = StepIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            i = services.instrument_step(
                user=request.user,  # type: ignore[arg-type]
                instrument_id=instrument_id,
                step=step,
                reason=v["reason"],
                change=v.get("change", ""),
                approve=v["approve"],
            )
            return Response(instrument_out(i, with_text=True))

        return run_idempotent(request, compute)


class InstrumentPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY}, summary="文书 PDF（查看留痕）")
    def get(self, request: Request, instrument_id: int) -> HttpResponse:
        i, data = services.instrument_pdf(user=request.user, instrument_id=instrument_id)  # type: ignore[arg-type]
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f"inline; filename=instrument-{i.pk}.pdf"
        return response


class SourceIn(serializers.Serializer):
    file = serializers.FileField()


class InstrumentSourceApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=SourceIn, responses=OpenApiTypes.OBJECT, summary="上传本院裁判文书 PDF（判决书、裁定书）"
    )
    def post(self, request: Request, instrument_id: int) -> Response:
        def compute() -> Response:
            data = SourceIn(data=request.data)
            data.is_valid(raise_exception=True)
            i = services.instrument_upload_source(
                user=request.user,  # type: ignore[arg-type]
                instrument_id=instrument_id,
                data=data.validated_data["file"].read(),
            )
            return Response(instrument_out(i, with_text=True))

        return run_idempotent(request, compute)


class ReceiptIn(serializers.Serializer):
    file = serializers.FileField()
    signed_on = serializers.DateField()
    recipient_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ReceiptApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ReceiptIn, responses=OpenApiTypes.OBJECT, summary="上传送达回证")
    def post(self, request: Request, service_id: int) -> Response:
        def compute() -> Response:
            data = ReceiptIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            upload = v["file"]
            s = services.receipt_upload(
                user=request.user,  # type: ignore[arg-type]
                service_id=service_id,
                data=upload.read(),
                content_type=upload.content_type or "",
                signed_on=v["signed_on"],
                recipient_name=v["recipient_name"],
            )
            return Response(service_out(s))

        return run_idempotent(request, compute)


def verification_out(result: services.Verification) -> dict[str, Any]:
    c, i = result.check, result.instrument
    return {
        "verdict": result.verdict,
        "verdict_label": services.VERDICT_LABELS[result.verdict],
        "sha256": result.sha256,
        "signature": {
            "signed": c.signed,
            "intact": c.intact,
            "trusted": c.trusted,
            "entire_file": c.entire_file,
            "signer_unit": c.signer_unit or None,
            "certificate_serial": c.certificate_serial or None,
            "signed_at": c.signed_at,
            "number": c.number or None,
            "kind": c.kind or None,
            "problems": c.problems,
        },
        "instrument": (
            {
                "kind": i.kind,
                "number": i.number,
                "unit": i.unit.name,
                "status": i.status,
                "status_label": i.get_status_display(),
                "sealed_at": i.sealed_at,
                "revoked_at": i.revoked_at,
                "revoked_reason": i.revoked_reason or None,
                "is_registered_copy": i.pdf_sha256 == result.sha256,
            }
            if i
            else None
        ),
        "seal": (
            {
                "serial": result.seal.serial,
                "unit": result.seal.unit.name,
                "revoked_at": result.seal.revoked_at,
            }
            if result.seal
            else None
        ),
        "sm2": (
            {"valid": result.sm2_valid, "problem": result.sm2_problem or None, "algorithm": "SM2-with-SM3"}
            if result.sm2_valid is not None
            else None
        ),
        "ledger_proof": result.proof,
        "ledger_note": result.proof_note or None,
    }


class VerifyApi(APIView):
    """Public (no login): anyone holding a sealed instrument may check it."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses=OpenApiTypes.OBJECT,
        summary="核验盖章文书（无需登录）",
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("请上传要核验的 PDF 文件", code="file_required")
        if upload.size and upload.size > MAX_VERIFY_BYTES:
            raise ValidationFailed("文件超过 50MB", code="file_too_large")
        return Response(verification_out(services.verify_document(upload.read())))


class CatalogueApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="文书目录")
    def get(self, request: Request) -> Response:
        return Response(
            {
                "kinds": [
                    {
                        "title": k.title,
                        "agency": k.agency,
                        "recipient": k.recipient_label,
                        "articles": list(k.articles),
                        "service_rule": k.service_rule,
                    }
                    for k in catalogue.KINDS.values()
                ]
            }
        )
