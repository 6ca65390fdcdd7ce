"""Concluded platform cases collect themselves into the library; the keeper's edits are versioned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from tests.execution.test_services import act, to_judgment
from tests.factories import City, register_case
from tests.library.judgments import ALL, write_jsonl
from xietong.cases import services as cases
from xietong.cases.models import ActionRequest
from xietong.errors import NotAllowed, ValidationFailed
from xietong.execution.sweeps import execution_sweep
from xietong.library import services
from xietong.library.importer import library_import
from xietong.library.models import Record, RecordVersion


def test_a_judgment_that_takes_effect_is_collected_with_its_sentence_stages_and_decisions(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 10, "probation_months": 12}, held=False)
    assert services.library_collect() == 0  # not concluded while the appeal period runs
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()  # the judgment takes effect
        assert services.library_collect() == 1
        assert services.library_collect() == 0  # idempotent: the record is up to date
    record = Record.objects.get(case_id=case_id)
    assert record.collection.name == "platform" and record.outcome == "judgment"
    assert (record.penalty_kind, record.months, record.probation_months) == ("fixed_term", 10, 12)
    assert record.penalty_label == "有期徒刑10个月，缓刑1年"
    assert record.charges and record.region == "姑苏区"
    stages = [s["stage"] for s in record.details["stages"]]
    assert stages[0] == "investigation" and "first_instance" in stages and stages[-1] == "effective"
    acts = [d["act"] for d in record.details["decisions"]]
    assert "立案" in acts and "一审宣判" in acts and "判决生效" in acts
    assert record.details["parties"][0]["role"] == "被告人"
    name = record.details["parties"][0]["name"]
    assert name in record.judgment and name not in record.published["judgment"]


def test_a_withdrawn_case_is_collected_as_withdrawn(city: City) -> None:
    case_id = register_case(city)
    act(city, "gusu.police", case_id, "withdraw", reason="不应追究刑事责任")  # asks the leader
    assert services.library_collect() == 0
    pending = ActionRequest.objects.get(case_id=case_id)
    cases.request_decide(user=city.u("gusu.police_leader"), request_id=pending.pk, approve=True)
    assert services.library_collect() == 1
    record = Record.objects.get(case_id=case_id)
    assert (record.outcome, record.document_name, record.penalty_kind) == ("withdrawn", "撤销案件决定书", "")


@pytest.mark.django_db
def test_the_keeper_corrects_a_record_and_the_old_version_is_kept(city: City, tmp_path: Path) -> None:
    library_import(path=write_jsonl(tmp_path / "j.jsonl", ALL), collection_name="hist", workers=1)
    record = Record.objects.get(external_id="w-theft-2")
    revision = record.collection.revision
    with pytest.raises(NotAllowed):
        services.record_edit(user=city.u("gusu.judge"), record_id=record.pk, changes={"months": 6})
    with pytest.raises(ValidationFailed):
        services.record_edit(user=city.u("librarian"), record_id=record.pk, changes={"months": -1})
    with pytest.raises(ValidationFailed):
        services.record_edit(user=city.u("librarian"), record_id=record.pk, changes={"tokens": "x"})
    edited = services.record_edit(
        user=city.u("librarian"),
        record_id=record.pk,
        changes={"months": 6, "circumstances": ["退赃退赔", "谅解", "初犯"]},
        note="据判决书原文更正",
    )
    assert (edited.months, edited.version, edited.updated_by) == (6, 2, city.u("librarian"))
    old = RecordVersion.objects.get(record=record)
    assert (old.version, old.data["months"], old.note) == (1, 5, "据判决书原文更正")
    assert record.collection.__class__.objects.get(pk=record.collection_id).revision == revision + 1
    same = services.record_edit(user=city.u("librarian"), record_id=record.pk, changes={"months": 6})
    assert same.version == 2 and RecordVersion.objects.count() == 1  # nothing changed, no version
