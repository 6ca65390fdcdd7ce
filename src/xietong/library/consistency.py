"""同案不同判 (F15): for each judgment of a collection, the penalty its similar cases and the
charge's model (``sentencing``) expect, and the judgments far outside that range.

Estimating needs the similar cases of every judgment, so it is not done per page view: the job
``library.consistency`` runs after a collection changed and keeps the estimate in the record's
``details["sentencing"]``; the leaders' page reads what it stored."""

from __future__ import annotations

import logging
import math
import zlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from xietong.library import extract, sentencing
from xietong.library import index as library_index
from xietong.library.models import Collection, Record

logger = logging.getLogger(__name__)
NEIGHBOURS = 10  # similar cases that make a judgment's range
FOLDS = 5
TERM_KINDS = ("fixed_term", "criminal_detention", "public_surveillance", "life", "death", "death_reprieve")


def judged_of(record: Record) -> sentencing.Judged:
    amounts = (record.details or {}).get("amounts") or {}
    penalty = (
        extract.Penalty(
            kind=record.penalty_kind,
            months=record.months,
            probation_months=record.probation_months,
        )
        if record.penalty_kind
        else None
    )
    return sentencing.Judged(
        id=record.external_id,
        charges=tuple(record.charges or ()),
        penalty=penalty,
        circumstances=tuple(record.circumstances or ()),
        amounts=extract.Amounts(
            money_yuan=record.money_yuan if record.money_yuan is not None else amounts.get("money_yuan"),
            drug_grams=record.drug_grams if record.drug_grams is not None else amounts.get("drug_grams"),
            drug=amounts.get("drug"),
            injury=amounts.get("injury"),
        ),
        text=f"{record.facts}\n{record.reasoning}",
    )


def consistency_refresh(collection_name: str | None = None) -> int:
    """Estimate every judgment of the collection(s) whose estimates are older than the collection.
    Idempotent; returns how many records were estimated."""
    done = 0
    model = library_index.charge_model()
    for ix in library_index.collection_indexes(collection_name):
        collection = Collection.objects.get(pk=ix.collection_id)
        records = list(
            Record.objects.filter(collection_id=ix.collection_id, penalty_kind__in=TERM_KINDS).order_by("pk")
        )
        stale = [
            r
            for r in records
            if (r.details or {}).get("sentencing", {}).get("revision") != collection.revision
        ]
        if not stale:
            continue
        judged = {r.external_id: judged_of(r) for r in records}
        # Each judgment is estimated by a model fitted without it (five folds), or a judgment far
        # out of line would pull its own charge's estimate toward itself and hide.
        fold_of = {r.external_id: zlib.crc32(r.external_id.encode()) % FOLDS for r in records}
        models = {
            fold: sentencing.Model.fit(j for i, j in judged.items() if fold_of[i] != fold)
            for fold in {fold_of[r.external_id] for r in stale}
        }
        changed: list[Record] = []
        for record in stale:
            neighbours = [
                judged[m.id]
                for m in ix.ranker.similar(
                    record.facts, k=NEIGHBOURS, exclude={record.external_id}, charge_model=model
                )
                if m.id in judged
            ]
            case = judged[record.external_id]
            estimate = models[fold_of[record.external_id]].estimate(case, neighbours)
            actual = case.penalty
            deviation = sentencing.deviation(estimate, actual) if actual is not None else None
            record.details = {
                **(record.details or {}),
                "sentencing": {
                    "revision": collection.revision,
                    "kind": estimate.kind,
                    "months": estimate.months,
                    "low": estimate.low,
                    "high": estimate.high,
                    "basis": estimate.basis,
                    "neighbours": estimate.neighbours,
                    "deviation": deviation,
                    "flagged": bool(actual is not None and sentencing.flagged(estimate, actual)),
                },
            }
            changed.append(record)
        with transaction.atomic():
            Record.objects.bulk_update(changed, ["details"], batch_size=200)
        done += len(changed)
    return done


@dataclass
class Flag:
    record: Record
    estimate: dict[str, Any]
    direction: str  # 偏重 / 偏轻
    neighbours: list[Record]


@dataclass
class Report:
    flagged: list[Flag]
    estimated: int
    threshold_ratio: float  # a flagged term is more than this many times (or less than 1/this) the estimate

    @property
    def rate(self) -> float:
        return len(self.flagged) / self.estimated if self.estimated else 0.0


def consistency_report(*, collection: str = "") -> Report:
    """What the last ``consistency_refresh`` found (it runs in the background)."""
    records = Record.objects.select_related("collection").filter(penalty_kind__in=TERM_KINDS)
    if collection:
        records = records.filter(collection__name=collection)
    estimated = 0
    flags: list[Flag] = []
    for record in records.only(
        "pk",
        "external_id",
        "title",
        "published",
        "charges",
        "penalty_label",
        "penalty_kind",
        "months",
        "details",
        "collection",
        "court",
        "year",
        "case",
    ):
        s = (record.details or {}).get("sentencing")
        if not s:
            continue
        estimated += 1
        if s.get("flagged"):
            # On the model's scale, so that 无期徒刑 or 死刑 against an expected term reads 偏重.
            actual = sentencing.penalty_months(
                extract.Penalty(kind=record.penalty_kind, months=record.months)
            )
            expected = (
                s["months"] if s.get("months") is not None else sentencing.KIND_MONTHS.get(s.get("kind", ""))
            )
            direction = "偏重" if (actual or 0) > (expected or 0) else "偏轻"
            flags.append(Flag(record=record, estimate=s, direction=direction, neighbours=[]))
    flags.sort(key=lambda f: -(f.estimate.get("deviation") or 0))
    ids = {n for f in flags for n in f.estimate.get("neighbours", [])[:5]}
    by_id = {
        r.external_id: r
        for r in Record.objects.filter(external_id__in=ids).only(
            "pk", "external_id", "title", "penalty_label", "published"
        )
    }
    for f in flags:
        f.neighbours = [by_id[n] for n in f.estimate.get("neighbours", [])[:5] if n in by_id]
    return Report(
        flagged=flags, estimated=estimated, threshold_ratio=round(math.exp(sentencing.FLAG_THRESHOLD), 2)
    )
