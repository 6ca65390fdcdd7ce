"""Every instrument renders; 文号 are gap-free and unique under concurrent sealers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.factories import City, register_case
from xietong.cases.procedure import ACTIONS
from xietong.instruments import catalogue, services
from xietong.instruments.models import Instrument, InstrumentStatus, NumberCounter


def test_number_texts_never_collide_across_kinds() -> None:
    """Kinds of one agency that share a 文号 word share its sequence (the counter is per word), so
    two kinds can never print the same 文号."""
    words: dict[tuple[str, str], set[str]] = {}
    for kind in catalogue.KINDS.values():
        words.setdefault((kind.agency, kind.word), set()).add(kind.title)
    assert ("court", "刑终") in words and len(words[("court", "刑终")]) == 2  # 裁定书 and 发回重审裁定书


def test_every_instrument_an_act_issues_is_in_the_catalogue() -> None:
    issued = {a.instrument for a in ACTIONS.values() if a.instrument}
    assert issued <= set(catalogue.KINDS), issued - set(catalogue.KINDS)
    for kind in catalogue.KINDS.values():
        assert kind.articles and kind.word and kind.agency in {"police", "procuratorate", "court", "justice"}


def test_every_kind_renders_a_pdf_with_its_title_and_seal_position(city: City) -> None:
    from pypdf import PdfReader

    case_id = register_case(city)
    units = {
        "police": city.counties["gusu"].police,
        "procuratorate": city.counties["gusu"].procuratorate,
        "court": city.counties["gusu"].court,
        "justice": city.counties["gusu"].corrections,
    }
    for kind in catalogue.KINDS.values():
        i = Instrument(
            case_id=case_id,
            kind=kind.title,
            unit=units[kind.agency],
            issued_by=city.u("gusu.police"),
            issued_at=timezone.now(),
        )
        rendered = services.render_instrument(i, today=timezone.localdate(), draft=True)
        assert rendered.pdf.startswith(b"%PDF"), kind.title
        text = "".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(rendered.pdf)).pages)
        assert kind.title in text.replace(" ", ""), kind.title
        x1, y1, x2, y2 = rendered.seal_box.box
        assert 0 < x1 < x2 < 595 and 0 < y1 < y2 < 842, kind.title  # on the A4 page


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_numbers_are_gap_free_and_unique_under_eight_concurrent_sealers(city: City) -> None:
    case_ids = [register_case(city) for _ in range(8)]
    ids = []
    for case_id in case_ids:
        i = services.instrument_create(user=city.u("gusu.police"), case_id=case_id, kind="拘留通知书")
        services.instrument_submit(user=city.u("gusu.police"), instrument_id=i.pk)
        services.instrument_approve(user=city.u("gusu.police_leader"), instrument_id=i.pk)
        ids.append(i.pk)
    services.seal_active(city.counties["gusu"].police)  # one seal for all (its creation is not the point)
    barrier = threading.Barrier(len(ids))
    errors: list[str] = []

    def seal(instrument_id: int) -> None:
        try:
            barrier.wait()
            services.instrument_seal(user=city.u("gusu.police"), instrument_id=instrument_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=seal, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    seqs = sorted(Instrument.objects.filter(pk__in=ids).values_list("number_seq", flat=True))
    assert seqs == list(range(1, 9))
    assert NumberCounter.objects.get(kind="拘通").last == 8
    assert Instrument.objects.filter(pk__in=ids, status=InstrumentStatus.SEALED).count() == 8
    assert connection.vendor == "postgresql"


def test_a_failed_seal_keeps_its_number_for_the_retry_and_leaves_no_gap(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = []
    for _ in range(2):
        i = services.instrument_create(
            user=city.u("gusu.police"), case_id=register_case(city), kind="拘留通知书"
        )
        services.instrument_submit(user=city.u("gusu.police"), instrument_id=i.pk)
        services.instrument_approve(user=city.u("gusu.police_leader"), instrument_id=i.pk)
        ids.append(i.pk)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("signing device unplugged")

    monkeypatch.setattr(services.signing, "sign_pdf", broken)
    with pytest.raises(RuntimeError):
        services.instrument_seal(user=city.u("gusu.police"), instrument_id=ids[0])
    monkeypatch.undo()
    first = Instrument.objects.get(pk=ids[0])
    assert first.status == InstrumentStatus.SEALING and first.number_seq == 1 and not first.pdf_id
    assert services.instrument_seal(user=city.u("gusu.police"), instrument_id=ids[1]).number_seq == 2
    retried = services.instrument_seal(user=city.u("gusu.police"), instrument_id=ids[0])
    assert retried.status == InstrumentStatus.SEALED and retried.number == first.number
    assert NumberCounter.objects.get(kind="拘通").last == 2
    with pytest.raises(Exception) as again:
        services.instrument_seal(user=city.u("gusu.police"), instrument_id=ids[0])
    assert getattr(again.value, "code", "") == "instrument_not_approved"
