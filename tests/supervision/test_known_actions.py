"""Every ledger action the code writes is one the rules engine knows, so a rule may read it and a rule
that names anything else is refused (``rules.base.KNOWN_ACTIONS``)."""

from __future__ import annotations

import re
from pathlib import Path

from xietong.supervision.rules.base import KNOWN_ACTIONS

SRC = Path(__file__).resolve().parents[2] / "src" / "xietong"
CALL = re.compile(r"(ledger_append|_case_entry|ledger_entry)\(")
LITERAL = re.compile(r"""\baction=["']([a-z_:]+)["']""")
VIA = re.compile(r"""\bledger_action=["']([a-z_:]+)["']|^[A-Z_]*ACTION\s*=\s*["']([a-z_:]+)["']""")


def written_actions() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if "bench" in path.parts or "migrations" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            for match in VIA.finditer(line):
                found[match.group(1) or match.group(2)] = f"{path.name}:{i + 1}"
            if CALL.search(line) and not line.lstrip().startswith("def "):
                for follow in lines[i : i + 8]:
                    if match := LITERAL.search(follow):
                        found[match.group(1)] = f"{path.name}:{i + 1}"
                        break
    return found


def test_every_action_written_to_the_ledger_is_known() -> None:
    written = written_actions()
    assert len(written) > 20  # the scan itself works
    unknown = {a: where for a, where in written.items() if a not in KNOWN_ACTIONS}
    assert unknown == {}
