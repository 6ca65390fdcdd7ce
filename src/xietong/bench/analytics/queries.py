"""The reports of ``xietong bench analytics`` (``analytics.selectors`` as the pages call them), their
baselines over the operational tables, and the timing of both."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, transaction

from xietong.bench.bulk import Write, percentile

# ------------------------------------------------------------------ reports and their baselines

Report = Callable[[Any, Any, Any], Any]  # (facts, persons, filters) → the evaluated figure
ENDED = ("effective", "execution", "closed", "not_prosecuted", "withdrawn")
JUDGED = ("effective", "execution", "closed")


def reports(year: int) -> dict[str, Report]:
    """Every standard report and chart of ``analytics.selectors``, as the pages call them."""
    from xietong.analytics import selectors as s

    return {
        "summary": lambda f, p, flt: s.summary(f),
        "trend": lambda f, p, flt: s.trend(f),
        "grouped_charge": lambda f, p, flt: s.grouped(f, "charge"),
        "grouped_town": lambda f, p, flt: s.grouped(f, "town"),
        "funnel": lambda f, p, flt: s.funnel(f),
        "duration_histogram": lambda f, p, flt: s.duration_histogram(f, "days_total"),
        "region_comparison": lambda f, p, flt: s.region_comparison(
            f, year=year, level="town", county=flt.county
        ),
        "hour_heat": lambda f, p, flt: s.hour_heat(f),
        "repeat_offenders": lambda f, p, flt: s.repeat_offenders(p, f),
        "co_occurring_places": lambda f, p, flt: s.co_occurring_places(f),
    }


def _at(*actions: str, last: bool = False) -> Any:
    """When the case's first (or last) entry of ``actions`` was recorded: a subquery per case."""
    from django.db.models import OuterRef, Subquery

    from xietong.ledger.models import LedgerEntry

    entries = LedgerEntry.objects.filter(case_id=OuterRef("pk"), action__in=actions)
    return Subquery(entries.order_by("-seq" if last else "seq").values("recorded_at")[:1])


def ops_cases(user: Any, flt: Any) -> Any:
    """The baseline's starting point: the cases the user's statistics cover, straight from
    ``cases_case``, each with its 立案 time from the ledger (Subquery/Min) and the same filters."""
    from django.db.models import Min, OuterRef, Q, Subquery

    from xietong.analytics.selectors import visible_unit_ids
    from xietong.cases.models import Case
    from xietong.ledger.models import LedgerEntry

    qs = Case.objects.order_by()
    units = visible_unit_ids(user)
    if units is not None:
        qs = qs.filter(
            Q(police_unit_id__in=units) | Q(procuratorate_unit_id__in=units) | Q(court_unit_id__in=units)
        )
    first = LedgerEntry.objects.filter(case_id=OuterRef("pk"), action="register").values("case_id")
    qs = qs.annotate(registered_at=Subquery(first.annotate(m=Min("recorded_at")).values("m")))
    if flt.date_from:
        qs = qs.filter(registered_at__date__gte=flt.date_from)
    if flt.date_to:
        qs = qs.filter(registered_at__date__lte=flt.date_to)
    if flt.town:
        qs = qs.filter(town_id=flt.town)
    elif flt.county:
        qs = qs.filter(county_id=flt.county)
    if flt.charge:
        qs = qs.filter(charge=flt.charge)
    return qs


def baselines(year: int) -> dict[str, Report]:
    """The same figures asked of the operational tables with the plain ORM (no facts layer). The
    amount of money is left out: it is in the facts text, which SQL cannot read."""
    from django.db.models import Avg, Count, Exists, F, FloatField, Func, OuterRef, Q, Subquery, Sum
    from django.db.models.functions import ExtractHour, ExtractYear, Floor, TruncMonth
    from django.utils import timezone

    from xietong.analytics import derive
    from xietong.cases.models import Clock, Party
    from xietong.ledger.models import LedgerEntry
    from xietong.orgs.models import Region

    class Epoch(Func):
        template = "EXTRACT(EPOCH FROM %(expressions)s)"
        output_field = FloatField()

    def late() -> Exists:
        now = timezone.now()
        clocks = Clock.objects.filter(case=OuterRef("pk")).filter(
            Q(stopped_at__gt=F("due_at")) | Q(status="running", due_at__lt=now)
        )
        return Exists(clocks)

    def held() -> Exists:
        return Exists(LedgerEntry.objects.filter(case_id=OuterRef("pk"), action__in=derive.CUSTODY_ACTS))

    suspects = Subquery(
        Party.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    acquitted = Q(stage__in=JUDGED, verdict__guilty=False)
    convicted = Q(stage__in=JUDGED) & ~Q(verdict__guilty=False)

    def summary(qs: Any, p: Any, flt: Any) -> Any:
        return qs.annotate(
            transferred_at=_at("transfer_for_prosecution"), decided_at=_at("indict", "not_prosecute"),
            indicted_at=_at("indict"), judged_at=_at("pronounce"),
            concluded_at=_at(*derive.CONCLUDING, last=True),
            late=late(), held=held(), suspects=suspects,
        ).aggregate(
            total=Count("pk"), pending=Count("pk", filter=~Q(stage__in=ENDED)),
            convicted=Count("pk", filter=convicted), acquitted=Count("pk", filter=acquitted),
            not_prosecuted=Count("pk", filter=Q(stage="not_prosecuted")),
            withdrawn=Count("pk", filter=Q(stage="withdrawn")),
            transferred=Count("pk", filter=Q(transferred_at__isnull=False)),
            returned=Count("pk", filter=Q(supplementary_count__gt=0)),
            indicted=Count("pk", filter=Q(indicted_at__isnull=False)),
            overdue=Count("pk", filter=Q(late=True)),
            custody=Count("pk", filter=Q(held=True)), plea=Count("pk", filter=Q(plea=True)),
            defendants=Sum("suspects"),
            days_investigation=Avg(F("transferred_at") - F("registered_at")),
            days_review=Avg(F("decided_at") - F("transferred_at")),
            days_trial=Avg(F("judged_at") - F("indicted_at")),
            days_total=Avg(F("concluded_at") - F("registered_at"), filter=Q(stage__in=ENDED)),
        )  # fmt: skip

    def trend(qs: Any, p: Any, flt: Any) -> Any:
        return list(
            qs.annotate(m=TruncMonth("registered_at")).values("m").annotate(n=Count("pk")).order_by("m")
        )

    def grouped(column: str) -> Report:
        def run(qs: Any, p: Any, flt: Any) -> Any:
            return list(
                qs.annotate(
                    late=late(), transferred_at=_at("transfer_for_prosecution"), indicted_at=_at("indict"),
                    concluded_at=_at(*derive.CONCLUDING, last=True),
                ).values(column).annotate(
                    total=Count("pk"), concluded=Count("pk", filter=Q(stage__in=ENDED)),
                    overdue=Count("pk", filter=Q(late=True)),
                    transferred=Count("pk", filter=Q(transferred_at__isnull=False)),
                    returned=Count("pk", filter=Q(supplementary_count__gt=0)),
                    indicted=Count("pk", filter=Q(indicted_at__isnull=False)),
                    not_prosecuted=Count("pk", filter=Q(stage="not_prosecuted")),
                    acquitted=Count("pk", filter=acquitted), convicted=Count("pk", filter=convicted),
                    days_total=Avg(F("concluded_at") - F("registered_at"), filter=Q(stage__in=ENDED)),
                ).order_by("-total")[:200]
            )  # fmt: skip

        return run

    def funnel(qs: Any, p: Any, flt: Any) -> Any:
        def reached(*actions: str) -> Exists:
            return Exists(LedgerEntry.objects.filter(case_id=OuterRef("pk"), action__in=actions))

        return qs.annotate(
            a=reached("approve_arrest"), t=reached("transfer_for_prosecution"), i=reached("indict"),
            j=reached("pronounce"),
        ).aggregate(
            registered=Count("pk"), arrested=Count("pk", filter=Q(a=True)),
            transferred=Count("pk", filter=Q(t=True)),
            indicted=Count("pk", filter=Q(i=True)), judged=Count("pk", filter=Q(j=True)),
            concluded=Count("pk", filter=Q(stage__in=ENDED)),
        )  # fmt: skip

    def durations(qs: Any, p: Any, flt: Any) -> Any:
        rows = (
            qs.filter(stage__in=ENDED)
            .annotate(concluded_at=_at(*derive.CONCLUDING, last=True))
            .annotate(bin=Floor(Epoch(F("concluded_at") - F("registered_at")) / (86400 * 15)))
            .filter(bin__isnull=False)
            .values("bin")
            .annotate(n=Count("pk"))
            .order_by("bin")
        )
        return list(rows)

    def regions(qs: Any, p: Any, flt: Any) -> Any:
        qs = qs.annotate(y=ExtractYear("registered_at")).filter(y__in=[year, year - 1])
        counts = list(qs.values("town_id", "y").annotate(n=Count("pk")).order_by())
        names = dict(Region.objects.filter(pk__in={c["town_id"] for c in counts}).values_list("pk", "name"))
        return counts, names

    def heat(qs: Any, p: Any, flt: Any) -> Any:
        top = [r["charge"] for r in qs.values("charge").annotate(n=Count("pk")).order_by("-n")[:8]]
        cells = qs.filter(charge__in=top).annotate(h=ExtractHour("occurred_at")).values("h", "charge")
        return top, list(cells.annotate(n=Count("pk")).order_by())

    def repeat(qs: Any, p: Any, flt: Any) -> Any:
        persons = Party.objects.filter(case__in=qs.values("pk")).exclude(id_number="")
        keys = list(
            persons.values("id_number")
            .annotate(cases=Count("case_id", distinct=True))
            .filter(cases__gt=1)
            .order_by("-cases")
        )
        people = persons.count()
        chosen = [k["id_number"] for k in keys[:2000]]
        registered = LedgerEntry.objects.filter(case_id=OuterRef("case_id"), action="register").order_by(
            "seq"
        )
        history = list(
            persons.filter(id_number__in=chosen)
            .annotate(reg=Subquery(registered.values("recorded_at")[:1]))
            .order_by("reg")
            .values_list("id_number", "reg", "case__charge", "case_id", "case__town_id")
        )
        return len(keys), people, len(history)

    def places(qs: Any, p: Any, flt: Any) -> Any:
        total = qs.count()
        by_charge = list(qs.values_list("charge").annotate(n=Count("pk")).order_by())
        by_town = list(qs.values_list("town_id").annotate(n=Count("pk")).order_by())
        cells = list(qs.values_list("town_id", "charge").annotate(n=Count("pk")).order_by("-n")[:2000])
        return total, by_charge, by_town, cells

    return {
        "summary": summary,
        "trend": trend,
        "grouped_charge": grouped("charge"),
        "grouped_town": grouped("town_id"),
        "funnel": funnel,
        "duration_histogram": durations,
        "region_comparison": regions,
        "hour_heat": heat,
        "repeat_offenders": repeat,
        "co_occurring_places": places,
    }


def latency(values: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(max(values), 1) if values else 0.0,
        "n": len(values),
    }


def time_reports(
    *,
    scopes: dict[str, Any],
    filter_sets: dict[str, Any],
    queries: dict[str, Report],
    reps: int,
    write: Write,
) -> tuple[dict[str, list[float]], dict[str, dict[str, Any]]]:
    """Every query for every scope and filter set: one warm-up (counting its SQL statements), then
    ``reps`` timed runs, the queries interleaved so a slow moment of the machine hits them all."""
    from django.test.utils import CaptureQueriesContext

    from xietong.analytics.selectors import facts_visible_to, persons_for

    samples: dict[str, list[float]] = defaultdict(list)
    combos: dict[str, dict[str, Any]] = defaultdict(dict)
    for scope, user in scopes.items():
        for name, flt in filter_sets[scope].items():
            facts = flt.apply(facts_visible_to(user=user))
            persons = persons_for(user=user, filters=flt, facts=facts)
            statements = {}
            for qname, fn in queries.items():
                with CaptureQueriesContext(connection) as captured:
                    fn(facts, persons, flt)
                statements[qname] = len(captured)
            times: dict[str, list[float]] = defaultdict(list)
            for _ in range(reps):
                for qname, fn in queries.items():
                    t = time.perf_counter()
                    fn(facts, persons, flt)
                    times[qname].append((time.perf_counter() - t) * 1000)
            for qname, values in times.items():
                samples[qname] += values
                combos[qname][f"{scope}/{name}"] = {**latency(values), "statements": statements[qname]}
            worst = max(times, key=lambda q: percentile(times[q], 95))
            write(
                f"  {scope:<13} {name:<9} p95 "
                + " ".join(f"{q}={percentile(v, 95):.0f}" for q, v in times.items())
                + f" ms; slowest {worst}"
            )
    return samples, combos


def time_baselines(
    *,
    scopes: dict[str, Any],
    filter_sets: dict[str, Any],
    queries: dict[str, Report],
    runs: int,
    timeout_s: float,
    write: Write,
) -> tuple[dict[str, list[float]], dict[str, dict[str, Any]], int]:
    """The baseline queries, ``runs`` times each (no warm-up), each under a statement timeout (a
    timed-out run counts as the timeout: the figure is then a lower bound)."""
    samples: dict[str, list[float]] = defaultdict(list)
    combos: dict[str, dict[str, Any]] = defaultdict(dict)
    timeouts = 0
    for scope, user in scopes.items():
        for name, flt in filter_sets[scope].items():
            qs = ops_cases(user, flt)
            line = []
            for qname, fn in queries.items():
                values, timed_out = [], 0
                for _ in range(runs):
                    t = time.perf_counter()
                    try:
                        with transaction.atomic(), connection.cursor() as cursor:
                            cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
                            fn(qs, None, flt)
                    except DatabaseError:
                        timed_out += 1
                        values.append(timeout_s * 1000)
                        continue
                    values.append((time.perf_counter() - t) * 1000)
                timeouts += timed_out
                samples[qname] += values
                combos[qname][f"{scope}/{name}"] = {**latency(values), "timed_out": timed_out}
                line.append(f"{qname}={percentile(values, 50) / 1000:.1f}{'+' if timed_out else ''}")
            write(f"  baseline {scope:<13} {name:<9} s: " + " ".join(line))
    return samples, combos, timeouts


def explain(fn: Report, facts: Any, persons: Any, flt: Any) -> list[str]:
    """EXPLAIN ANALYZE of the slowest statement the report issues."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn(facts, persons, flt)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        plan = [row[0] for row in cursor.fetchall()]
    return [f"-- {float(slowest['time']) * 1000:.0f} ms: {slowest['sql'][:400]}", *plan]
