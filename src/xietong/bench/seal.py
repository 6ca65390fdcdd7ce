"""``xietong bench seal``: instruments rendered + sealed per second through the real door
(``instrument_seal``: 文号, WeasyPrint PDF, PAdES signature with the visible seal, blob, ledger,
service) by 1 and by 2 concurrent clients (``--clients``; processes, as a server's workers are),
and verifications per second (``verify_document``: the signature against the CA, the
platform's record and the ledger inclusion proof). Baseline measured in the same run: a plain pyHanko
visible signature of the same PDF, its stamp built for each signature (a text stamp over the seal
image, as pyHanko's examples do). Targets: sealing ≥ 10/s, verifying ≥ 50/s."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from typing import Any

from xietong.bench.bulk import Write, machine, percentile

TARGET_SEAL_PER_S = 10.0
TARGET_VERIFY_PER_S = 50.0


def _baseline_sign(pdf: bytes, material: Any, box: tuple[int, int, int, int], page: int) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from PIL import Image
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    from xietong.instruments.signing import _signer

    key_der = material.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = _signer(material.serial, material.certificate_der, key_der, material.ca_der)
    style = TextStampStyle(
        stamp_text="Sealed by %(signer)s\n%(ts)s",
        background=PdfImage(Image.open(io.BytesIO(material.image_png))),
    )
    meta = signers.PdfSignatureMetadata(field_name="Baseline", subfilter=fields.SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec("Baseline", on_page=page, box=box),
    )
    out = io.BytesIO()
    pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out)
    return out.getvalue()


def _seal_worker(ids: list[int], user_id: int, queue: Any, profile: bool, verify: bool = False) -> None:
    """Seal the instruments ``ids`` (or, with ``verify``, verify their sealed PDFs: the files are
    read from the store before the clock starts, as an upload would arrive)."""
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    from xietong.instruments import services
    from xietong.orgs.models import User

    out: dict[str, Any] = {"latencies": [], "error": None, "profile": "", "verdicts": {}}
    try:
        user = User.objects.get(pk=user_id)
        if verify:
            from xietong.instruments.models import Instrument

            files = [services.sealed_pdf_bytes(i) for i in Instrument.objects.filter(pk__in=ids)]
            for data in files:
                t = time.perf_counter()
                result = services.verify_document(data)
                out["latencies"].append((time.perf_counter() - t) * 1000)
                ok = result.verdict == "valid" and result.proof is not None and result.sm2_valid is not False
                key = result.verdict if ok else f"{result.verdict}/{result.proof_note}/{result.sm2_problem}"
                out["verdicts"][key] = out["verdicts"].get(key, 0) + 1
            queue.put(out)
            return
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for pk in ids:
            t = time.perf_counter()
            services.instrument_seal(user=user, instrument_id=pk)
            out["latencies"].append((time.perf_counter() - t) * 1000)
        if profiler is not None:
            import pstats

            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
            out["profile"] = text.getvalue()
    except Exception:
        import traceback

        out["error"] = traceback.format_exc()
    finally:
        connections.close_all()
    queue.put(out)


def _seal_concurrently(
    ids: list[int], clients: int, user_id: int, profile: bool, write: Write, verify: bool = False
) -> tuple[float, list[float]]:
    """``clients`` forked processes seal their share of ``ids`` at once; wall time and latencies."""
    import multiprocessing

    from django.db import connections

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    shares = [ids[i::clients] for i in range(clients)]
    connections.close_all()
    procs = [
        ctx.Process(target=_seal_worker, args=(share, user_id, queue, profile, verify), daemon=True)
        for share in shares
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=900) for _ in procs]
    wall = time.perf_counter() - started
    for proc in procs:
        proc.join(timeout=60)
    errors = [r["error"] for r in results if r["error"]]
    if errors:
        raise RuntimeError("a sealing client failed:\n" + errors[0])
    for r in results:
        if r["profile"]:
            write(r["profile"])
        for key, n in r["verdicts"].items():
            _VERDICTS[key] = _VERDICTS.get(key, 0) + n
    return wall, [ms for r in results for ms in r["latencies"]]


_VERDICTS: dict[str, int] = {}


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from xietong.cases import services as cases
    from xietong.demo.units import create_org
    from xietong.instruments import services
    from xietong.ledger.services import ledger_integrate_all
    from xietong.orgs.models import Region, User

    count = int(options.get("requests") or (15 if options.get("quick") else 100))
    write(f"bench seal: {count} instruments sealed, then verified; {connection.vendor}; {machine()}")
    create_org()
    leader = User.objects.get(username="gusu_police_leader")
    handler = User.objects.get(username="gusu_police")
    town = Region.objects.filter(parent=leader.unit.region, level="town").first() if leader.unit else None
    if town is None:
        raise RuntimeError("the demo org has no towns")

    def prepare(n_instruments: int, offset: int) -> list[int]:
        """Cases filed and instruments drafted, submitted and 签发 (not timed)."""
        made = []
        for n in range(offset, offset + n_instruments):
            filed = cases.case_register(
                user=leader,
                data=cases.RegisterInput(
                    charge="盗窃罪",
                    facts=f"犯罪嫌疑人在姑苏区某小区盗窃电动自行车{n + 1}辆，价值人民币{3000 + n * 10}元。"
                    * 3,
                    occurred_at=timezone.now() - timedelta(days=3),
                    town_id=town.pk,
                    parties=[cases.PartyInput(name=f"基准{n}", gender="男")],
                ),
            )
            if filed.case is None:
                raise RuntimeError("filing a bench case failed")
            i = services.instrument_create(user=handler, case_id=filed.case.pk, kind="提请批准逮捕书")
            services.instrument_submit(user=handler, instrument_id=i.pk)
            services.instrument_approve(user=leader, instrument_id=i.pk)
            made.append(i.pk)
        return made

    clients_list = [int(c) for c in str(options.get("clients") or "1,2").split(",") if c.strip()]
    services.seal_active(leader.unit)  # type: ignore[arg-type]
    first = services.instrument_seal(user=handler, instrument_id=prepare(1, 10_000)[0])  # warm-up
    phases: dict[str, Any] = {}
    all_ids: list[int] = [first.pk]
    seal_ms: list[float] = []
    seal_rate = 0.0
    for c in clients_list:
        ids = prepare(count, len(all_ids))
        all_ids += ids
        profile = bool(options.get("profile")) and c == 1
        wall, latencies = _seal_concurrently(ids, c, handler.pk, profile, write)
        rate = len(ids) / wall
        phases[f"clients_{c}"] = {
            "seal_per_s": round(rate, 1),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
        }
        write(
            f"seal, {c} client(s) (render + sign + store + ledger + serve): {rate:.1f}/s, "
            f"p50 {percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms"
        )
        if rate > seal_rate:
            seal_rate, seal_ms = rate, latencies
    ids = all_ids

    from xietong.instruments.models import Instrument

    sealed = list(Instrument.objects.filter(pk__in=ids))
    unsigned = services.render_instrument(sealed[0], today=timezone.localdate(), draft=False)
    material = services._material_of(sealed[0].seal)  # type: ignore[arg-type]
    _baseline_sign(unsigned.pdf, material, unsigned.seal_box.box, unsigned.seal_box.page)  # warm-up
    base_ms = []
    rounds = max(5, min(20, len(ids)))
    for _ in range(rounds):
        t = time.perf_counter()
        _baseline_sign(unsigned.pdf, material, unsigned.seal_box.box, unsigned.seal_box.page)
        base_ms.append((time.perf_counter() - t) * 1000)
    base_rate = 1000 / (sum(base_ms) / len(base_ms))
    write(f"baseline plain pyHanko visible stamp (sign only, no render): {base_rate:.1f}/s")

    ledger_integrate_all()  # so that verification returns a real inclusion proof
    verify_rate, verify_ms = 0.0, []
    verify_phases: dict[str, Any] = {}
    for c in clients_list:
        _VERDICTS.clear()
        wall, latencies = _seal_concurrently(ids, c, handler.pk, False, write, verify=True)
        rate = len(ids) / wall
        verify_phases[f"clients_{c}"] = {
            "verify_per_s": round(rate, 1),
            "p50_ms": round(percentile(latencies, 50), 1),
        }
        write(
            f"verify, {c} client(s) (signature + SM2 seal data + record + ledger proof): "
            f"{rate:.1f}/s, verdicts {_VERDICTS}"
        )
        if rate > verify_rate:
            verify_rate, verify_ms = rate, latencies
    verdicts = dict(_VERDICTS)
    if verdicts != {"valid": len(ids)}:
        raise RuntimeError(f"not every sealed instrument verified: {verdicts}")
    numbers = sorted(i.number_seq or 0 for i in sealed)
    return {
        "bench": "seal",
        "unit": "instruments/s",
        "figures": {
            "sealed": len(ids),
            "seal_per_s": round(seal_rate, 1),
            "phases": phases,
            "seal_p50_ms": round(percentile(seal_ms, 50), 1),
            "seal_p95_ms": round(percentile(seal_ms, 95), 1),
            "verified": len(ids),
            "verify_per_s": round(verify_rate, 1),
            "verify_phases": verify_phases,
            "verify_p50_ms": round(percentile(verify_ms, 50), 1),
            "numbers_gap_free": numbers == list(range(1, len(numbers) + 1)),
        },
        "baseline": {
            "name": "plain pyHanko visible text stamp over the seal image, built per signature (sign only)",
            "per_s": round(base_rate, 1),
            "p50_ms": round(percentile(base_ms, 50), 1),
        },
        "ratio": round(seal_rate / base_rate, 2),
        "target": {"seal_per_s": TARGET_SEAL_PER_S, "verify_per_s": TARGET_VERIFY_PER_S},
        "target_met": seal_rate >= TARGET_SEAL_PER_S and verify_rate >= TARGET_VERIFY_PER_S,
        "machine": machine(),
        "database": connection.vendor,
    }
