"""The same case file on S3-compatible object storage: a real S3 API server on loopback (moto's
server mode), spoken to by django-storages/boto3 exactly as in production."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.dossier.test_evidence import wav_bytes
from tests.dossier.test_upload_and_processing import api_for, upload
from tests.factories import City, register_case
from xietong.dossier import blobs
from xietong.dossier.models import Volume

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(  # noqa: S603
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_bucket(s3_endpoint: str, settings: object) -> str:
    name = f"xietong-{os.getpid()}-{time.monotonic_ns()}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=name)
    settings.XIETONG_STORAGE_URL = (  # type: ignore[attr-defined]
        f"s3://{name}/case-files?endpoint_url={s3_endpoint}&region=us-east-1&access_key=test&secret_key=test"
    )
    return name


def _objects(endpoint: str, bucket: str) -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_volume_on_s3_is_stored_rendered_and_served(
    city: City, scanned_pdf: bytes, s3_endpoint: str, s3_bucket: str
) -> None:
    assert isinstance(blobs.backend(), blobs.S3Blobs)
    case_id = register_case(city)
    result = upload(api_for(city, "gusu.police"), case_id, scanned_pdf)
    assert result["response"].status_code == 201, result["response"].content
    volume = Volume.objects.get(pk=result["response"].json()["id"])
    assert volume.pages_rendered == 3
    keys = _objects(s3_endpoint, s3_bucket)
    digest = hashlib.sha256(scanned_pdf).hexdigest()
    assert f"case-files/{digest[:2]}/{digest[2:4]}/{digest}" in keys
    assert len(keys) >= 1 + 3  # the original and at least the page images (blank thumbs may coincide)
    client = Client()
    client.force_login(city.u("gusu.police"))
    page = volume.pages.get(number=1)
    image = client.get(f"/pages/{page.pk}/image")
    assert image.status_code == 200 and b"".join(image.streaming_content)[:3] == b"\xff\xd8\xff"


def test_audio_on_s3_streams_ranges(city: City, s3_endpoint: str, s3_bucket: str) -> None:
    case_id = register_case(city)
    data = wav_bytes()
    body = upload(api_for(city, "gusu.police"), case_id, data, name="录音.wav")["response"].json()
    client = Client()
    client.force_login(city.u("gusu.police"))
    part = client.get(f"/evidence/{body['id']}/media", HTTP_RANGE="bytes=10-29")
    assert part.status_code == 206 and b"".join(part.streaming_content) == data[10:30]


def test_the_s3_credentials_may_come_from_mounted_secret_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "id").write_text("AKIAFROMFILE\n")
    (tmp_path / "secret").write_text("s3cr3t-from-file\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID_FILE", str(tmp_path / "id"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_FILE", str(tmp_path / "secret"))
    store = blobs.S3Blobs("s3://bucket/prefix?endpoint_url=http://127.0.0.1:1&region=cn-east-1")
    assert store.storage.access_key == "AKIAFROMFILE"
    assert store.storage.secret_key == "s3cr3t-from-file"


def test_an_upload_while_the_object_store_is_down_is_a_503_and_can_be_finished_later(
    city: City, scanned_pdf: bytes, s3_endpoint: str, s3_bucket: str, settings: object
) -> None:
    """The store unreachable (a port where nothing listens): the finish is told 503
    ``storage_unavailable`` with Retry-After, no volume is half-made, and once the store is back the
    same upload finishes."""
    from xietong import faults

    case_id = register_case(city)
    good_url = settings.XIETONG_STORAGE_URL  # type: ignore[attr-defined]
    settings.XIETONG_STORAGE_URL = good_url.replace(s3_endpoint, f"http://127.0.0.1:{_free_port()}")  # type: ignore[attr-defined]
    client = api_for(city, "gusu.police")
    tried = upload(client, case_id, scanned_pdf)  # start and chunks need no store; the finish does
    upload_id, down = tried["upload_id"], tried["response"]
    assert down.status_code == 503, down.content
    assert down.json() == faults.STORAGE_UNAVAILABLE.as_dict() and down["Retry-After"]
    assert not Volume.objects.filter(case_id=case_id).exists()
    settings.XIETONG_STORAGE_URL = good_url  # type: ignore[attr-defined]
    finished = client.post(f"/api/v1/uploads/{upload_id}/finish", {"title": "诉讼卷"}, format="json")
    assert finished.status_code == 201, finished.content
    assert Volume.objects.filter(case_id=case_id).count() == 1
