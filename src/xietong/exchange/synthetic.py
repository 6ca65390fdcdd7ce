"""Synthetic standard data packages with valid chains, as another system would send them: for the
import tests and for measuring the import rate (``docs/exchange.md``; later ``xietong bench
exchange``). Pure: the caller names the units and towns by code."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from xietong.exchange.package import FORMAT, VERSION
from xietong.ledger.chain import GENESIS, canonical_payload, entry_hash, timestamp_text

ACTS = (
    ("register", "立案", "police", "investigation"),
    ("detain", "拘留", "police", None),
    ("request_arrest", "提请批准逮捕", "police", "arrest_review"),
    ("approve_arrest", "批准逮捕", "procuratorate", "investigation"),
    ("transfer_for_prosecution", "移送审查起诉", "police", "prosecution_review"),
    ("indict", "提起公诉", "procuratorate", "first_instance"),
    ("pronounce", "宣判", "court", "appeal_period"),
    ("judgment_effective", "判决生效", "court", "effective"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


@dataclass(frozen=True)
class Place:
    """Codes of one county's units and a town there."""

    town: str
    police: str
    procuratorate: str
    court: str


def packages(
    places: Sequence[Place], count: int, *, system: str = "旧办案系统", seed: int = 7, start_id: int = 1
) -> Iterator[dict[str, Any]]:
    """``count`` concluded cases (立案 … 判决生效, eight ledger entries, one or two suspects)."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    base = datetime(2021, 1, 1, tzinfo=UTC)
    for n in range(count):
        place = places[n % len(places)]
        case_id = start_id + n
        unit_of = {
            "police": (1000 + n % 7, place.police),
            "procuratorate": (2000 + n % 5, place.procuratorate),
            "court": (3000 + n % 3, place.court),
        }
        at = base + timedelta(minutes=37 * n)
        occurred = at - timedelta(days=3)
        number = f"OLD{case_id:010d}"
        events: list[dict[str, Any]] = []
        prev = GENESIS
        for seq, (action, label, agency, stage_to) in enumerate(ACTS, start=1):
            at += timedelta(days=rng.uniform(1, 20), seconds=rng.randrange(3600))
            uid, code = unit_of[agency]
            payload_obj: dict[str, Any] = {"label": label}
            if stage_to:
                payload_obj["stage_to"] = stage_to
            if action == "pronounce":
                payload_obj["verdict"] = {"guilty": True, "penalty": "fixed_term", "months": 6 + n % 30}
            payload = canonical_payload(payload_obj)
            recorded = timestamp_text(at)
            actor: dict[str, Any] = {"id": uid * 10 + 1, "name": f"承办人{uid}", "duty": "承办人"}
            unit: dict[str, Any] = {"id": uid, "code": code, "name": f"单位{uid}"}
            digest = entry_hash(
                case_id=case_id,
                seq=seq,
                recorded_at=recorded,
                actor_id=actor["id"],
                actor_name=actor["name"],
                actor_duty=actor["duty"],
                unit_id=unit["id"],
                unit_name=unit["name"],
                action=action,
                payload=payload,
                prev_hash=prev,
            )
            events.append(
                {
                    "seq": seq,
                    "action": action,
                    "recorded_at": recorded,
                    "actor": actor,
                    "unit": unit,
                    "payload": payload,
                    "prev_hash": prev,
                    "entry_hash": digest,
                }
            )
            prev = digest
        suspects = 1 + (n % 4 == 0)
        parties = [
            {
                "ordinal": i,
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "gender": rng.choice("男女"),
                "id_number": "",
                "birth_date": f"{rng.randint(1960, 2003)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "address": "",
                "custody": "arrested",
                "custody_since": events[3]["recorded_at"],
            }
            for i in range(1, suspects + 1)
        ]
        yield {
            "format": FORMAT,
            "version": VERSION,
            "source": {"system": system, "case_id": case_id},
            "case": {
                "number": number,
                "title": f"{parties[0]['name']}盗窃案",
                "charge": "盗窃罪",
                "facts": "犯罪嫌疑人于某日在某小区盗窃电动自行车一辆，价值人民币三千元。",
                "occurred_at": occurred.isoformat(),
                "place": "某小区",
                "town": place.town,
                "stage": "effective",
                "holder_unit": place.court,
                "police_unit": place.police,
                "procuratorate_unit": place.procuratorate,
                "court_unit": place.court,
                "execution_unit": None,
                "plea": n % 3 == 0,
                "fast_track": False,
                "trial_procedure": "summary",
                "supplementary_count": 0,
                "remand_count": 0,
                "verdict": {"guilty": True, "penalty": "fixed_term", "months": 6 + n % 30},
                "version": len(ACTS) + 1,
                "created_at": events[0]["recorded_at"],
                "updated_at": events[-1]["recorded_at"],
            },
            "participations": [
                {"unit": code, "since": events[0]["recorded_at"]} for _, code in unit_of.values()
            ],
            "parties": parties,
            "events": events,
            "clocks": [],
            "instruments": [],
        }
