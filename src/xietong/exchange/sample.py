"""A file of synthetic packages for this database's own units and towns, for measuring the import
rate (``docs/exchange.md``)::

    xietong shell -c "from xietong.exchange.sample import sample_file; sample_file('cases.jsonl.gz', 20000)"
"""

from __future__ import annotations

from pathlib import Path

from xietong.exchange import package as pkg
from xietong.exchange.exporter import _open_text
from xietong.exchange.synthetic import Place, packages
from xietong.orgs.models import Region, Unit


def places_here() -> list[Place]:
    """One place per county that has a police branch, a procuratorate and a basic court."""
    found = []
    for county in Region.objects.filter(level="county").order_by("code"):
        units = {u.kind: u.code for u in Unit.objects.filter(region=county)}
        town = Region.objects.filter(parent=county, level="town").order_by("code").first()
        if town and {"police_branch", "procuratorate", "basic_court"} <= units.keys():
            found.append(
                Place(town.code, units["police_branch"], units["procuratorate"], units["basic_court"])
            )
    return found


def sample_file(path: str | Path, count: int, *, start_id: int = 1) -> Path:
    target = Path(path)
    places = places_here()
    if not places:
        raise RuntimeError("no county with police, procuratorate and court: load the orgs first")
    with _open_text(target, gz=target.name.endswith(".gz")) as handle:
        for item in packages(places, count, start_id=start_id):
            handle.write(pkg.dump(item) + "\n")
    return target
