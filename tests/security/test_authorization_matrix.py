"""The authorisation matrix over every URL of the project (issue 11, item 5).

Every pattern that ``get_resolver()`` knows is requested as (a) an anonymous visitor, (b) a police
officer of another county with no role on the case, (c) the rightful user, with the real ids of one
case that police and procuratorate both work on. A pattern missing from ``MATRIX`` fails the test by
name, so a new endpoint cannot ship without a decision about who may call it.

Kinds:
- ``PUBLIC``: reachable without login, on purpose (the reason is written beside it).
- ``TOKEN``: no login, but nothing is served without a one-time token in the query (courtroom screens).
- ``LOGIN``: any signed-in user; what it shows is scoped by the selectors to the user himself, so the
  other-county user may read it, but an anonymous visitor may not.
- ``SCOPED``: names one object of the case; the other-county user gets neither a 200 nor a change.
- ``ADMIN``: the Django admin, staff only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.board.factories import add_volume, board_case, open_thread, png_bytes
from tests.factories import City
from tests.quality.factories import campaign as quality_campaign
from xietong.cases.models import Case, Transfer
from xietong.dossier.blobs import blob_put_bytes
from xietong.dossier.models import Page
from xietong.dossier.services import upload_start
from xietong.instruments.models import Instrument
from xietong.quality import services as quality_services
from xietong.quality.models import CampaignCase
from xietong.review import services as report_services
from xietong.supervision.services import alert_raise

PUBLIC, TOKEN, LOGIN, SCOPED, ADMIN = "public", "token", "login", "scoped", "admin"
WRITES = ("post", "put", "patch", "delete")

# Public on purpose. name → why.
ALLOW_PUBLIC: dict[str, str] = {
    "api:token": "the password → token exchange itself (rate limited, axes lock-out)",
    "api:oauth-token": "OAuth2 client-credentials exchange of agency systems (docs/clients.md)",
    "api:deadline-compute": "the statutory deadline calculator, pure law arithmetic, no case data",
    "api:deadline-rules": "the table of deadline rules, public law",
    "api:verify": "anyone served an instrument may check its seal and hash (F5 /verify)",
    "api:tree-head": "the signed ledger tree head is published so that anyone can audit it",
    "api:consistency-proof": "proofs between two published tree heads carry no case data",
    "schema": "the OpenAPI description of the interface, for agency integrators; no data",
    "api-docs": "Swagger UI over the schema, assets served locally; no data",
    "instruments:verify": "the public /verify page printed as a QR code on served instruments",
    "instruments:verify-token": "the verification result a QR code points to (unguessable token)",
    "instruments:verify-proof": "the inclusion proof behind that token (unguessable token)",
    "instruments:ca": "the platform CA certificate, needed to check a seal offline",
    "web:login": "the login page",
    "web:healthz": "the load balancer's health probe: database reachable, nothing else",
    "web:deadlines": "the deadline calculator page over the public API above",
    "admin:login": "the admin's own login form (the admin itself is staff only)",
    "admin:logout": "logging out needs no login",
    "courtroom:screen": "an empty screen shell; it pairs with a one-time code over the WebSocket",
}
TOKEN_ONLY = {"courtroom:image", "courtroom:media"}
# Signed-in, not tied to one object of another unit: lists, searches, forms, the user's own things.
LOGIN_ONLY = {
    "api:me",
    "api:case-list",
    "api:inbox",
    "api:library-similar",
    "api:analytics-figures",
    "api:analytics-warnings",
    "api:library-records",
    "api:library-record",  # the library's published (de-identified) records are for every user
    "api:supervisee-list",
    "api:approval-list",
    "api:workbench",
    "api:instrument-catalogue",
    "api:inclusion-proof",  # by entry hash; a hash names no case a user does not already hold
    "dossier-api:search",
    "board-api:threads",
    "feeds-api:events",
    "feeds-api:subscription-list",
    "feeds-api:dead-letter-list",
    "dossier:search",
    "instruments:register",
    "supervision:alerts",
    "supervision:alert-count",
    "supervision:oversight",
    "execution:board",
    "execution:custody-check",
    "execution:custody-check-run",
    "library:search",
    "library:record",
    "library:record-edit",
    "library:similar",
    "library:consistency",
    "library:collect",
    "analytics:dashboard",
    "analytics:cases",
    "analytics:reports",
    "analytics:query",
    "analytics:correlation",
    "analytics:warnings",
    "analytics:annual",
    "quality:index",
    "quality:campaign-new",
    "board:inbox",
    "web:workbench",
    "web:logout",
    "web:case-list",
    "web:case-new",
    "security:two-factor",  # the user's own authenticator
}


@dataclass
class Fixture:
    """Real ids of one case the gusu police filed and the gusu procuratorate accepted."""

    city: City
    ids: dict[str, Any]
    real: set[str]  # the parameters that name an existing object (the rest are placeholders)


def _fixture(city: City) -> Fixture:
    bc = board_case(city)
    case = Case.objects.get(pk=bc.case_id)
    volume, pages = add_volume(case.pk, city.u("gusu.procu"))
    image = blob_put_bytes(png_bytes(), content_type="image/png")
    Page.objects.filter(volume=volume).update(image=image, thumb=image)
    thread = open_thread(bc)
    instrument = Instrument.objects.filter(case=case).order_by("pk").first()
    transfer = Transfer.objects.filter(case=case).order_by("pk").first()
    assert instrument is not None and transfer is not None
    ids: dict[str, Any] = {
        "case_id": case.pk,
        "volume_id": volume.pk,
        "page_id": pages[0].pk,
        "thread_id": thread.pk,
        "instrument_id": instrument.pk,
        "transfer_id": transfer.pk,
        "party_id": case.parties.order_by("pk").first().pk,  # type: ignore[union-attr]
    }
    real = set(ids)
    # Objects of the same case that belong to the procuratorate or to supervision: the other-county
    # user must be refused them too; the police leader's own access to them is not asserted here.
    ids["report_id"] = report_services.report_create(
        user=city.u("gusu.procu"), case_id=case.pk, kind="arrest_review"
    ).pk
    ids["alert_id"] = alert_raise(
        kind="backdate", message="矩阵测试", case_id=case.pk, unit_id=city.counties["gusu"].police.pk
    ).pk
    # A 评查 campaign over the 姑苏 police with a reviewer from 吴中 — but not the "other" user.
    drawn = quality_campaign(city, counties=("gusu",), reviewers=("wuzhong.police_leader",))
    quality_services.campaign_draw(user=city.u("city_police_leader"), campaign_id=drawn.pk)
    review = CampaignCase.objects.get(campaign=drawn, case_id=case.pk)
    quality_services.review_assign(
        user=city.u("city_police_leader"), review_id=review.pk, reviewer_id=city.u("wuzhong.police_leader").pk
    )
    ids["campaign_id"], ids["review_id"] = drawn.pk, review.pk
    ids["upload_id"] = upload_start(
        user=city.u("gusu.procu"), case_id=case.pk, filename="卷二.pdf", size=1000
    ).pk
    # Placeholders: objects this fixture does not build. A refusal there proves less (the object
    # may simply not exist); the rightful user's 404 is then expected, not a failure.
    ids.update(
        {
            "action": "arrest",
            "step": "submit",
            "decision": "accept",
            "number": 1,
            "token": "no-such-token",
        }
    )
    return Fixture(city, ids, real)


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> list[tuple[str, URLPattern, str]]:
    rows: list[tuple[str, URLPattern, str]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            rows += _walk(p.url_patterns, prefix + str(p.pattern), inner)
        else:
            name = f"{ns}:{p.name}" if ns else (p.name or "")
            rows.append((name or f"<unnamed {prefix}{p.pattern}>", p, prefix + str(p.pattern)))
    return rows


def all_patterns() -> list[tuple[str, str]]:
    """Every (name, route) of the project, admin included."""
    return [(name, route) for name, _, route in _walk(get_resolver().url_patterns)]


def kind_of(name: str, route: str) -> str | None:
    if name in ALLOW_PUBLIC:
        return PUBLIC
    if route.startswith("admin/"):
        return ADMIN
    if name in TOKEN_ONLY:
        return TOKEN
    if name in LOGIN_ONLY:
        return LOGIN
    if "<" in route:
        # Any other pattern that names an object is scoped to it: the strictest reading.
        return SCOPED
    return None


def _fill(route: str, ids: dict[str, Any]) -> tuple[str, set[str]] | None:
    """The route with real ids put in; ``None`` for a pattern this matrix cannot fill (regex)."""
    import re

    used: set[str] = set()

    def put(m: re.Match[str]) -> str:
        name = m.group(2)
        used.add(name)
        if name in ids:
            return str(ids[name])
        return "1"  # a placeholder id: an object of a kind the fixture does not build

    if "(?P<" in route or "^" in route:
        return None
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", put, route), used


def _fingerprint() -> dict[str, int]:
    """Row counts of every table of the platform's apps, and the case heads: a refused write leaves
    them as they were."""
    counts: dict[str, int] = {}
    for model in apps.get_models():
        label = model._meta.app_label
        if not model.__module__.startswith("xietong.") or model._meta.proxy:
            continue
        if label in {"axes"}:
            continue
        counts[model._meta.label] = model.objects.count()
    for case in Case.objects.values("pk", "ledger_seq", "version", "stage"):
        counts[f"case{case['pk']}"] = hash((case["ledger_seq"], case["version"], case["stage"]))
    return counts


def _refused_anonymous(status: int, location: str, route: str) -> bool:
    if status in {401, 403, 404, 405}:
        return True
    return status == 302 and ("/login/" in location or "/admin/login/" in location)


def _ok_refusal(status: int) -> bool:
    """A refusal of the other-unit user: forbidden, not found, a method the pattern lacks, or a
    body refused before it was read (415; the write-unchanged check still runs)."""
    return status in {400, 403, 404, 405, 409, 415, 422}


@pytest.fixture(autouse=True)
def _blobs(tmp_path: Path, settings: Any) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"
    settings.XIETONG_API_RATES = {}  # hundreds of anonymous calls: the rate limits have their own test


@pytest.mark.django_db
def test_every_url_is_in_the_matrix_and_refuses_whom_it_must(city: City) -> None:
    started = time.monotonic()
    fx = _fixture(city)
    anonymous = Client()
    other = Client()
    other.force_login(city.u("wuzhong.police"))
    rightful = Client()
    rightful.force_login(city.u("gusu.police_leader"))

    unclassified: list[str] = []
    failures: list[str] = []
    checked = 0
    with_objects = 0  # scoped patterns whose ids all name objects that exist
    for name, route in all_patterns():
        kind = kind_of(name, route)
        if kind is None:
            unclassified.append(f"{name} ({route})")
            continue
        filled = _fill(route, fx.ids)
        if filled is None:
            if kind == ADMIN:
                continue  # admin regex routes: the admin's own staff check covers them (below)
            unclassified.append(f"{name} ({route}): pattern the matrix cannot fill")
            continue
        url, used = filled
        checked += 1
        real = bool(used) and used <= fx.real | {"action", "step", "decision", "number"}
        existing = bool(used) and all(p in fx.ids for p in used) and kind == SCOPED
        with_objects += existing

        # (a) anonymous: never a 200 with data, never a 500.
        for method in ("get", *WRITES):
            response = getattr(anonymous, method)(url)
            status = response.status_code
            if status >= 500:
                failures.append(f"anonymous {method.upper()} {name} {url}: {status}")
            elif kind in {LOGIN, SCOPED, ADMIN, TOKEN} and not _refused_anonymous(
                status, response.get("Location", ""), route
            ):
                failures.append(f"anonymous {method.upper()} {name} {url}: {status}, not refused")

        # (b) the other county's police officer.
        if kind == ADMIN:
            response = other.get(url)
            if response.status_code not in {302, 403, 404}:
                failures.append(f"non-staff GET {name} {url}: {response.status_code}")
            continue
        response = other.get(url)
        if response.status_code >= 500:
            failures.append(f"other-unit GET {name} {url}: {response.status_code}")
        if kind == SCOPED and not _ok_refusal(response.status_code):
            failures.append(f"other-unit GET {name} {url}: {response.status_code}, not refused")
        if kind == SCOPED:
            for method in WRITES:
                before = _fingerprint()
                response = getattr(other, method)(url, data={}, content_type="application/json")
                after = _fingerprint()
                if response.status_code >= 500 or not _ok_refusal(response.status_code):
                    failures.append(f"other-unit {method.upper()} {name} {url}: {response.status_code}")
                if before != after:
                    changed = sorted(k for k in after if before.get(k) != after[k])
                    failures.append(f"other-unit {method.upper()} {name} {url} changed {changed}")

        # (c) the rightful user reads what he is entitled to (no 5xx; a real object is not refused).
        response = rightful.get(url)
        if response.status_code >= 500:
            failures.append(f"rightful GET {name} {url}: {response.status_code}")
        if kind == SCOPED and real and response.status_code in {401, 403, 404}:
            failures.append(f"rightful GET {name} {url}: {response.status_code}, refused")

    assert not unclassified, "URL patterns missing from the authorisation matrix:\n" + "\n".join(unclassified)
    assert not failures, "\n".join(failures)
    assert checked > 150
    # Guards the fixture: the refusals above are shown on real objects, not on missing ones.
    assert with_objects >= 65, with_objects
    assert time.monotonic() - started < 120


def test_the_allow_list_names_only_patterns_that_exist() -> None:
    names = {name for name, _ in all_patterns()}
    stale = (set(ALLOW_PUBLIC) | TOKEN_ONLY | LOGIN_ONLY) - names
    assert not stale, f"matrix entries for patterns that no longer exist: {sorted(stale)}"
