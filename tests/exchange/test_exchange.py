"""The standard data package: export, schema, import with checks, idempotence and resumption."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.cases.test_services_lifecycle import accept, act
from tests.factories import City, register_case
from xietong.cases.models import Case, Clock, InstrumentCounter, Participation, Party
from xietong.exchange import package as pkg
from xietong.exchange import services as exchange_services
from xietong.exchange.exporter import cases_export
from xietong.exchange.importer import cases_import, write_report
from xietong.exchange.models import CaseOrigin, ImportRun
from xietong.exchange.synthetic import Place, packages
from xietong.ledger.chain import entry_hash, timestamp_text
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify


def walked_cases(city: City) -> list[int]:
    """Cases taken through the door: one judged (with clocks, instruments, two suspects), one in
    investigation, one in the other county."""
    judged = register_case(city, parties=2)
    parties = list(Case.objects.get(pk=judged).parties.values_list("pk", flat=True))
    act(city, "gusu.police_leader", judged, "detain", party_ids=parties)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        act(city, "gusu.police_leader", judged, "transfer_for_prosecution")
        accept(city, "gusu.procu", judged)
    with time_machine.travel(timezone.now() + timedelta(days=35)):
        act(city, "gusu.procu_leader", judged, "indict")
        accept(city, "gusu.judge", judged, procedure="summary")
    with time_machine.travel(timezone.now() + timedelta(days=50)):
        verdict = {"guilty": True, "penalty": "fixed_term", "months": 10}
        act(city, "gusu.judge", judged, "pronounce", options={"verdict": verdict})
    fresh = register_case(city)
    other = register_case(city, county="wuzhong")
    return [judged, fresh, other]


def read_packages(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in pkg.read_lines(path)]


def write_packages(path: Path, items: list[dict[str, Any]]) -> Path:
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for item in items:
            handle.write(pkg.dump(item) + "\n")
    return path


def places(city: City) -> list[Place]:
    return [
        Place(c.towns[1].code, c.police.code, c.procuratorate.code, c.court.code)
        for c in city.counties.values()
    ]


def as_another_system(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same cases as if sent by another system: other numbers, other source name."""
    out = json.loads(json.dumps(items))
    for item in out:
        item["case"]["number"] = "X" + item["case"]["number"]
        item["source"]["system"] = "另一平台"
    return out


def test_exported_packages_follow_the_schema_and_carry_the_chain(city: City, tmp_path: Path) -> None:
    ids = walked_cases(city)
    out = tmp_path / "cases.jsonl.gz"

    assert cases_export(out=out) == 3

    items = read_packages(out)
    validator = jsonschema.Draft202012Validator(json.loads(pkg.SCHEMA_PATH.read_text(encoding="utf-8")))
    for item in items:
        validator.validate(item)
        assert pkg.chain_problems(item) == []
    judged = next(i for i in items if i["source"]["case_id"] == ids[0])
    case = Case.objects.get(pk=ids[0])
    assert judged["case"]["number"] == case.number and judged["case"]["stage"] == case.stage
    assert [e["seq"] for e in judged["events"]] == list(range(1, case.ledger_seq + 1))
    assert judged["events"][-1]["entry_hash"] == case.ledger_head
    assert len(judged["parties"]) == 2 and judged["clocks"] and judged["instruments"]
    assert {p["unit"] for p in judged["participations"]} >= {"P320508", "J320508", "F320508"}


def test_export_selects_by_case_and_county(city: City, tmp_path: Path) -> None:
    ids = walked_cases(city)

    assert cases_export(out=tmp_path / "one.jsonl", case_ids=[ids[1]]) == 1
    assert cases_export(out=tmp_path / "wz.jsonl", county_code="320506") == 1
    # the judged case was last acted on 50 days ahead (time_machine); the others today
    assert cases_export(out=tmp_path / "late.jsonl", since=timezone.localdate() + timedelta(days=1)) == 1
    assert cases_export(out=tmp_path / "none.jsonl", since=timezone.localdate() + timedelta(days=60)) == 0
    assert read_packages(tmp_path / "late.jsonl")[0]["source"]["case_id"] == ids[0]

    assert read_packages(tmp_path / "wz.jsonl")[0]["source"]["case_id"] == ids[2]
    assert not (tmp_path / "wz.jsonl.partial").exists()


def test_round_trip_writes_the_same_cases_with_valid_chains(city: City, tmp_path: Path) -> None:
    ids = walked_cases(city)
    cases_export(out=tmp_path / "out.jsonl.gz")
    sent = as_another_system(read_packages(tmp_path / "out.jsonl.gz"))
    write_packages(tmp_path / "in.jsonl.gz", sent)

    [result] = cases_import(path=tmp_path / "in.jsonl.gz")

    assert (result.lines, result.imported, result.skipped, result.rejected) == (3, 3, 0, 0)
    for original_id in ids:
        original = Case.objects.get(pk=original_id)
        copy = Case.objects.get(number="X" + original.number)
        for name in ("title", "charge", "facts", "occurred_at", "place", "town_id", "county_id", "stage"):
            assert getattr(copy, name) == getattr(original, name), name
        for name in ("holder_unit_id", "police_unit_id", "procuratorate_unit_id", "court_unit_id", "verdict"):
            assert getattr(copy, name) == getattr(original, name), name
        fields = (
            "ordinal",
            "name",
            "gender",
            "id_number",
            "birth_date",
            "address",
            "custody",
            "custody_since",
        )
        assert list(Party.objects.filter(case=copy).order_by("ordinal").values_list(*fields)) == list(
            Party.objects.filter(case=original).order_by("ordinal").values_list(*fields)
        )
        assert set(Participation.objects.filter(case=copy).values_list("unit_id", flat=True)) == set(
            Participation.objects.filter(case=original).values_list("unit_id", flat=True)
        )
        clock_fields = (
            "rule",
            "unit_id",
            "started_at",
            "due",
            "due_at",
            "status",
            "stopped_at",
            "party__ordinal",
        )
        assert sorted(Clock.objects.filter(case=copy).values_list(*clock_fields)) == sorted(
            Clock.objects.filter(case=original).values_list(*clock_fields)
        )
        entry_fields = (
            "seq",
            "recorded_at",
            "actor_name",
            "actor_duty",
            "unit_id",
            "unit_name",
            "action",
            "payload",
        )
        theirs = list(
            LedgerEntry.objects.filter(case_id=original.pk).order_by("seq").values_list(*entry_fields)
        )
        ours = list(LedgerEntry.objects.filter(case_id=copy.pk).order_by("seq").values_list(*entry_fields))
        assert ours[:-1] == theirs
        assert ours[-1][6] == "case_import" and copy.ledger_seq == len(theirs) + 1
        origin = CaseOrigin.objects.get(case=copy)
        assert origin.source_case_id == original.pk and origin.source_head == original.ledger_head
        assert [h for _, _, h in origin.source_chain] == list(
            LedgerEntry.objects.filter(case_id=original.pk)
            .order_by("seq")
            .values_list("entry_hash", flat=True)
        )
    ledger_integrate_all()
    report = ledger_verify()
    assert report.ok, report.problems


def test_the_senders_hashes_recompute_from_the_imported_rows_and_origin(city: City, tmp_path: Path) -> None:
    walked_cases(city)
    cases_export(out=tmp_path / "out.jsonl")
    sent = as_another_system(read_packages(tmp_path / "out.jsonl"))
    cases_import(path=write_packages(tmp_path / "in.jsonl", sent))

    origin = CaseOrigin.objects.order_by("pk").first()
    assert origin is not None
    prev = "0" * 64
    for entry, (actor_id, unit_id, stored) in zip(
        LedgerEntry.objects.filter(case_id=origin.case_id).order_by("seq"), origin.source_chain, strict=False
    ):
        recomputed = entry_hash(
            case_id=origin.source_case_id,
            seq=entry.seq,
            recorded_at=timestamp_text(entry.recorded_at),
            actor_id=actor_id,
            actor_name=entry.actor_name,
            actor_duty=entry.actor_duty,
            unit_id=unit_id,
            unit_name=entry.unit_name,
            action=entry.action,
            payload=entry.payload,
            prev_hash=prev,
        )
        assert recomputed == stored
        prev = stored
    assert prev == origin.source_head


def test_own_export_coming_back_is_skipped(city: City, tmp_path: Path) -> None:
    walked_cases(city)
    cases_export(out=tmp_path / "out.jsonl.gz")
    before = (Case.objects.count(), LedgerEntry.objects.count())

    [result] = cases_import(path=tmp_path / "out.jsonl.gz")

    assert (result.imported, result.skipped, result.rejected) == (0, 3, 0)
    assert (Case.objects.count(), LedgerEntry.objects.count()) == before


def test_a_tampered_event_is_rejected_with_its_code_and_the_rest_imported(city: City, tmp_path: Path) -> None:
    items = list(packages(places(city), 4))
    payload = json.loads(items[1]["events"][2]["payload"])
    payload["label"] = "改动过的"
    items[1]["events"][2]["payload"] = json.dumps(payload, ensure_ascii=False)
    items[2]["events"][4]["entry_hash"] = "f" * 64
    path = write_packages(tmp_path / "t.jsonl", items)

    [result] = cases_import(path=path)
    write_report(tmp_path / "report.json", [result], dry_run=False)

    assert (result.imported, result.rejected) == (2, 2)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["totals"] == {"lines": 4, "imported": 2, "skipped": 0, "rejected": 2}
    rejected = {(r["line"], r["number"]): [p["code"] for p in r["problems"]] for r in report["rejected"]}
    assert rejected == {
        (2, items[1]["case"]["number"]): ["chain_hash"],
        (3, items[2]["case"]["number"]): ["chain_hash"],
    }
    assert "内容被改动" in report["rejected"][0]["problems"][0]["message"]
    assert not Case.objects.filter(
        number__in=[items[1]["case"]["number"], items[2]["case"]["number"]]
    ).exists()


def test_unknown_codes_broken_links_and_bad_lines_are_reported(city: City, tmp_path: Path) -> None:
    items = list(packages(places(city), 5))
    items[0]["case"]["police_unit"] = "P999999"
    items[1]["case"]["town"] = "999999001"
    items[2]["events"][1]["prev_hash"] = "a" * 64
    del items[3]["case"]["title"]
    path = tmp_path / "bad.jsonl"
    write_packages(path, items)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")

    [result] = cases_import(path=path)

    codes = {p["line"]: [x["code"] for x in p["problems"]] for p in result.problems}
    assert codes == {
        1: ["unit_unknown"],
        2: ["region_unknown"],
        3: ["chain_link"],
        4: ["schema_invalid"],
        6: ["json_invalid"],
    }
    assert result.imported == 1 and result.lines == 6
    assert "P999999" in result.problems[0]["problems"][0]["message"]


def test_reimport_skips_and_a_finished_file_is_not_read_again(city: City, tmp_path: Path) -> None:
    items = list(packages(places(city), 7))
    first = write_packages(tmp_path / "a.jsonl.gz", items)
    cases_import(path=first, batch=3)
    counts = (Case.objects.count(), LedgerEntry.objects.count(), Party.objects.count())

    [again] = cases_import(path=first)
    [overlap] = cases_import(path=write_packages(tmp_path / "b.jsonl", items[2:]))

    assert (again.imported, again.status) == (7, "done")
    assert (overlap.imported, overlap.skipped) == (0, 5)
    assert (Case.objects.count(), LedgerEntry.objects.count(), Party.objects.count()) == counts
    assert ImportRun.objects.count() == 2


def test_a_number_taken_by_another_source_is_a_conflict(city: City, tmp_path: Path) -> None:
    items = list(packages(places(city), 2))
    cases_import(path=write_packages(tmp_path / "a.jsonl", items))
    clash = list(packages(places(city), 1, system="第三个系统"))

    [result] = cases_import(path=write_packages(tmp_path / "b.jsonl", clash))

    assert result.rejected == 1 and result.problems[0]["problems"][0]["code"] == "number_conflict"


def test_a_run_killed_midway_resumes_where_it_stopped(
    city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = list(packages(places(city), 10))
    path = write_packages(tmp_path / "big.jsonl.gz", items)
    real_write = exchange_services._write
    calls = {"n": 0}

    def dies_on_the_third_batch(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        real_write(*args, **kwargs)
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed after writing, before the batch committed

    monkeypatch.setattr(exchange_services, "_write", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        cases_import(path=path, batch=3)
    run = ImportRun.objects.get()
    assert (run.position, run.imported, run.status) == (6, 6, "failed")
    assert Case.objects.filter(number__startswith="OLD").count() == 6

    monkeypatch.setattr(exchange_services, "_write", real_write)
    [result] = cases_import(path=path, batch=3)

    assert (result.lines, result.imported, result.skipped, result.status) == (10, 10, 0, "done")
    assert Case.objects.filter(number__startswith="OLD").count() == 10
    assert LedgerEntry.objects.filter(action="case_import").count() == 10
    ledger_integrate_all()
    assert ledger_verify().ok


def test_stop_after_leaves_the_run_open_and_the_next_run_finishes_it(city: City, tmp_path: Path) -> None:
    path = write_packages(tmp_path / "p.jsonl", list(packages(places(city), 5)))

    [first] = cases_import(path=path, batch=2, stop_after=3)
    [second] = cases_import(path=path, batch=2)

    assert (first.lines, first.status) == (3, "running")
    assert (second.lines, second.imported, second.status) == (5, 5, "done")


def test_dry_run_checks_and_writes_nothing(city: City, tmp_path: Path) -> None:
    items = list(packages(places(city), 3))
    items[0]["events"][0]["unit"]["code"] = "NOPE"
    path = write_packages(tmp_path / "d.jsonl", items)

    [result] = cases_import(path=path, dry_run=True)

    assert (result.imported, result.rejected) == (2, 1)
    assert not Case.objects.filter(number__startswith="OLD").exists()
    assert not ImportRun.objects.exists()


def test_imported_numbers_move_the_counter_past_them(city: City, tmp_path: Path) -> None:
    item = next(packages(places(city), 1))
    police = city.counties["gusu"].police
    item["case"]["number"] = f"A{police.code[1:].ljust(9, '0')}20260400042"
    cases_import(path=write_packages(tmp_path / "n.jsonl", [item]))

    counter = InstrumentCounter.objects.get(unit=police, kind="案件编号", year=2026)
    assert counter.last == 42


def test_the_commands_export_and_import_a_directory_with_a_report(city: City, tmp_path: Path) -> None:
    walked_cases(city)
    call_command("export-cases", "--out", str(tmp_path / "out.jsonl.gz"))
    folder = tmp_path / "in"
    folder.mkdir()
    write_packages(folder / "1.jsonl.gz", as_another_system(read_packages(tmp_path / "out.jsonl.gz")))
    write_packages(folder / "2.jsonl", list(packages(places(city), 2)))

    call_command("import-cases", str(folder), "--report", str(tmp_path / "r.json"))

    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["totals"]["imported"] == 5 and report["rejected"] == []
    assert CaseOrigin.objects.count() == 5


def test_export_with_files_puts_the_bytes_beside_the_packages_by_hash(
    city: City, tmp_path: Path, settings: Any
) -> None:
    from xietong.dossier.blobs import blob_put_bytes
    from xietong.dossier.models import Volume

    settings.XIETONG_BLOB_ROOT = tmp_path / "store"
    case_id = register_case(city)
    blob = blob_put_bytes(b"%PDF-1.4 scanned volume", content_type="application/pdf")
    Volume.objects.create(
        case_id=case_id,
        number=1,
        title="诉讼卷",
        source=blob,
        source_name="卷1.pdf",
        uploaded_by=city.u("gusu.police"),
        uploaded_at=timezone.now(),
    )

    cases_export(out=tmp_path / "out.jsonl", files_dir=tmp_path / "files")

    [item] = read_packages(tmp_path / "out.jsonl")
    assert item["files"]["volumes"][0]["source"] == blob.sha256
    assert item["files"]["blobs"] == [{"sha256": blob.sha256, "size": 23, "media_type": "application/pdf"}]
    copied = tmp_path / "files" / "blobs" / blob.sha256[:2] / blob.sha256
    assert copied.read_bytes() == b"%PDF-1.4 scanned volume"
    sent = as_another_system([item])
    cases_import(path=write_packages(tmp_path / "in.jsonl", sent))
    origin = CaseOrigin.objects.get()
    assert origin.attachments["files"]["volumes"][0]["source"] == blob.sha256


def test_a_value_the_schema_lets_through_refuses_only_its_package(city: City, tmp_path: Path) -> None:
    items = list(packages(places(city), 4))
    items[2]["parties"][0]["birth_date"] = "1990-02-30"
    path = write_packages(tmp_path / "v.jsonl", items)

    [dry] = cases_import(path=path, dry_run=True)
    [result] = cases_import(path=path)

    assert (dry.imported, dry.rejected) == (3, 1) and dry.problems[0]["line"] == 3
    assert (result.imported, result.rejected) == (3, 1)
    assert [p["code"] for p in result.problems[0]["problems"]] == ["value_invalid"]
    assert Case.objects.filter(number__startswith="OLD").count() == 3
    ledger_integrate_all()
    assert ledger_verify().ok
