"""``xietong bench sentencing`` on the first 40 cases of the dev set: it runs, and its last line is one
JSON object with the figures; the library loader keeps only what may be trained on. Skipped where the
shared data set is absent."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xietong.bench import sentencing

pytestmark = pytest.mark.skipif(
    not (sentencing.DEFAULT_DATA / "cases.jsonl.gz").exists(), reason="sentencing data set not present"
)


def test_bench_sentencing_prints_json_last(capsys: pytest.CaptureFixture[str]) -> None:
    sentencing.main(["--cases", "40", "--library", "none"])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["bench"] == "sentencing" and result["cases"] == 40 and result["folds"] == 10
    assert result["library_cases"] == 0 and set(result["ablation"]) == set(sentencing.CONTESTANTS)
    assert sum(b["cases"] for b in result["ablation"]["model"]["by_charge_frequency"].values()) == 40
    assert 0 < result["score"] <= 100 and 0 < result["baseline_score"] <= 100
    assert result["mae_months"] > 0 and result["mae_ratio"] > 0
    assert 0 <= result["false_alarm_rate"] <= 1 and set(result["detection_rate"]) == {
        "x2",
        "x0.5",
        "x3",
        "x1/3",
    }
    assert result["extraction_agreement"]["penalty"] >= 0.9
    assert any("CAIL" in line for line in lines[:-1])


def test_cail_score() -> None:
    from xietong.library.extract import Penalty

    assert sentencing.cail_score("fixed_term", 12, Penalty("fixed_term", 12)) == 1.0
    assert sentencing.cail_score("fixed_term", 24, Penalty("fixed_term", 12)) == 0.4  # ln(25/13) = 0.65
    assert sentencing.cail_score("fixed_term", 200, Penalty("life", None)) == 0.0
    assert sentencing.cail_score("life", None, Penalty("life", None)) == 1.0
    assert sentencing.cail_score("fixed_term", 0.0, Penalty("exempt", None)) == 1.0


def test_missing_data_gives_a_chinese_error(tmp_path: object) -> None:
    with pytest.raises(FileNotFoundError, match="找不到量刑数据集"):
        sentencing.load(sentencing.Path(str(tmp_path)))


def _library(tmp_path: Path, evaluated_writ: str) -> Path:
    rows = [
        {
            "cand_id": 1,
            "writId": "w1",
            "ajjbqk": "被告人张三窃取手机一部，价值3000元。",
            "cpfxgc": "本院认为……",
            "pjjg": "被告人张三犯盗窃罪，判处有期徒刑八个月，并处罚金人民币二千元。",
        },
        {
            "cand_id": 1,
            "writId": "w1",
            "ajjbqk": "重复的一行",
            "pjjg": "被告人张三犯盗窃罪，判处有期徒刑八个月。",
        },
        {
            "cand_id": 2,
            "writId": "w2",
            "ajjbqk": "……",
            "pjjg": "被告人李四犯盗窃罪，判处有期徒刑一年；被告人王五犯盗窃罪，判处有期徒刑八个月。",
        },
        {
            "cand_id": 3,
            "writId": evaluated_writ,
            "ajjbqk": "……",
            "pjjg": "被告人赵六犯诈骗罪，判处有期徒刑一年。",
        },
        {"cand_id": 4, "writId": "w4", "ajjbqk": "……", "pjjg": "驳回上诉，维持原判。"},
    ]
    with gzip.open(tmp_path / "candidates_labeled.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return tmp_path


def test_library_keeps_single_defendant_judgments_not_in_the_evaluated_set(tmp_path: Path) -> None:
    evaluated = sentencing.load(sentencing.DEFAULT_DATA, 3)
    library, skipped = sentencing.load_library(_library(tmp_path, evaluated[2].writ), evaluated)
    assert [r.case.id for r in library] == ["1"]
    case = library[0].case
    assert case.penalty is not None and (case.penalty.kind, case.penalty.months) == ("fixed_term", 8)
    assert case.charges == ("盗窃罪",) and case.amounts.money_yuan == 3000
    assert skipped == {"several_defendants": 1, "in_evaluated_set": 1, "no_penalty": 1}


def test_bench_with_a_library_trains_on_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sentencing.main(["--cases", "30", "--library", str(_library(tmp_path, "none"))])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["library_cases"] == 2  # 1 and 3: nothing of theirs is among the first 30 cases
    assert result["library_skipped"] == {"several_defendants": 1, "no_penalty": 1}


def test_hindsight_ceiling_is_the_best_constant_per_charge() -> None:
    from collections import Counter

    from xietong.library.extract import Amounts, Penalty
    from xietong.library.sentencing import Judged

    def row(charge: str, months: int) -> sentencing.Row:
        case = Judged("x", (charge,), Penalty("fixed_term", months), (), Amounts(None, None, None, None))
        return sentencing.Row(case, Counter())

    rows = [row("盗窃罪", 12), row("盗窃罪", 12), row("盗窃罪", 24), row("诈骗罪", 36)]
    # 盗窃罪: 12 months would score 1 + 1 + 0.4 (ln(25/13) = 0.65); 14 months does better, 1 + 1 + 0.6
    # (ln(15/13) = 0.14, ln(25/15) = 0.51), and nothing beats it; 诈骗罪: 36 months, 1
    assert sentencing.hindsight_per_charge(rows) == round(100 * 3.6 / 4, 1)
