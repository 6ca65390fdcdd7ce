"""``library import``: every line a record or a reported problem, re-runs change nothing, an
interrupted run resumes where it stopped."""

from __future__ import annotations

import gzip
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.library.judgments import ALIPAY_THEFT, ALL, DRUNK_DRIVING, FRAUD, WECHAT_THEFT, write_jsonl
from xietong.library.importer import library_import
from xietong.library.models import ImportRun, Record


@pytest.mark.django_db
def test_a_file_of_judgments_becomes_records_with_fields_read_from_the_text(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "j.jsonl", [*ALL, "{not json", {"ajName": "无编号"}, {"id": "x"}])
    run = library_import(path=path, collection_name="hist", workers=1)
    assert (run.status, run.position, run.imported, run.invalid) == ("done", 7, 4, 3)
    assert [(p["line"], p["code"]) for p in run.problems] == [
        (5, "bad_json"),
        (6, "missing_id"),
        (7, "empty_text"),
    ]
    theft = Record.objects.get(external_id="w-theft-1")  # writId wins over ajId: one per document
    assert theft.charges == ["盗窃罪"] and theft.first_charge == "盗窃罪"
    assert (theft.penalty_kind, theft.months) == ("fixed_term", 8)
    assert "坦白" in theft.circumstances
    assert theft.money_yuan == 12000
    assert "刑法第264条" in theft.articles
    own = Record.objects.get(external_id="own-1")  # the project's own field names
    assert (own.title, own.charges, own.penalty_kind, own.months) == (
        "刘伟危险驾驶案",
        ["危险驾驶罪"],
        "criminal_detention",
        2,
    )
    # the published view hides people, phones and plates; the original keeps them
    assert "王建国" in theft.facts and "王建国" not in theft.published["facts"]
    assert "王某" in theft.published["facts"] and "13912345678" not in theft.published["facts"]
    assert "苏E12345" not in own.published["facts"]


@pytest.mark.django_db
def test_a_re_run_changes_nothing_and_a_changed_line_updates_its_record(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "j.jsonl", ALL)
    library_import(path=path, collection_name="hist", workers=1)
    again = library_import(path=path, collection_name="hist", workers=1)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 4)
    changed = {**FRAUD, "pjjg": "被告人陈明犯诈骗罪，判处有期徒刑四年，并处罚金人民币二万元。"}
    path2 = write_jsonl(tmp_path / "j2.jsonl", [ALIPAY_THEFT, changed])
    third = library_import(path=path2, collection_name="hist", workers=1)
    assert (third.imported, third.updated, third.unchanged) == (0, 1, 1)
    fraud = Record.objects.get(external_id="w-fraud-1")
    assert (fraud.months, fraud.version) == (48, 2)
    assert Record.objects.count() == 4


@pytest.mark.django_db
def test_an_interrupted_import_resumes_at_the_first_line_it_had_not_committed(tmp_path: Path) -> None:
    rows = [{**DRUNK_DRIVING, "id": f"own-{i}"} for i in range(450)]
    path = tmp_path / "many.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(write_jsonl(tmp_path / "plain.jsonl", rows).read_text(encoding="utf-8"))
    first = library_import(path=path, collection_name="hist", workers=2, stop_after=250)  # "killed"
    assert (first.status, first.position) == ("running", 250)
    assert Record.objects.count() == 250
    resumed = library_import(path=path, collection_name="hist", workers=2)
    assert resumed.pk == first.pk and (resumed.status, resumed.position, resumed.imported) == (
        "done",
        450,
        450,
    )
    assert Record.objects.count() == 450
    assert ImportRun.objects.count() == 1


@pytest.mark.django_db
def test_the_command_reports_progress_and_the_problems(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "court_archive.jsonl", [WECHAT_THEFT, "[1, 2]"])
    out = StringIO()
    call_command("library", "import", str(path), "--workers", "1", stdout=out)
    text = out.getvalue()
    assert "案例集 court-archive" in text and "新增 1" in text and "无效 1" in text
    assert "第 2 行 [not_object]" in text
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("library", "import", str(tmp_path / "missing.jsonl"))


@pytest.mark.django_db
def test_the_saved_index_is_loaded_not_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xietong.library import index, ranking

    library_import(path=write_jsonl(tmp_path / "a.jsonl", ALL), collection_name="hist", workers=1)
    library_import(
        path=write_jsonl(tmp_path / "b.jsonl", [ALIPAY_THEFT]), collection_name="hist-b", workers=1
    )
    index.forget()  # a new process

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again instead of loaded")

    monkeypatch.setattr(ranking.Index, "build", no_build)
    loaded = {ix.name: len(ix) for ix in index.collection_indexes()}
    assert loaded == {"hist": 4, "hist-b": 1}  # and "hist"'s files survived the import of "hist-b"
