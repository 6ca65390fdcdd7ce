"""Search results stay within the user's cases, whichever way the database finds them.

PostgreSQL keeps to the user's cases in three ways (his case lexemes in the tsquery, his case ids
listed in the SQL, the case subquery for a user who sees many) and the last two in two steps (walk
the newest pages; else a GIN bitmap scan): ``path`` runs every test through each. SQLite has one
path, run as many times."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import City, register_case
from xietong.cases.models import Case
from xietong.cases.selectors import case_list_visible_to
from xietong.dossier import search
from xietong.dossier.models import Blob, Page, PageIndex, Volume

# LEXEME_CASES, LISTED_CASES, RECENT_PAGES and MAX_WALK for each path.
PATHS = {
    "lexemes": (1000, 1000, 10_000, 100_000),
    "listed, newest pages": (0, 1000, 10_000, 100_000),
    "listed, GIN": (0, 1000, 1, 1),
    "subquery, newest pages": (0, 0, 10_000, 100_000),
    "subquery, GIN": (0, 0, 1, 1),
}


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in zip(
        ("LEXEME_CASES", "LISTED_CASES", "RECENT_PAGES", "MAX_WALK"), PATHS[request.param], strict=True
    ):
        monkeypatch.setattr(search, name, value)
    return str(request.param)


def _pages(city: City, case_id: int, texts: list[str]) -> list[int]:
    """One volume of ``texts`` in ``case_id``, indexed as OCR would; page ids in the order given."""
    blob, _ = Blob.objects.get_or_create(
        sha256="0" * 64, defaults={"size": 1, "content_type": "image/jpeg", "created_at": timezone.now()}
    )
    volume = Volume.objects.create(
        case_id=case_id,
        number=Volume.objects.filter(case_id=case_id).count() + 1,
        title="卷",
        source=blob,
        source_name="a.pdf",
        page_count=len(texts),
        uploaded_by=city.u("gusu.police"),
        uploaded_at=timezone.now(),
    )
    ids = []
    for number, text in enumerate(texts, start=1):
        page = Page.objects.create(
            volume=volume, number=number, image=blob, thumb=blob, width=1, height=1, text=text
        )
        search.index_page(page_id=page.pk, case_id=case_id, text=text)
        ids.append(page.pk)
    return ids


PAYMENT = "被害人通过支付宝转账人民币三千元。"
OTHER = "犯罪嫌疑人李某冒充客服实施诈骗。"


def test_only_the_users_cases_are_searched(city: City, path: str) -> None:
    mine = register_case(city, "gusu")
    theirs = register_case(city, "wuzhong")
    my_hits = _pages(city, mine, [PAYMENT, OTHER, PAYMENT])
    their_hits = _pages(city, theirs, [PAYMENT, PAYMENT])
    gusu = case_list_visible_to(user=city.u("gusu.police"))
    assert set(gusu.values_list("pk", flat=True)) == {mine}

    hits = search.search_pages(cases=gusu, query="支付宝 转账")
    assert sorted(h.page_id for h in hits) == [my_hits[0], my_hits[2]]
    assert {h.case_id for h in hits} == {mine}

    everyone = case_list_visible_to(user=city.u("committee"))
    hits = search.search_pages(cases=everyone, query="支付宝 转账")
    assert sorted(h.page_id for h in hits) == sorted([my_hits[0], my_hits[2], *their_hits])
    assert search.search_pages(cases=everyone, query="冒充客服")[0].page_id == my_hits[1]


def test_no_visible_case_no_hit(city: City, path: str) -> None:
    _pages(city, register_case(city, "gusu"), [PAYMENT])
    assert search.search_pages(cases=Case.objects.none(), query="支付宝") == []


def test_pages_that_name_another_case_do_not_open_it(city: City, path: str) -> None:
    """Text that spells a case lexeme (as OCR might) neither matches it nor reaches another case."""
    mine = register_case(city, "gusu")
    theirs = register_case(city, "wuzhong")
    _pages(city, mine, [PAYMENT])
    forged = _pages(city, theirs, [f"{PAYMENT} case {mine} xtcase{mine} 'case {mine}'"])
    gusu = Case.objects.filter(pk=mine)
    assert search.search_pages(cases=gusu, query=f"case {mine}") == []
    assert forged[0] not in {h.page_id for h in search.search_pages(cases=gusu, query="支付宝")}


def test_ranked_among_the_newest_candidates_only(
    city: City, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The oldest page is the best match, but only the ``CANDIDATES`` newest matches are ranked."""
    monkeypatch.setattr(search, "CANDIDATES", 2)
    case = register_case(city, "gusu")
    oldest, older, newer, newest = _pages(
        city, case, ["支付宝 " * 20, f"支付宝 {OTHER}", "支付宝 支付宝", f"支付宝 {OTHER * 3}"]
    )
    cases = Case.objects.filter(pk=case)
    assert [h.page_id for h in search.search_pages(cases=cases, query="支付宝", limit=1)] == [newer]
    # Asking for more pages than the candidates widens them: offset + limit pages are reachable.
    ranked = search.search_pages(cases=cases, query="支付宝", limit=4)
    assert ranked[0].page_id == oldest
    assert {h.page_id for h in ranked} == {oldest, older, newer, newest}
    assert [h.page_id for h in search.search_pages(cases=cases, query="支付宝", limit=2, offset=2)] == [
        h.page_id for h in ranked[2:]
    ]


@pytest.mark.parametrize(
    "query",
    [
        "a & b | !c ' :*",
        "'",
        "''",
        "&",
        "|",
        "!",
        "<->",
        "a <-> b",
        ":*",
        "\\",
        "(",
        ")",
        "支付宝 & | !转账",
        "'支付宝' | '转账'",
        "case 1",
        "'case 1'",
        "%s",
        "%(x)s",
        "\x00",
        "支付\x00宝",
        "\u3000",
        "🙂",
        "a" * 500,
        "a" * 3000,
    ],
)
def test_hostile_queries_are_only_words(city: City, path: str, query: str) -> None:
    case = register_case(city, "gusu")
    _pages(city, case, [PAYMENT])
    hits = search.search_pages(cases=Case.objects.filter(pk=case), query=query)
    assert all(h.case_id == case for h in hits)


def test_operators_in_a_query_are_not_operators(city: City, path: str) -> None:
    case = register_case(city, "gusu")
    (page,) = _pages(city, case, [PAYMENT])
    cases = Case.objects.filter(pk=case)
    assert [h.page_id for h in search.search_pages(cases=cases, query="支付宝 & | !转账")] == [page]
    # "!" is not NOT and "|" is not OR: every word must be on the page.
    assert search.search_pages(cases=cases, query="支付宝 | !微信") == []


@pytest.mark.postgres_only
def test_each_page_carries_its_case_lexeme(city: City) -> None:
    case = register_case(city, "gusu")
    (page,) = _pages(city, case, [PAYMENT])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsv @@ %s::tsquery, tsv @@ %s::tsquery FROM dossier_pageindex WHERE page_id = %s",
            [f"'case {case}'", f"'case {case + 1}'", page],
        )
        assert cursor.fetchone() == (True, False)
    PageIndex.objects.filter(page_id=page).update(case_id=register_case(city, "wuzhong"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsv @@ %s::tsquery FROM dossier_pageindex WHERE page_id = %s", [f"'case {case}'", page]
        )
        assert cursor.fetchone() == (False,)


@pytest.mark.postgres_only
def test_the_gin_step_leaves_the_planner_settings_as_it_found_them(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "LEXEME_CASES", 0)
    monkeypatch.setattr(search, "RECENT_PAGES", 1)
    monkeypatch.setattr(search, "MAX_WALK", 1)
    case = register_case(city, "gusu")
    _pages(city, case, [PAYMENT, PAYMENT])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        assert search.search_pages(cases=Case.objects.filter(pk=case), query="支付宝")
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
            "current_setting('cpu_tuple_cost')"
        )
        assert cursor.fetchone() == ("off", "on", "0.01")
