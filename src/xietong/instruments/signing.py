"""PAdES signatures for sealed instruments (pyHanko), and their verification.

Sealing speed: pyHanko with a text stamp (glyphs of a CJK font embedded per signature) takes
≈ 300 ms a signature here (DEPENDENCIES.md). The seal's appearance is the unit's seal image and
nothing else — a ``StaticStampStyle`` built once per seal and reused — which brings a visible
signature to ≈ 20 ms. Verification needs only the platform's CA certificate: the same function
serves ``/verify`` and the offline ``xietong instruments verify``."""

from __future__ import annotations

import datetime as dt
import io
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

FIELD = "XietongSeal"


@dataclass(frozen=True)
class SealMaterial:
    serial: str
    certificate_der: bytes
    key: ec.EllipticCurvePrivateKey
    image_png: bytes
    ca_der: bytes
    sm2_private: str = ""
    sm2_public: str = ""


# Per thread: a pyHanko ``PdfImage`` binds itself to the writer it is drawn into, so two threads
# sealing at once (the server's thread pool) must not share one (an assertion in pyHanko otherwise).
_local = threading.local()


def _stamp_style(material: SealMaterial) -> Any:
    """The seal's appearance, built once per seal and thread (the PNG decoded and converted once)."""
    styles: dict[str, Any] = getattr(_local, "styles", None) or {}
    _local.styles = styles
    style = styles.get(material.serial)
    if style is None:
        from PIL import Image
        from pyhanko.pdf_utils.images import PdfImage
        from pyhanko.stamp import StaticStampStyle

        image = PdfImage(Image.open(io.BytesIO(material.image_png)))
        style = StaticStampStyle(background=image, border_width=0, background_opacity=1.0)
        styles[material.serial] = style
    return style


@lru_cache(maxsize=256)
def _signer(serial: str, cert_der: bytes, key_der: bytes, ca_der: bytes) -> Any:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(ca_der)]),
    )


def sign_pdf(
    pdf: bytes,
    *,
    material: SealMaterial,
    page: int,
    box: tuple[int, int, int, int],
    reason: str,
    location: str,
) -> bytes:
    """Sign ``pdf`` (PAdES B-B, SHA-256, ECDSA P-256) with a visible seal in ``box`` on ``page``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key_der = material.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = _signer(material.serial, material.certificate_der, key_der, material.ca_der)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=_stamp_style(material),
        new_field_spec=fields.SigFieldSpec(FIELD, on_page=page, box=box),
    )
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out)
    return out.getvalue()


@dataclass
class SignatureCheck:
    """What the document itself proves, given only the CA certificate."""

    signed: bool
    intact: bool = False  # the signed bytes hash to what the signature covers
    trusted: bool = False  # the signing certificate chains to the platform CA and was valid then
    entire_file: bool = False  # nothing was added after the signature (no incremental update)
    signer_unit: str = ""
    certificate_serial: str = ""
    signed_at: dt.datetime | None = None
    reason: str = ""
    number: str = ""
    kind: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted and self.entire_file


def _parse_reason(reason: str) -> tuple[str, str]:
    parts = dict(p.split("：", 1) for p in reason.split("；") if "：" in p)
    return parts.get("文号", ""), parts.get("文书", "")


def check_pdf(data: bytes, *, ca_der: bytes) -> SignatureCheck:
    """Verify the seal of ``data`` against the CA. Never raises on bad input: a file that is not a
    PDF, has no signature or a broken one is reported, with the reason in Chinese."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # pyHanko raises many types on malformed input
        return SignatureCheck(signed=False, problems=["文件不是有效的 PDF 文件，或其结构已被破坏"])
    ours = [s for s in signatures if s.field_name == FIELD]
    if not ours:
        return SignatureCheck(signed=False, problems=["文件中没有本平台的电子印章签名"])
    sig = ours[-1]
    check = SignatureCheck(signed=True)
    try:
        cert = sig.signer_cert
        crypto_cert = x509.load_der_x509_certificate(cert.dump())
        check.certificate_serial = format(crypto_cert.serial_number, "x")
        orgs = crypto_cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        check.signer_unit = str(orgs[0].value) if orgs else ""
        sig_obj = sig.sig_object
        check.reason = str(sig_obj.get("/Reason", ""))
        check.number, check.kind = _parse_reason(check.reason)
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(ca_der)],
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        status = validate_pdf_signature(
            sig,
            signer_validation_context=context,
            key_usage_settings=KeyUsageConstraints(key_usage={"non_repudiation"}),
        )
    except Exception as exc:  # a damaged signature container, an unknown algorithm, ...
        check.problems.append(f"签名数据无法解析：{type(exc).__name__}")
        return check
    check.intact = bool(status.intact and status.valid)
    check.trusted = bool(status.trusted)
    check.signed_at = status.signer_reported_dt
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    check.entire_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not check.intact:
        check.problems.append("文件内容与签名不符：盖章后被改动过")
    if check.intact and not check.trusted:
        check.problems.append("签章证书不是本平台电子印章根证书签发的，或已过期")
    if check.intact and not check.entire_file:
        check.problems.append("盖章后文件被追加了内容（增量更新），追加部分不受印章保护")
    return check
