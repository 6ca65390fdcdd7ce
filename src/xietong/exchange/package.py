"""The standard data package (标准数据包), version 1: one criminal case as one JSON object, so that a
case can move between this platform and another system and historic cases can be migrated in bulk.

Pure (no Django): the schema (``schema/case-package-v1.json``, JSON Schema draft 2020-12), reading
package files, and every check a package must pass before it is written — the schema, references by
code (区划代码, 单位代码) against maps the caller passes in, and the case's hash chain recomputed
from the events with ``ledger.chain``. Each problem has a stable code and a Chinese message.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from xietong.ledger.chain import GENESIS, entry_hash

FORMAT = "xietong.case-package"
VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("schema") / "case-package-v1.json"
SUFFIXES = (".jsonl", ".jsonl.gz")
MAX_SCHEMA_ERRORS = 5  # per package: the first few say enough


@dataclass(frozen=True)
class Problem:
    """Why a package is refused: ``code`` is stable (for programs), ``message`` is for people."""

    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# The stable codes, with what they mean (docs/exchange.md lists them too).
CODES: dict[str, str] = {
    "json_invalid": "不是合法的 JSON",
    "schema_invalid": "不符合数据包格式",
    "region_unknown": "未知的区划代码",
    "unit_unknown": "未知的单位代码",
    "stage_unknown": "未知的办案阶段",
    "party_unknown": "期限所属的当事人序号不存在",
    "chain_sequence": "留痕序号不连续",
    "chain_link": "留痕的前一哈希与上一条不符",
    "chain_hash": "留痕哈希与内容不符（内容被改动）",
    "number_conflict": "案件编号已被另一来源的案件使用",
    "value_invalid": "数据值无效（如不存在的日期）",
    "write_failed": "数据库拒绝写入",
    # Files and instruments (--files): the first refuses the package, the other two are notes on a
    # case that was imported all the same.
    "file_hash_mismatch": "文件内容与其 SHA-256 不符，该案未导入",
    "file_missing": "文件不在 --files 目录中，也不在本平台存储中，该案已导入但缺此文件",
    "instrument_number_taken": "文书文号已被本平台的文书使用，该文书已导入但不带文号",
}


def problem(code: str, detail: str = "") -> Problem:
    base = CODES[code]
    return Problem(code, f"{base}：{detail}" if detail else base)


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> Any:
    import jsonschema

    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema())
    return cls(schema())


Check = Callable[[Any], bool]
_SUPPORTED = frozenset(
    {
        "$schema", "$id", "$ref", "$defs", "title", "description", "type", "const", "required",
        "additionalProperties", "properties", "items", "minLength", "maxLength", "minimum", "maximum",
        "pattern", "oneOf",
    }
)  # fmt: skip
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    # JSON Schema: an integer is any number with a zero fractional part, and never a boolean
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


class _Compiler:
    """Turns the schema into nested closures that answer valid/invalid, about fifty times faster
    than ``jsonschema``'s general validator, which dominated the import's time (≈ 10 ms a package).
    Only the keywords the schema uses are supported; any other makes ``compile`` fail, so an edit
    of the schema cannot silently loosen the check. ``jsonschema`` stays the reference: it explains
    every package this check refuses, and the tests hold the two to the same verdicts."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        if pointer not in self.refs:
            self.refs[pointer] = lambda v: self.refs[pointer](v)  # placeholder while compiling
            node: Any = self.root
            for part in pointer.removeprefix("#/").split("/"):
                node = node[part]
            self.refs[pointer] = self.compile(node)
        return self.refs[pointer]

    def compile(self, node: dict[str, Any]) -> Check:
        unknown = node.keys() - _SUPPORTED
        if unknown:
            raise ValueError(f"schema keyword not supported by the fast check: {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in node:
            checks.append(self.ref(node["$ref"]))
        if "type" in node:
            names = node["type"] if isinstance(node["type"], list) else [node["type"]]
            tests = [_TYPES[n] for n in names]
            checks.append(lambda v: any(t(v) for t in tests))
        if "const" in node:
            const = node["const"]
            checks.append(lambda v: v == const and isinstance(v, bool) == isinstance(const, bool))
        if "minLength" in node or "maxLength" in node:
            low, high = node.get("minLength", 0), node.get("maxLength", float("inf"))
            checks.append(lambda v: not isinstance(v, str) or low <= len(v) <= high)
        if "minimum" in node or "maximum" in node:
            least, most = node.get("minimum", float("-inf")), node.get("maximum", float("inf"))
            number = _TYPES["integer"]
            checks.append(lambda v: not (number(v) or isinstance(v, float)) or least <= v <= most)
        if "pattern" in node:
            search = re.compile(node["pattern"]).search
            checks.append(lambda v: not isinstance(v, str) or search(v) is not None)
        if "oneOf" in node:
            options = [self.compile(o) for o in node["oneOf"]]
            checks.append(lambda v: sum(1 for o in options if o(v)) == 1)
        if "required" in node:
            required = tuple(node["required"])
            checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in required))
        if "properties" in node or "additionalProperties" in node:
            props = {k: self.compile(sub) for k, sub in node.get("properties", {}).items()}
            closed = node.get("additionalProperties", True) is False

            def properties(v: Any) -> bool:
                if not isinstance(v, dict):
                    return True
                for key, value in v.items():
                    check = props.get(key)
                    if check is None:
                        if closed:
                            return False
                    elif not check(value):
                        return False
                return True

            checks.append(properties)
        if "items" in node:
            item = self.compile(node["items"])
            checks.append(lambda v: not isinstance(v, list) or all(map(item, v)))
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)


@cache
def fast_check() -> Check:
    """The schema as a fast yes/no function (``_Compiler``)."""
    return _Compiler(schema()).compile(schema())


def schema_problems(package: Any) -> list[Problem]:
    """The package against the JSON Schema (the first ``MAX_SCHEMA_ERRORS`` errors)."""
    if fast_check()(package):
        return []
    found: list[Problem] = []
    for error in _validator().iter_errors(package):
        where = "/".join(str(p) for p in error.absolute_path) or "（根）"
        found.append(problem("schema_invalid", f"{where}: {error.message}"))
        if len(found) >= MAX_SCHEMA_ERRORS:
            break
    return found


def chain_problems(package: Mapping[str, Any]) -> list[Problem]:
    """Recompute the sender's chain: seq 1, 2, …; each ``prev_hash`` the previous ``entry_hash``
    (the first the genesis hash); each ``entry_hash`` the hash of the entry's canonical form with
    the sender's ids (``source.case_id``, ``actor.id``, ``unit.id``). Stops at the first break."""
    case_id = int(package["source"]["case_id"])
    prev = GENESIS
    for expected, event in enumerate(package["events"], start=1):
        seq = event["seq"]
        if seq != expected:
            return [problem("chain_sequence", f"第{expected}条的序号是 {seq}")]
        if event["prev_hash"] != prev:
            return [problem("chain_link", f"第{seq}条（{event['action']}）")]
        recomputed = entry_hash(
            case_id=case_id,
            seq=seq,
            recorded_at=event["recorded_at"],
            actor_id=event["actor"]["id"],
            actor_name=event["actor"]["name"],
            actor_duty=event["actor"]["duty"],
            unit_id=event["unit"]["id"],
            unit_name=event["unit"]["name"],
            action=event["action"],
            payload=event["payload"],
            prev_hash=prev,
        )
        if recomputed != event["entry_hash"]:
            return [problem("chain_hash", f"第{seq}条（{event['action']}）")]
        prev = event["entry_hash"]
    return []


def unit_codes(package: Mapping[str, Any]) -> set[str]:
    """Every 单位代码 the package names."""
    case = package["case"]
    codes = {case["holder_unit"], case["police_unit"]}
    codes.update(case.get(k) for k in ("procuratorate_unit", "court_unit", "execution_unit"))
    codes.update(p["unit"] for p in package["participations"])
    codes.update(e["unit"]["code"] for e in package["events"])
    codes.update(c["unit"] for c in package.get("clocks", ()))
    codes.update(i["unit"] for i in package.get("instruments", ()))
    codes.discard(None)
    return codes


def reference_problems(
    package: Mapping[str, Any], *, units: Mapping[str, Any], towns: Mapping[str, Any], stages: Set[str]
) -> list[Problem]:
    """Codes the receiver must know: the town (区划代码 of a 镇街 it has), every unit (单位代码), the
    stage; and each per-party clock's party ordinal."""
    found: list[Problem] = []
    case = package["case"]
    if case["town"] not in towns:
        found.append(problem("region_unknown", case["town"]))
    for code in sorted(unit_codes(package) - units.keys()):
        found.append(problem("unit_unknown", code))
    if case["stage"] not in stages:
        found.append(problem("stage_unknown", case["stage"]))
    ordinals = {p["ordinal"] for p in package["parties"]}
    for clock in package.get("clocks", ()):
        if clock.get("party") is not None and clock["party"] not in ordinals:
            found.append(problem("party_unknown", f"{clock['rule']} 序号 {clock['party']}"))
    return found


def check(
    package: Any, *, units: Mapping[str, Any], towns: Mapping[str, Any], stages: Set[str]
) -> list[Problem]:
    """Every problem of one parsed package; empty when it may be written."""
    found = schema_problems(package)
    if found:
        return found
    found = reference_problems(package, units=units, towns=towns, stages=stages)
    return found + chain_problems(package)


def parse_line(text: str) -> tuple[Any, list[Problem]]:
    try:
        return json.loads(text), []
    except ValueError as error:
        return None, [problem("json_invalid", str(error))]


def package_files(path: Path) -> list[Path]:
    """``path`` itself, or the package files of a directory (sorted by name, not recursive)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))
    return [path]


def read_lines(path: Path) -> Iterator[str]:
    """The lines of a ``.jsonl`` or ``.jsonl.gz`` file, streamed."""
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as text:
            yield from text
    else:
        with path.open(encoding="utf-8") as plain:
            yield from plain


def dump(package: Mapping[str, Any]) -> str:
    """One package as one line of JSON Lines (UTF-8, no ASCII escapes)."""
    return json.dumps(package, ensure_ascii=False, separators=(",", ":"))


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
