"""Instruments through their door: 签发, seal, service, verification, revocation, alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import City, register_case
from tests.instruments.conftest import accept, act, draft_of, seal_through
from xietong.cases.models import Party
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.instruments import services
from xietong.instruments.models import InstrumentStatus, InstrumentView, NumberCounter, Service
from xietong.ledger.models import LedgerEntry
from xietong.supervision.models import Alert


def _arrest_request(city: City) -> tuple[int, int]:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "request_arrest", party_ids=parties)
    return case_id, draft_of(case_id, "提请批准逮捕书").pk


def test_arrest_request_and_decision_are_sealed_served_and_verify(city: City) -> None:
    case_id, draft_id = _arrest_request(city)
    draft = services.instrument_get(user=city.u("gusu.police"), instrument_id=draft_id)
    assert draft.status == InstrumentStatus.DRAFT and draft.number is None

    sealed = seal_through(city, draft, "gusu.police", "gusu.police_leader")
    assert sealed.status == InstrumentStatus.SEALED
    assert sealed.number == f"苏姑苏公(刑)提捕字〔{timezone.localdate().year}〕1号"
    assert sealed.approved_by == city.u("gusu.police_leader")
    service = Service.objects.get(instrument=sealed)
    assert service.recipient_unit == city.counties["gusu"].procuratorate and service.delivered_at
    assert service.opened_at is None

    pdf = services.sealed_pdf_bytes(sealed)
    result = services.verify_document(pdf)
    assert result.verdict == "valid", result.check.problems
    assert result.check.number == sealed.number and result.check.signer_unit == "姑苏区公安分局"
    assert result.instrument == sealed

    accept(city, "gusu.procu", case_id)
    services.instrument_pdf(user=city.u("gusu.procu"), instrument_id=sealed.pk)
    service.refresh_from_db()
    assert service.opened_by == city.u("gusu.procu") and service.opened_at
    assert InstrumentView.objects.filter(instrument=sealed, user=city.u("gusu.procu")).exists()

    act(city, "gusu.procu_leader", case_id, "approve_arrest")
    decision = draft_of(case_id, "批准逮捕决定书")
    body, _ = services.draft_text(decision)
    assert sealed.number in body  # the decision cites the request it answers
    decision = seal_through(city, decision, "gusu.procu", "gusu.procu_leader")
    assert decision.number.startswith("苏姑苏检刑批捕〔")
    back = Service.objects.get(instrument=decision)
    assert back.recipient_unit == city.counties["gusu"].police
    assert services.verify_document(services.sealed_pdf_bytes(decision)).verdict == "valid"
    actions = list(LedgerEntry.objects.filter(case_id=case_id).values_list("action", flat=True))
    assert actions.count("instrument_seal") == 2 and "instrument_opened" in actions


def test_changed_byte_appended_update_and_junk_are_reported(city: City) -> None:
    _, draft_id = _arrest_request(city)
    sealed = seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    pdf = services.sealed_pdf_bytes(sealed)
    at = pdf.index(b"WeasyPrint")  # the producer's name: the file's structure stays sound
    altered = pdf[:at] + b"w" + pdf[at + 1 :]
    result = services.verify_document(altered)
    assert result.verdict == "altered" and not result.check.intact
    assert result.instrument == sealed  # found by its 文号 even though its hash changed
    for at in range(0, len(pdf), max(1, len(pdf) // 23)):  # any one byte, wherever it is
        flipped = pdf[:at] + bytes([pdf[at] ^ 0x20]) + pdf[at + 1 :]
        assert services.verify_document(flipped).verdict != "valid", at

    appended = pdf + b"\n% extra\n"
    assert services.verify_document(appended).verdict in {"appended", "altered"}
    assert services.verify_document(b"not a pdf at all").verdict == "invalid"
    assert services.verify_document(b"").verdict == "invalid"


def draft_of_pk(pk: int):
    from xietong.instruments.models import Instrument

    return Instrument.objects.get(pk=pk)


def test_sealing_needs_approval_unit_and_duty_and_alerts_on_foreign_seal(city: City) -> None:
    _, draft_id = _arrest_request(city)
    with pytest.raises(Conflict) as not_approved:
        services.instrument_seal(user=city.u("gusu.police"), instrument_id=draft_id)
    assert not_approved.value.code == "instrument_not_approved"
    services.instrument_submit(user=city.u("gusu.police"), instrument_id=draft_id)
    with pytest.raises(NotAllowed):
        services.instrument_approve(user=city.u("gusu.police"), instrument_id=draft_id)  # not a leader
    services.instrument_approve(user=city.u("gusu.police_leader"), instrument_id=draft_id)
    with pytest.raises((NotAllowed, NotFound)):
        services.instrument_seal(user=city.u("wuzhong.police"), instrument_id=draft_id)
    # a procurator who can see the case still cannot seal with the police's seal
    with pytest.raises(NotAllowed) as foreign:
        services.instrument_seal(user=city.u("gusu.procu"), instrument_id=draft_id)
    assert foreign.value.code == "other_unit_seal"
    assert Alert.objects.filter(kind="foreign_seal", user=city.u("gusu.procu")).exists()
    assert NumberCounter.objects.count() == 0


def test_backdated_date_is_refused_with_an_alert_and_no_number_is_used(city: City) -> None:
    _, draft_id = _arrest_request(city)
    old = timezone.localdate() - timedelta(days=10)
    services.instrument_edit(
        user=city.u("gusu.police"), instrument_id=draft_id, body="正文", claimed_date=old
    )
    services.instrument_submit(user=city.u("gusu.police"), instrument_id=draft_id)
    services.instrument_approve(user=city.u("gusu.police_leader"), instrument_id=draft_id)
    with pytest.raises(ValidationFailed) as refused:
        services.instrument_seal(user=city.u("gusu.police"), instrument_id=draft_id)
    assert refused.value.code == "backdated"
    alert = Alert.objects.get(kind="backdate")
    assert alert.details["claimed"] == old.isoformat()
    assert draft_of_pk(draft_id).number is None and not NumberCounter.objects.exists()


def test_sealed_instrument_is_never_edited_and_withdrawal_needs_a_leader(city: City) -> None:
    _, draft_id = _arrest_request(city)
    sealed = seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    with pytest.raises(Conflict):
        services.instrument_edit(user=city.u("gusu.police"), instrument_id=sealed.pk, body="改过的正文")
    assert Alert.objects.filter(kind="alter_sealed").count() == 1

    services.instrument_change_request(
        user=city.u("gusu.police"), instrument_id=sealed.pk, change="withdraw", reason="提请对象有误"
    )
    with pytest.raises(NotAllowed):
        services.instrument_change_decide(user=city.u("gusu.police"), instrument_id=sealed.pk, approve=True)
    services.instrument_change_decide(
        user=city.u("gusu.police_leader"), instrument_id=sealed.pk, approve=True
    )
    sealed.refresh_from_db()
    assert sealed.status == InstrumentStatus.REVOKED and sealed.revoked_reason == "提请对象有误"
    result = services.verify_document(services.sealed_pdf_bytes(sealed))
    assert result.check.intact and result.verdict == "revoked"
    register = services.number_register(unit=sealed.unit, year=sealed.number_year or 0)
    assert [(i.number, i.status) for i in register] == [(sealed.number, "revoked")]


def test_correction_supersedes_the_old_instrument_with_a_new_number(city: City) -> None:
    _, draft_id = _arrest_request(city)
    old = seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    services.instrument_change_request(
        user=city.u("gusu.police"), instrument_id=old.pk, change="correct", reason="出生日期笔误"
    )
    new = services.instrument_change_decide(
        user=city.u("gusu.police_leader"), instrument_id=old.pk, approve=True
    )
    assert new.pk != old.pk and new.supersedes_id == old.pk and new.status == InstrumentStatus.DRAFT
    new = seal_through(city, new, "gusu.police", "gusu.police_leader")
    old.refresh_from_db()
    assert old.status == InstrumentStatus.SUPERSEDED
    assert new.number != old.number and new.number_seq == 2
    assert services.verify_document(services.sealed_pdf_bytes(old)).verdict == "superseded"
    assert services.verify_document(services.sealed_pdf_bytes(new)).verdict == "valid"


def test_personal_service_completes_with_an_uploaded_receipt(city: City) -> None:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "notify_detention", party_ids=parties)
    notice = seal_through(city, draft_of(case_id, "拘留通知书"), "gusu.police", "gusu.police_leader")
    service = Service.objects.get(instrument=notice)
    assert service.method == "personal" and service.delivered_at is None
    with pytest.raises(ValidationFailed):
        services.receipt_upload(
            user=city.u("gusu.police"),
            service_id=service.pk,
            data=b"x",
            content_type="text/plain",
            signed_on=timezone.localdate(),
        )
    done = services.receipt_upload(
        user=city.u("gusu.police"),
        service_id=service.pk,
        data=b"%PDF-1.4 receipt",
        content_type="application/pdf",
        signed_on=timezone.localdate(),
        recipient_name="张1之妻",
    )
    assert done.receipt_id and done.delivered_at and done.recipient_name == "张1之妻"
    with pytest.raises(Conflict):
        services.receipt_upload(
            user=city.u("gusu.police"),
            service_id=service.pk,
            data=b"%PDF",
            content_type="application/pdf",
            signed_on=timezone.localdate(),
        )


def test_other_units_cannot_read_instruments_of_cases_they_do_not_see(city: City) -> None:
    _, draft_id = _arrest_request(city)
    with pytest.raises(NotFound):
        services.instrument_get(user=city.u("wuzhong.procu"), instrument_id=draft_id)
    with pytest.raises(NotFound):
        services.instrument_pdf(user=city.u("wuzhong.police"), instrument_id=draft_id)


def test_offline_verification_needs_only_the_ca_certificate(city: City, tmp_path) -> None:
    from django.core.management import call_command

    _, draft_id = _arrest_request(city)
    sealed = seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(services.sealed_pdf_bytes(sealed))
    ca = tmp_path / "ca.pem"
    from io import StringIO

    out = StringIO()
    call_command("instruments", "ca-cert", stdout=out)
    ca.write_text(out.getvalue())
    out = StringIO()
    call_command("instruments", "verify", str(pdf), "--ca", str(ca), "--json", stdout=out)
    import json

    report = json.loads(out.getvalue())
    assert report["ok"] and report["number"] == sealed.number and report["signer_unit"] == "姑苏区公安分局"
    data = pdf.read_bytes()
    at = data.index(b"WeasyPrint")
    pdf.write_bytes(data[:at] + b"w" + data[at + 1 :])
    with pytest.raises(SystemExit):
        call_command("instruments", "verify", str(pdf), "--ca", str(ca), stdout=StringIO())
    other_ca = tmp_path / "other.pem"
    from xietong.instruments import crypto

    other_ca.write_bytes(crypto.pem(crypto.ca_create(timezone.now()).certificate))
    pdf.write_bytes(data)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("instruments", "verify", str(pdf), "--ca", str(other_ca), "--json", stdout=out)
    assert json.loads(out.getvalue())["trusted"] is False


def test_what_a_revoked_seal_signs_afterwards_is_reported(city: City) -> None:
    from django.core.management import call_command

    _, first_id = _arrest_request(city)
    before = seal_through(city, draft_of_pk(first_id), "gusu.police", "gusu.police_leader")
    call_command("instruments", "revoke-seal", before.unit.code, "--reason", "印章密钥泄露")
    assert before.seal is not None
    before.seal.refresh_from_db()
    assert before.seal.revoked_at is not None
    # sealed before the revocation: still valid
    assert services.verify_document(services.sealed_pdf_bytes(before)).verdict == "valid"
    # the next seal of the unit uses a new key and certificate
    _, second_id = _arrest_request(city)
    after = seal_through(city, draft_of_pk(second_id), "gusu.police", "gusu.police_leader")
    assert after.seal_id != before.seal_id
    assert services.verify_document(services.sealed_pdf_bytes(after)).verdict == "valid"
    # a signature by the revoked key made after its revocation (a stolen key) is reported
    from xietong.instruments.models import UnitSeal

    UnitSeal.objects.filter(pk=before.seal_id).update(revoked_at=before.sealed_at - timedelta(minutes=1))
    assert services.verify_document(services.sealed_pdf_bytes(before)).verdict == "seal_revoked"
    with pytest.raises(NotAllowed):
        services.seal_revoke(user=city.u("gusu.police_leader"), seal_id=after.seal_id or 0, reason="x")


def test_a_court_seals_its_own_judgment_document(city: City) -> None:
    import io

    from pypdf import PdfReader
    from weasyprint import HTML

    from xietong.cases import services as case_services
    from xietong.cases.models import Transfer

    case_id = register_case(city)
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    act(city, "gusu.procu_leader", case_id, "indict")
    pending = Transfer.objects.get(case_id=case_id, status="pending")
    case_services.transfer_accept(
        user=city.u("gusu.judge"), transfer_id=pending.pk, options={"procedure": "summary"}
    )
    judgment = services.instrument_create(user=city.u("gusu.judge"), case_id=case_id, kind="刑事判决书")
    court_pdf = HTML(
        string="<html><body style='font-family:WenQuanYi Zen Hei'><h1>姑苏区人民法院 刑事判决书</h1>"
        "<p>本院认为，被告人张1的行为构成盗窃罪。</p>"
        "<p style='page-break-before:always'>审判长 某某</p></body></html>"
    ).write_pdf()
    with pytest.raises(ValidationFailed):
        services.instrument_upload_source(
            user=city.u("gusu.judge"), instrument_id=judgment.pk, data=b"%PDF junk"
        )
    other = services.instrument_create(user=city.u("gusu.judge"), case_id=case_id, kind="传票")
    with pytest.raises(ValidationFailed) as not_uploadable:
        services.instrument_upload_source(user=city.u("gusu.judge"), instrument_id=other.pk, data=court_pdf)
    assert not_uploadable.value.code == "not_uploadable"
    with pytest.raises((NotAllowed, NotFound)):
        services.instrument_upload_source(
            user=city.u("gusu.police"), instrument_id=judgment.pk, data=court_pdf
        )
    uploaded = services.instrument_upload_source(
        user=city.u("gusu.judge"), instrument_id=judgment.pk, data=court_pdf
    )
    assert uploaded.source_pages == 2
    sealed = seal_through(city, uploaded, "gusu.judge", "gusu.court_leader")
    assert sealed.number and sealed.number.startswith("（")
    pdf = services.sealed_pdf_bytes(sealed)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2
    assert "本院认为" in pages[0].extract_text() and sealed.number in pages[0].extract_text().replace(" ", "")
    assert "/Annots" in pages[1]  # the seal at the foot of the last page
    assert services.verify_document(pdf).verdict == "valid"


def test_an_added_page_and_an_incremental_update_are_reported(city: City) -> None:
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pypdf import PdfReader, PdfWriter

    _, draft_id = _arrest_request(city)
    pdf = services.sealed_pdf_bytes(
        seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    )
    # an incremental update after the seal (here: the document's title changed)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("改")}))
    out = io.BytesIO()
    writer.write(out)
    result = services.verify_document(out.getvalue())
    assert result.verdict == "appended" and result.check.intact and not result.check.entire_file
    # a page added and the file saved again
    rewritten = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    rewritten.add_blank_page()
    out = io.BytesIO()
    rewritten.write(out)
    assert services.verify_document(out.getvalue()).verdict not in {"valid", "revoked", "superseded"}


def test_the_sm2_seal_data_beside_pades_verifies_and_interoperates(city: City) -> None:
    from gmssl import sm2 as gmssl_sm2

    from xietong.instruments import sm2

    _, draft_id = _arrest_request(city)
    sealed = seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    record = sealed.sm2_seal
    assert record and record["signatureAlgID"] == "1.2.156.10197.1.501"
    pdf = services.sealed_pdf_bytes(sealed)
    result = services.verify_document(pdf)
    assert result.verdict == "valid" and result.sm2_valid is True
    public = sealed.seal.sm2_public  # type: ignore[union-attr]
    # gmssl's own SM2-with-SM3 (Z_A per GB/T 32918) accepts the signature
    assert gmssl_sm2.CryptSM2(private_key="", public_key=public).verify_with_sm3(
        record["signature"], sm2.canonical(record["toSign"])
    )
    ok, why = sm2.check(record, pdf + b" ", public)
    assert not ok and "SM3" in why
    forged = {**record, "toSign": {**record["toSign"], "propertyInfo": "文号：伪造"}}
    assert sm2.check(forged, pdf, public) == (False, "SM2 签名验证失败")


def test_offline_ledger_proof_ties_the_file_to_the_signed_ledger(city: City, tmp_path, client) -> None:
    import json
    from io import StringIO

    from django.core.management import call_command

    from xietong.ledger import keys
    from xietong.ledger.services import ledger_integrate_all

    _, draft_id = _arrest_request(city)
    sealed = seal_through(city, draft_of_pk(draft_id), "gusu.police", "gusu.police_leader")
    ledger_integrate_all()
    bundle = client.get(f"/verify/t/{sealed.public_token}/proof.json")
    assert bundle.status_code == 200
    (tmp_path / "proof.json").write_bytes(bundle.content)
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(services.sealed_pdf_bytes(sealed))
    out = StringIO()
    call_command("instruments", "ca-cert", stdout=out)
    (tmp_path / "ca.pem").write_text(out.getvalue())
    args = ["instruments", "verify", str(pdf), "--ca", str(tmp_path / "ca.pem"), "--json"]
    args += ["--proof", str(tmp_path / "proof.json")]
    out = StringIO()
    call_command(*args, "--ledger-key", keys.public_key_b64(), stdout=out)
    assert json.loads(out.getvalue())["ledger"] == {"ok": True, "problems": []}

    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = base64.b64encode(keys.public_key_bytes(Ed25519PrivateKey.generate().public_key())).decode()
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(*args, "--ledger-key", stranger, stdout=out)
    assert json.loads(out.getvalue())["ledger"]["problems"] == ["树头签名不是该账本公钥签发的"]
    other = json.loads(bundle.content)
    other["entry"]["actor_name"] = "他人"
    (tmp_path / "proof.json").write_text(json.dumps(other, ensure_ascii=False))
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(*args, "--ledger-key", keys.public_key_b64(), stdout=out)
    assert "留痕记录的内容与其哈希不符" in json.loads(out.getvalue())["ledger"]["problems"]
