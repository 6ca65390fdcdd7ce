"""``xietong bench reader``: time to the first page of a 500-page volume over HTTP, as a browser
opens it — the reader page, then page 1's image and its text layer — against ``daphne`` on this
machine, with ``/healthz`` as the baseline measured in the same run. Target: < 1 s.

The volume is real: a 500-page PDF (generated text pages) uploaded through the services and split
by the platform's own renderer; OCR is skipped (the text layer is read from whatever OCR left, which
does not change the reader's cost)."""

from __future__ import annotations

import io
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from xietong.bench.bulk import Write, machine
from xietong.bench.pages import _free_port, _summary, login, start_server, wait_ready

TARGET_FIRST_PAGE_MS = 1000.0


def _volume_pdf(pages: int, seed: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    from xietong.demo.scans import font_path

    rng = random.Random(seed)  # noqa: S311 (bench data)
    path = font_path()
    font = ImageFont.truetype(str(path), 30) if path else ImageFont.load_default()
    images = []
    for number in range(1, pages + 1):
        img = Image.new("L", (1240, 1754), 250)
        draw = ImageDraw.Draw(img)
        draw.text((120, 120), f"第{number}页 讯问笔录", fill=10, font=font)
        for line in range(24):
            draw.text((120, 200 + line * 60), "问：" + "案情记录" * rng.randint(4, 9), fill=20, font=font)
        images.append(img.convert("RGB"))
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from django.conf import settings
    from django.utils import timezone

    from xietong.cases import services as cases
    from xietong.demo.generator import generate
    from xietong.demo.units import create_org
    from xietong.dossier import services as dossier
    from xietong.dossier.models import Volume
    from xietong.orgs.models import Region, User

    pages = int(options.get("pages") or (50 if options.get("quick") else 500))
    requests = int(options.get("requests") or (10 if options.get("quick") else 30))
    seed = int(options.get("seed") or 5)
    write(f"bench reader: a {pages}-page volume, {requests} cold opens; {machine()}")
    create_org()
    generate(count=20, seed=seed)
    user = User.objects.get(username="gusu_police")
    town = Region.objects.filter(parent=user.unit.region, level="town").first() if user.unit else None
    if town is None:
        raise RuntimeError("the demo org has no towns")
    filed = cases.case_register(
        user=User.objects.get(username="gusu_police_leader"),
        data=cases.RegisterInput(
            charge="盗窃罪",
            facts="阅卷基准用案件。",
            occurred_at=timezone.now() - timedelta(days=3),
            town_id=town.pk,
            parties=[cases.PartyInput(name="基准", gender="男")],
        ),
    )
    case = filed.case
    if case is None:
        raise RuntimeError("filing the bench case failed")
    t = time.perf_counter()
    data = _volume_pdf(pages, seed)
    upload = dossier.upload_start(user=user, case_id=case.pk, filename="讯问笔录.pdf", size=len(data))
    for offset in range(0, len(data), dossier.MAX_CHUNK):
        dossier.upload_chunk(
            user=user, upload_id=upload.pk, offset=offset, data=data[offset : offset + dossier.MAX_CHUNK]
        )
    volume = dossier.upload_finish(user=user, upload_id=upload.pk, title="讯问笔录")
    if not isinstance(volume, Volume):
        raise RuntimeError("the upload did not make a volume")
    dossier.volume_process(volume_id=volume.pk, ocr=False)
    write(
        f"volume of {pages} pages ({len(data) / 1e6:.1f} MB) uploaded and split "
        f"in {time.perf_counter() - t:.0f} s"
    )
    first = volume.pages.get(number=1)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(settings.XIETONG_HOME) / "bench-reader-daphne.log"
    proc = start_server(port, log)
    try:
        wait_ready(base, proc)
        client = login(base, "gusu_police", settings.XIETONG_DEMO_PASSWORD)
        first_page: list[float] = []
        html: list[float] = []
        baseline: list[float] = []
        sizes: dict[str, int] = {}
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get("/healthz").raise_for_status()
            baseline.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            page = client.get(f"/volumes/{volume.pk}/")
            page.raise_for_status()
            t1 = time.perf_counter()
            # cold: no If-None-Match, so the image is sent in full every time
            image = client.get(f"/pages/{first.pk}/image", headers={"Cache-Control": "no-cache"})
            image.raise_for_status()
            words = client.get(f"/api/v1/pages/{first.pk}/words")
            words.raise_for_status()
            t2 = time.perf_counter()
            html.append((t1 - t0) * 1000)
            first_page.append((t2 - t0) * 1000)
            sizes = {"html_bytes": len(page.content), "image_bytes": len(image.content)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    first_summary = _summary(first_page)
    result: dict[str, Any] = {
        "bench": "reader",
        "pages": pages,
        "first_page": first_summary,
        "reader_html": _summary(html),
        "baseline_healthz": _summary(baseline),
        **sizes,
        "target_ms": TARGET_FIRST_PAGE_MS,
        "target_met": first_summary["p95_ms"] < TARGET_FIRST_PAGE_MS,
        "machine": machine(),
    }
    html_summary, base_summary = _summary(html), _summary(baseline)
    write(
        f"first page p50={first_summary['p50_ms']} ms p95={first_summary['p95_ms']} ms "
        f"(reader HTML p95={html_summary['p95_ms']} ms, {sizes.get('html_bytes', 0) // 1024} KB; "
        f"healthz p95={base_summary['p95_ms']} ms)"
    )
    return result
