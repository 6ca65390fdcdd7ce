"""Reads for export: cases as standard data packages, a page at a time (never all in memory).

Export is an administrator's whole-database operation, not a user's view, so these selectors are
not scoped by visibility; the command that calls them is run by whoever runs the server."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from xietong.cases.models import Case, Clock, Participation, Party
from xietong.dossier.models import Blob, Evidence, Volume
from xietong.exchange.package import FORMAT, VERSION
from xietong.instruments.models import Instrument
from xietong.ledger.chain import timestamp_text
from xietong.ledger.models import LedgerEntry
from xietong.orgs.models import Region, Unit

PAGE = 500


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _d(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_ids_for_export(
    *, case_ids: list[int] | None = None, county_code: str | None = None, since: date | None = None
) -> Iterator[list[int]]:
    """The ids of the cases to export, in pages of ``PAGE``, ascending (keyset paging)."""
    query = Q()
    if case_ids:
        query &= Q(pk__in=case_ids)
    if county_code:
        query &= Q(county__code=county_code)
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
        query &= Q(updated_at__gte=start)
    last = 0
    while True:
        page = list(
            Case.objects.filter(query, pk__gt=last).order_by("pk").values_list("pk", flat=True)[:PAGE]
        )
        if not page:
            return
        yield page
        last = page[-1]


class _Codes:
    """Unit and region codes by id (a city has a few hundred units: read once)."""

    def __init__(self) -> None:
        self.unit = dict(Unit.objects.values_list("pk", "code"))
        self.region = dict(Region.objects.values_list("pk", "code"))


def packages_for(ids: list[int], *, system: str, codes: _Codes | None = None) -> list[dict[str, Any]]:
    """The standard package of each case in ``ids`` (in that order), in a fixed number of queries."""
    codes = codes or _Codes()
    unit = codes.unit.get
    cases = {c.pk: c for c in Case.objects.filter(pk__in=ids)}
    parties: dict[int, list[Party]] = defaultdict(list)
    for party in Party.objects.filter(case_id__in=ids).order_by("case_id", "ordinal", "pk"):
        parties[party.case_id].append(party)
    ordinal = {p.pk: p.ordinal for ps in parties.values() for p in ps}
    participations: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for case_id, unit_id, since in (
        Participation.objects.filter(case_id__in=ids)
        .order_by("case_id", "pk")
        .values_list("case_id", "unit_id", "since")
    ):
        participations[case_id].append({"unit": unit(unit_id), "since": _ts(since)})
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in LedgerEntry.objects.filter(case_id__in=ids).order_by("case_id", "seq"):
        events[e.case_id].append(
            {
                "seq": e.seq,
                "action": e.action,
                "recorded_at": timestamp_text(e.recorded_at),
                "actor": {"id": e.actor_id, "name": e.actor_name, "duty": e.actor_duty},
                "unit": {
                    "id": e.unit_id,
                    "code": unit(e.unit_id) if e.unit_id else None,
                    "name": e.unit_name,
                },
                "payload": e.payload,
                "prev_hash": e.prev_hash,
                "entry_hash": e.entry_hash,
            }
        )
    clocks: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for k in Clock.objects.filter(case_id__in=ids).order_by("case_id", "pk"):
        clocks[k.case_id].append(
            {
                "rule": k.rule,
                "party": ordinal.get(k.party_id) if k.party_id else None,
                "unit": unit(k.unit_id),
                "started_at": _ts(k.started_at),
                "in_custody": k.in_custody,
                "due": _d(k.due),
                "due_at": _ts(k.due_at),
                "status": k.status,
                "stopped_at": _ts(k.stopped_at),
                "stopped_by": k.stopped_by,
            }
        )
    instruments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for i in Instrument.objects.filter(case_id__in=ids).order_by("case_id", "pk"):
        instruments[i.case_id].append(
            {
                "kind": i.kind,
                "action": i.action,
                "unit": unit(i.unit_id),
                "status": i.status,
                "number": i.number,
                "recipient": i.recipient,
                "claimed_date": _d(i.claimed_date),
                "issued_at": _ts(i.issued_at),
                "sealed_at": _ts(i.sealed_at),
                "pdf_sha256": i.pdf_sha256,
                "entry_hash": i.entry_hash,
            }
        )
    files = _files(ids)
    out = []
    for pk in ids:
        c = cases[pk]
        package: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "source": {"system": system, "case_id": c.pk},
            "case": {
                "number": c.number,
                "title": c.title,
                "charge": c.charge,
                "facts": c.facts,
                "occurred_at": _ts(c.occurred_at),
                "place": c.place,
                "town": codes.region[c.town_id],
                "stage": c.stage,
                "holder_unit": unit(c.holder_unit_id),
                "police_unit": unit(c.police_unit_id),
                "procuratorate_unit": unit(c.procuratorate_unit_id) if c.procuratorate_unit_id else None,
                "court_unit": unit(c.court_unit_id) if c.court_unit_id else None,
                "execution_unit": unit(c.execution_unit_id) if c.execution_unit_id else None,
                "plea": c.plea,
                "fast_track": c.fast_track,
                "trial_procedure": c.trial_procedure,
                "supplementary_count": c.supplementary_count,
                "remand_count": c.remand_count,
                "verdict": c.verdict,
                "version": c.version,
                "created_at": _ts(c.created_at),
                "updated_at": _ts(c.updated_at),
            },
            "participations": participations[pk],
            "parties": [
                {
                    "ordinal": p.ordinal,
                    "name": p.name,
                    "gender": p.gender,
                    "id_number": p.id_number,
                    "birth_date": _d(p.birth_date),
                    "address": p.address,
                    "custody": p.custody,
                    "custody_since": _ts(p.custody_since),
                }
                for p in parties[pk]
            ],
            "events": events[pk],
            "clocks": clocks[pk],
            "instruments": instruments[pk],
        }
        if pk in files:
            package["files"] = files[pk]
        out.append(package)
    return out


def _files(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Volumes and e-evidence per case, with the blobs they name (sha256, size, media type)."""
    volumes = list(
        Volume.objects.filter(case_id__in=ids)
        .order_by("case_id", "pk")
        .values("pk", "case_id", "title", "source__sha256", "source_name", "page_count", "uploaded_at")
    )
    evidence = list(
        Evidence.objects.filter(case_id__in=ids)
        .order_by("case_id", "pk")
        .values("case_id", "title", "blob__sha256", "source_name", "uploaded_at")
    )
    if not volumes and not evidence:
        return {}
    pages = _pages([v["pk"] for v in volumes])
    out: dict[int, dict[str, Any]] = {}
    for v in volumes:
        entry = out.setdefault(v["case_id"], {"volumes": [], "evidence": [], "blobs": []})
        entry["volumes"].append(
            {
                "title": v["title"],
                "source": v["source__sha256"],
                "source_name": v["source_name"],
                "page_count": v["page_count"],
                "uploaded_at": _ts(v["uploaded_at"]),
                "pages": pages.get(v["pk"], []),
            }
        )
    for e in evidence:
        entry = out.setdefault(e["case_id"], {"volumes": [], "evidence": [], "blobs": []})
        entry["evidence"].append(
            {
                "title": e["title"],
                "blob": e["blob__sha256"],
                "source_name": e["source_name"],
                "uploaded_at": _ts(e["uploaded_at"]),
            }
        )
    hashes = {
        h
        for entry in out.values()
        for h in [
            *(v["source"] for v in entry["volumes"]),
            *(p for v in entry["volumes"] for p in v["pages"]),
            *(e["blob"] for e in entry["evidence"]),
        ]
    }
    blobs = {
        sha: {"sha256": sha, "size": size, "media_type": ctype}
        for sha, size, ctype in Blob.objects.filter(sha256__in=hashes).values_list(
            "sha256", "size", "content_type"
        )
    }
    for entry in out.values():
        named = [
            *(v["source"] for v in entry["volumes"]),
            *(p for v in entry["volumes"] for p in v["pages"]),
            *(e["blob"] for e in entry["evidence"]),
        ]
        entry["blobs"] = [blobs[h] for h in dict.fromkeys(named) if h in blobs]
    return out


def _pages(volume_ids: list[int]) -> dict[int, list[str]]:
    """The page images of each volume by SHA-256, in page order."""
    if not volume_ids:
        return {}
    from xietong.dossier.models import Page

    out: dict[int, list[str]] = defaultdict(list)
    for volume_id, sha in (
        Page.objects.filter(volume_id__in=volume_ids, image__isnull=False)
        .order_by("volume_id", "number")
        .values_list("volume_id", "image__sha256")
    ):
        out[volume_id].append(sha)
    return out
