"""The courtroom's rules, without the socket."""

from __future__ import annotations

import pytest

from tests.courtroom.test_hearing_socket import _in_trial
from tests.factories import City, register_case
from xietong.courtroom import services
from xietong.courtroom.models import EventKind, HearingEvent, HearingStatus
from xietong.errors import NotAllowed, NotFound, ValidationFailed
from xietong.ledger.models import LedgerEntry


def test_only_the_trying_court_opens_a_hearing_in_trial(city: City) -> None:
    with pytest.raises(NotFound):  # a case still with the police: not the court's to see
        services.hearing_open(user=city.u("gusu.judge"), case_id=register_case(city))
    case_id, _ = _in_trial(city)
    with pytest.raises(NotAllowed):
        services.hearing_open(user=city.u("gusu.procu"), case_id=case_id)
    hearing = services.hearing_open(user=city.u("gusu.judge"), case_id=case_id)
    assert services.role_of(city.u("gusu.clerk"), hearing) == "clerk"
    assert services.role_of(city.u("gusu.procu"), hearing) == "prosecutor"
    assert services.role_of(city.u("wuzhong.judge"), hearing) is None
    assert LedgerEntry.objects.filter(case_id=case_id, action="hearing_open").exists()


def test_turns_cross_examination_deliberation_and_advice(city: City) -> None:
    case_id, pages = _in_trial(city)
    hearing = services.hearing_open(user=city.u("gusu.judge"), case_id=case_id)
    judge = services.Seat(hearing.pk, "presiding", city.u("gusu.judge").pk)
    prosecutor = services.Seat(hearing.pk, "prosecutor", city.u("gusu.procu").pk)
    with pytest.raises(NotAllowed):
        services.turn_grant(seat=prosecutor, role="prosecutor")
    services.turn_grant(seat=judge, role="prosecutor")
    services.display(seat=prosecutor, raw={"item": f"page:{pages[0]}"}, purpose="证明作案时间")
    with pytest.raises(ValidationFailed):
        services.display(seat=prosecutor, raw={"item": f"page:{pages[0]}", "zoom": 99})
    with pytest.raises(ValidationFailed):
        services.cross_examine(seat=prosecutor, item=f"page:{pages[1]}", opinions={}, reasons="")
    with pytest.raises(ValidationFailed):
        services.cross_examine(
            seat=prosecutor, item=f"page:{pages[0]}", opinions={"authenticity": "maybe"}, reasons=""
        )
    services.cross_examine(
        seat=prosecutor,
        item=f"page:{pages[0]}",
        opinions={"authenticity": "agree", "legality": "agree", "relevance": "object"},
        reasons="与本案无关",
    )
    services.rule(seat=judge, item=f"page:{pages[0]}", admitted=False, reason="关联性不足")
    clerk = services.Seat(hearing.pk, "clerk", city.u("gusu.clerk").pk)
    with pytest.raises(NotAllowed):
        services.note_add(seat=prosecutor, text="公诉人发言")
    services.note_add(seat=clerk, text="审判长：现在开庭。")
    with pytest.raises(NotAllowed):
        services.hearing_status(seat=prosecutor, status="deliberation")
    services.hearing_status(seat=judge, status=HearingStatus.DELIBERATION)
    services.display(seat=judge, raw={"item": f"page:{pages[0]}", "zoom": 2})  # recall a presented item
    with pytest.raises(ValidationFailed):
        services.display(seat=judge, raw={"item": f"page:{pages[1]}"})  # never presented
    with pytest.raises(NotAllowed):
        services.display(seat=prosecutor, raw={"item": f"page:{pages[0]}"})  # the parties do not deliberate
    kinds = list(HearingEvent.objects.filter(hearing=hearing).values_list("kind", flat=True))
    assert kinds.count(EventKind.PRESENT) == 1 and EventKind.CROSS in kinds and EventKind.RULING in kinds
    in_ledger = set(LedgerEntry.objects.filter(case_id=case_id).values_list("action", flat=True))
    assert {
        "hearing_present",
        "hearing_cross",
        "hearing_ruling",
        "hearing_status",
        "hearing_note",
    } <= in_ledger

    with pytest.raises(NotAllowed):
        services.advice_send(
            leader=city.u("gusu.judge"), hearing_id=hearing.pk, officer_id=city.u("gusu.procu").pk, text="x"
        )
    with pytest.raises(ValidationFailed):
        services.advice_send(
            leader=city.u("gusu.procu_leader"),
            hearing_id=hearing.pk,
            officer_id=city.u("gusu.judge").pk,
            text="x",
        )
    advice = services.advice_send(
        leader=city.u("gusu.procu_leader"),
        hearing_id=hearing.pk,
        officer_id=city.u("gusu.procu").pk,
        text="注意量刑",
    )
    entry = LedgerEntry.objects.get(case_id=case_id, action="hearing_advice")
    assert '"scope":"agency"' in entry.payload  # the court's timeline never shows it
    services.advice_acknowledge(officer=city.u("gusu.procu"), advice_id=advice.pk)
    assert LedgerEntry.objects.filter(case_id=case_id, action="hearing_advice_ack").count() == 1


def test_the_record_prints_for_participants_only(city: City, client) -> None:
    case_id, pages = _in_trial(city)
    hearing = services.hearing_open(user=city.u("gusu.judge"), case_id=case_id)
    judge = services.Seat(hearing.pk, "presiding", city.u("gusu.judge").pk)
    services.display(seat=judge, raw={"item": f"page:{pages[0]}"}, purpose="证明作案时间")
    services.rule(seat=judge, item=f"page:{pages[0]}", admitted=True)
    client.force_login(city.u("gusu.procu"))
    page = client.get(f"/hearings/{hearing.pk}/record").content.decode()
    assert "举证质证记录" in page and "卷1 第1页" in page and "证明作案时间" in page and "予以采信" in page
    client.force_login(city.u("wuzhong.judge"))
    assert client.get(f"/hearings/{hearing.pk}/record").status_code == 404
    assert client.get(f"/hearings/{hearing.pk}/").status_code == 404


def test_audio_and_video_reach_the_screens_with_seeking(city: City, client, settings, tmp_path) -> None:
    from django.utils import timezone

    from xietong.dossier.blobs import blob_put_bytes
    from xietong.dossier.models import Evidence

    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"
    case_id, _ = _in_trial(city)
    data = bytes(range(256)) * 40  # stands in for a clip: the bytes, not the codec, are the point
    blob = blob_put_bytes(data, content_type="video/mp4")
    clip = Evidence.objects.create(
        case_id=case_id,
        number=1,
        title="监控录像",
        blob=blob,
        source_name="cctv.mp4",
        uploaded_by=city.u("gusu.police"),
        uploaded_at=timezone.now(),
    )
    hearing = services.hearing_open(user=city.u("gusu.judge"), case_id=case_id)
    judge = services.Seat(hearing.pk, "presiding", city.u("gusu.judge").pk)
    services.display(seat=judge, raw={"item": f"evidence:{clip.pk}", "position": 12.5, "playing": True})
    hearing.refresh_from_db()
    shown = services.snapshot(hearing, "public")["state"]
    assert shown["media_kind"] == "video" and shown["position"] == 12.5 and shown["playing"] is True
    part = client.get(shown["media"], HTTP_RANGE="bytes=100-199")  # a screen has no login
    assert part.status_code == 206 and b"".join(part.streaming_content) == data[100:200]
    assert client.get(shown["media"].replace("t=", "t=x")).status_code == 404
