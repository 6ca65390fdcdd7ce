"""Every write of the case library: records upserted from an import or collected from a concluded
case, a keeper's edit (versioned), and the revision bump that tells the index to rebuild. The CPU
work of a record is ``prepare.prepare`` (pure, no database)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone

from xietong import tasks
from xietong.cases.models import Case
from xietong.errors import NotAllowed, ValidationFailed
from xietong.library.collect import CONCLUDED_STAGES, case_record
from xietong.library.models import (
    EDITABLE_FIELDS,
    PLATFORM_COLLECTION,
    Collection,
    Record,
    RecordVersion,
    RecordView,
)
from xietong.library.prepare import index_text, prepare  # noqa: F401 (index_text: read by benches)
from xietong.library.records import RecordInput
from xietong.orgs.models import Duty, User


def may_keep_library(user: User) -> bool:
    """案例库管理员 (and the system administrator) edit records and import judgments."""
    return user.is_authenticated and user.has_duty(Duty.LIBRARIAN, Duty.ADMIN)


def collection_get_or_create(*, name: str, title: str = "", source: str = "") -> Collection:
    collection, created = Collection.objects.get_or_create(
        name=name, defaults={"title": title or name, "source": source}
    )
    if not created and ((title and title != collection.title) or (source and source != collection.source)):
        collection.title = title or collection.title
        collection.source = source or collection.source
        collection.save(update_fields=["title", "source"])
    return collection


def collection_touch(collection_id: int) -> None:
    """Move the revision, so every process rebuilds its index of the collection."""
    Collection.objects.filter(pk=collection_id).update(revision=F("revision") + 1)


def records_upsert(
    *,
    collection: Collection,
    prepared: Sequence[tuple[str, dict[str, Any]]],
    case_ids: dict[str, int] | None = None,
) -> tuple[int, int, int]:
    """Write prepared records into ``collection``: new ones created, changed ones updated (the
    keeper's edits survive only until the source changes them), unchanged ones left alone.
    Returns (created, updated, unchanged). The caller holds the transaction."""
    latest: dict[str, dict[str, Any]] = {}
    for external_id, fields in prepared:
        latest[external_id] = fields  # the last line wins when a file repeats an id
    existing = {
        r.external_id: r
        for r in Record.objects.filter(collection=collection, external_id__in=list(latest)).only(
            "id", "external_id", "details", "version"
        )
    }
    now = timezone.now()
    new: list[Record] = []
    changed: list[Record] = []
    unchanged = 0
    same: list[int] = []
    for external_id, fields in latest.items():
        record = existing.get(external_id)
        if record is None:
            new.append(
                Record(
                    collection=collection,
                    external_id=external_id,
                    case_id=(case_ids or {}).get(external_id),
                    # An expression, not a value: Django then inserts a VALUES list, whose long
                    # strings libpq escapes in C, instead of PostgreSQL UNNEST arrays, which psycopg
                    # quotes character by character in Python (70 % of an import's time; see
                    # docs/benchmarks.md, "library").
                    created_at=Now(),
                    updated_at=now,
                    **fields,
                )
            )
        elif record.details.get("hash") == fields["details"]["hash"]:
            unchanged += 1
            same.append(record.pk)
        else:
            for name, value in fields.items():
                setattr(record, name, value)
            record.updated_at = now
            record.version += 1
            changed.append(record)
    Record.objects.bulk_create(new, batch_size=500)
    if changed:
        Record.objects.bulk_update(changed, [*_FIELD_NAMES, "updated_at", "version"], batch_size=200)
    if same and case_ids:
        # A collected case whose record did not change is still up to date with its last act.
        Record.objects.filter(pk__in=same).update(updated_at=now)
    return len(new), len(changed), unchanged


_FIELD_NAMES = (
    *EDITABLE_FIELDS,
    "first_charge",
    "full_text",
    "details",
    "published",
    "tokens",
)


@transaction.atomic
def record_edit(*, user: User, record_id: int, changes: dict[str, Any], note: str = "") -> Record:
    """The keeper corrects a record (a charge the text did not give away, a sentence misread).
    The record as it was is kept as a version; the published view and the index follow."""
    if not may_keep_library(user):
        raise NotAllowed("只有案例库管理员可以修改案例", code="library_keeper_only")
    record = Record.objects.select_for_update().get(pk=record_id)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("不能修改这些字段：" + "、".join(sorted(unknown)), code="bad_field")
    before = record.snapshot()
    merged = {**before, **changes}
    try:
        edited = RecordInput(
            external_id=record.external_id,
            title=str(merged["title"] or "").strip() or record.external_id,
            document_name=str(merged["document_name"] or ""),
            court=str(merged["court"] or ""),
            region=str(merged["region"] or ""),
            year=_optional_int(merged["year"], "year", 1949, 2100),
            facts=str(merged["facts"] or ""),
            reasoning=str(merged["reasoning"] or ""),
            judgment=str(merged["judgment"] or ""),
            full_text=record.full_text,
            charges=_str_list(merged["charges"], "charges"),
            articles=_str_list(merged["articles"], "articles"),
            circumstances=_str_list(merged["circumstances"], "circumstances"),
            penalty={
                "kind": str(merged["penalty_kind"] or ""),
                "months": _optional_int(merged["months"], "months", 0, 600),
                "probation_months": _optional_int(merged["probation_months"], "probation_months", 0, 60),
                "label": str(merged["penalty_label"] or ""),
            },
            money_yuan=_optional_float(merged["money_yuan"], "money_yuan"),
            drug_grams=_optional_float(merged["drug_grams"], "drug_grams"),
            details={k: v for k, v in record.details.items() if k not in {"hash", "penalty"}},
        )
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"修改内容有误：{exc}", code="invalid") from exc
    fields = prepare(edited)
    if fields["details"]["hash"] == record.details.get("hash"):
        return record
    RecordVersion.objects.create(record=record, version=record.version, data=before, note=note[:200], by=user)
    for name, value in fields.items():
        setattr(record, name, value)
    record.version += 1
    record.updated_at = timezone.now()
    record.updated_by = user
    record.save()
    collection_touch(record.collection_id)  # in the same transaction: the index follows the edit
    return record


def _optional_int(value: Any, name: str, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{name} 应在 {low}–{high} 之间")
    return number


def _optional_float(value: Any, name: str) -> float | None:
    if value in (None, ""):
        return None
    number = float(value)
    if number < 0:
        raise ValueError(f"{name} 不能为负数")
    return number


def _str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").replace("、", ",").split(",")]
    if not isinstance(value, Iterable):
        raise ValueError(f"{name} 应为列表")
    return [str(v).strip() for v in value if str(v).strip()]


def platform_collection() -> Collection:
    return collection_get_or_create(
        name=PLATFORM_COLLECTION, title="本平台办结案件", source="协同平台办结案件自动归集"
    )


def records_from_cases(case_ids: Iterable[int]) -> int:
    """Collect concluded platform cases into the ``platform`` collection (idempotent: a case whose
    record is up to date is left alone). Returns how many records were written."""
    collection = platform_collection()
    prepared: list[tuple[str, dict[str, Any]]] = []
    case_of: dict[str, int] = {}
    for case_id in case_ids:
        found = case_record(case_id)
        if found is None:
            continue
        record, outcome = found
        fields = prepare(record)
        fields["outcome"] = outcome
        prepared.append((record.external_id, fields))
        case_of[record.external_id] = case_id
    if not prepared:
        return 0
    with transaction.atomic():
        created, updated, _ = records_upsert(collection=collection, prepared=prepared, case_ids=case_of)
        if created or updated:
            collection_touch(collection.pk)
    return created + updated


def library_collect() -> int:
    """The background job: every concluded case that has no record yet, or whose record is older
    than its last act. Run on each concluding act and periodically, so a missed event or a worker
    killed mid-job only delays a record. A case with no document at all (history brought in as
    bare case rows and ledger, like the demo's past years) has nothing to publish and is left out."""
    from xietong.instruments.models import Instrument

    stale = Record.objects.filter(case=OuterRef("pk"), updated_at__gte=OuterRef("updated_at"))
    documented = Instrument.objects.filter(case=OuterRef("pk"))
    ids = list(
        Case.objects.filter(
            Q(stage__in=CONCLUDED_STAGES) & Exists(documented) & ~Q(Exists(stale))
        ).values_list("pk", flat=True)[:2000]
    )
    written = 0
    for start in range(0, len(ids), 100):
        written += records_from_cases(ids[start : start + 100])
    if written:
        tasks.request("library.consistency")
    return written


def record_view_log(*, user: User, record: Record, original: bool) -> None:
    RecordView.objects.create(record=record, user=user, original=original)
