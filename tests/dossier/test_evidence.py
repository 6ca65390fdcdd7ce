"""Audio and video evidence: stored once, played with seeking (HTTP range requests), plays logged."""

from __future__ import annotations

import io
import wave

from django.test import Client

from tests.dossier.test_upload_and_processing import api_for, upload
from tests.factories import City, register_case
from xietong.dossier.models import Evidence, EvidenceView
from xietong.ledger.models import LedgerEntry


def wav_bytes(seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * int(8000 * seconds))
    return out.getvalue()


def test_audio_is_stored_as_evidence_and_seeks_with_ranges(city: City) -> None:
    case_id = register_case(city)
    data = wav_bytes()
    result = upload(api_for(city, "gusu.police"), case_id, data, name="讯问录音.wav")
    body = result["response"].json()
    assert result["response"].status_code == 201 and body["kind"] == "evidence"
    assert body["content_type"] == "audio/wav" and body["size"] == len(data)
    evidence = Evidence.objects.get(pk=body["id"])
    assert LedgerEntry.objects.filter(case_id=case_id, action="evidence_upload").count() == 1

    client = Client()
    client.force_login(city.u("gusu.police"))
    whole = client.get(f"/evidence/{evidence.pk}/media")
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    part = client.get(f"/evidence/{evidence.pk}/media", HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]
    tail = client.get(f"/evidence/{evidence.pk}/media", HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == data[-10:]
    beyond = client.get(f"/evidence/{evidence.pk}/media", HTTP_RANGE=f"bytes={len(data) + 5}-")
    assert beyond.status_code == 416
    assert EvidenceView.objects.filter(evidence=evidence).count() == 1  # one play, many ranges
    outsider = Client()
    outsider.force_login(city.u("wuzhong.police"))
    assert outsider.get(f"/evidence/{evidence.pk}/media").status_code == 404
    files = client.get(f"/cases/{case_id}/files/").content.decode()
    assert "视听资料" in files and "<audio" in files


def test_a_video_named_as_audio_is_refused(city: City) -> None:
    case_id = register_case(city)
    fake_mp4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64
    result = upload(api_for(city, "gusu.police"), case_id, fake_mp4, name="录音.mp3")
    assert result["response"].status_code == 400 and result["response"].json()["code"] == "type_mismatch"
    assert "MP4 视频" in result["response"].json()["message"]
