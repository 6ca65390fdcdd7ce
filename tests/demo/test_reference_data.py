"""Reference data and text generators for demo cases: pure Python, no database needed."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from xietong.demo.crimes import (
    CHARGES,
    SOLO_CHARGES,
    Charge,
    charge_by_name,
    generate_facts,
    pick_charge,
    suspect_count,
    template_count,
)
from xietong.demo.people import (
    SURNAMES,
    fictitious_address,
    fictitious_id_number,
    fictitious_name,
    fictitious_phone,
)
from xietong.demo.suzhou import CITY, COUNTIES, County, county_by_code

EXPECTED_COUNTIES = (
    "姑苏区",
    "虎丘区",
    "吴中区",
    "相城区",
    "吴江区",
    "苏州工业园区",
    "常熟市",
    "张家港市",
    "昆山市",
    "太仓市",
)

# Township counts as currently modelled (early-2020s division).
EXPECTED_TOWN_COUNTS = {
    "姑苏区": 8,
    "虎丘区": 6,
    "吴中区": 14,
    "相城区": 11,
    "吴江区": 11,
    "苏州工业园区": 5,
    "常熟市": 14,
    "张家港市": 10,
    "昆山市": 10,
    "太仓市": 8,
}

WHEN = datetime(2024, 3, 5, 22, 10, tzinfo=timezone(timedelta(hours=8)))


def independent_check_digit(first17: str) -> str:
    """GB 11643 check character, written out here rather than imported from the code under test."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    remainder = sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11
    value = (12 - remainder) % 11
    return "X" if value == 10 else str(value)


def county(name: str) -> County:
    return next(c for c in COUNTIES if c.name == name)


# --- geography ------------------------------------------------------------------


def test_ten_counties_in_order_with_unique_codes() -> None:
    assert tuple(c.name for c in COUNTIES) == EXPECTED_COUNTIES
    codes = [c.code for c in COUNTIES]
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"3205\d\d", code) for code in codes)
    assert county("姑苏区").code == "320508"
    assert county("常熟市").code == "320581"
    assert all(re.fullmatch(r"\d{6}", c.police_code) for c in COUNTIES)


def test_county_by_code_round_trips_and_rejects_unknown() -> None:
    for c in COUNTIES:
        assert county_by_code(c.code) is c
    with pytest.raises(KeyError):
        county_by_code("320500")


def test_kinds() -> None:
    assert {c.name for c in COUNTIES if c.kind == "县级市"} == {"常熟市", "张家港市", "昆山市", "太仓市"}
    assert {c.kind for c in COUNTIES} == {"区", "县级市"}


def test_town_counts() -> None:
    for c in COUNTIES:
        assert len(c.towns) >= 5, c.name
        assert len(c.towns) == EXPECTED_TOWN_COUNTS[c.name], c.name
    wujiang = county("吴江区")
    assert sum(t.is_street for t in wujiang.towns) == 4
    assert sum(not t.is_street for t in wujiang.towns) == 7
    sip = {t.name for t in county("苏州工业园区").towns}
    assert {"娄葑街道", "斜塘街道", "唯亭街道", "胜浦街道", "金鸡湖街道"} <= sip
    assert county("吴中区").town("木渎").name == "木渎镇"
    assert county("姑苏区").town("平江街道").short == "平江"


def test_town_names_well_formed_and_unique_citywide() -> None:
    towns = [t for c in COUNTIES for t in c.towns]
    for t in towns:
        assert t.name.endswith(("镇", "街道")), t.name
        assert t.name in (f"{t.short}镇", f"{t.short}街道"), t.name
    assert len({t.name for t in towns}) == len(towns)
    # 派出所/司法所 are named by the short form, so it must not collide across the city.
    assert len({t.short for t in towns}) == len(towns)


def test_unit_names_unique_overall() -> None:
    names = list(CITY.unit_names)
    for c in COUNTIES:
        names.extend(c.unit_names)
        names.extend(f"{c.police}{t.short}派出所" for t in c.towns)
        names.extend(f"{c.justice}{t.short}司法所" for t in c.towns)
    duplicates = [name for name, n in Counter(names).items() if n > 1]
    assert duplicates == []


def test_unit_naming_styles() -> None:
    gusu, changshu, sip, huqiu = county("姑苏区"), county("常熟市"), county("苏州工业园区"), county("虎丘区")
    assert gusu.police == "苏州市公安局姑苏分局"
    assert gusu.procuratorate == "苏州市姑苏区人民检察院"
    assert gusu.court == "苏州市姑苏区人民法院"
    assert gusu.justice == "苏州市姑苏区司法局"
    assert gusu.committee == "中共苏州市姑苏区委政法委员会"
    assert changshu.police == "常熟市公安局"
    assert changshu.procuratorate == "常熟市人民检察院"
    assert changshu.court == "常熟市人民法院"
    assert changshu.justice == "常熟市司法局"
    assert sip.procuratorate == "苏州工业园区人民检察院"
    assert sip.court == "苏州工业园区人民法院"
    assert huqiu.court == "苏州市虎丘区人民法院"
    assert huqiu.procuratorate == "苏州市虎丘区人民检察院"
    assert "高新区" in huqiu.police
    assert CITY.court == "苏州市中级人民法院"
    for c in COUNTIES:
        assert c.corrections.endswith("社区矫正管理局")
        assert c.committee.startswith("中共") and c.committee.endswith("政法委员会")


# --- people ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_id_numbers_validate_and_encode_birth_and_gender(seed: int) -> None:
    rng = random.Random(seed)
    c = rng.choice(COUNTIES)
    birth = date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
    gender = rng.choice(("男", "女"))
    number = fictitious_id_number(rng, area_code=c.code, birth=birth, gender=gender)
    assert re.fullmatch(r"\d{17}[\dX]", number)
    assert number[:6] == c.code
    assert number[6:14] == birth.strftime("%Y%m%d")
    assert int(number[16]) % 2 == (1 if gender == "男" else 0)
    assert number[17] == independent_check_digit(number[:17])


def test_independent_check_digit_matches_a_published_example() -> None:
    # The worked example printed in GB 11643-1999.
    assert independent_check_digit("11010519491231002") == "X"


def test_id_number_rejects_bad_arguments() -> None:
    rng = random.Random(0)
    with pytest.raises(ValueError):
        fictitious_id_number(rng, area_code="3205", birth=date(1990, 1, 1), gender="男")
    with pytest.raises(ValueError):
        fictitious_id_number(rng, area_code="320508", birth=date(1990, 1, 1), gender="M")


def test_names_respect_gender_and_weighting() -> None:
    rng = random.Random(42)
    surnames = sorted((s for s, _ in SURNAMES), key=len, reverse=True)
    counts: Counter[str] = Counter()
    for _ in range(3000):
        name, gender = fictitious_name(rng)
        assert gender in ("男", "女")
        assert 2 <= len(name) <= 4
        surname = next(s for s in surnames if name.startswith(s))
        counts[surname] += 1
    assert {s for s, _ in counts.most_common(5)} & {"王", "李", "张"} == {"王", "李", "张"}
    assert all(fictitious_name(rng, gender="女")[1] == "女" for _ in range(20))
    with pytest.raises(ValueError):
        fictitious_name(rng, gender="x")


def test_addresses_and_phones() -> None:
    rng = random.Random(3)
    for c in COUNTIES:
        for t in c.towns:
            address = fictitious_address(rng, c, t)
            assert address.startswith("江苏省")
            assert f"{c.name}{t.name}" in address
    for _ in range(200):
        assert re.fullmatch(r"1[3-9]\d{9}", fictitious_phone(rng))


# --- charges and facts ----------------------------------------------------------


def test_charge_catalogue_sane() -> None:
    assert len(CHARGES) >= 16
    assert len({c.name for c in CHARGES}) == len(CHARGES)
    for c in CHARGES:
        assert c.name.endswith("罪")
        assert c.article.startswith("刑法第")
        assert c.weight > 0
        low, high = c.sentence_months
        assert 0 < low <= high
        assert 0.0 <= c.probation_rate <= 1.0
        assert 0.0 <= c.fast_track_share <= 1.0
    by_weight = sorted(CHARGES, key=lambda c: c.weight, reverse=True)
    assert {c.name for c in by_weight[:2]} == {"危险驾驶罪", "盗窃罪"}
    assert charge_by_name("抢劫罪").probation_rate < charge_by_name("危险驾驶罪").probation_rate
    assert not charge_by_name("危险驾驶罪").detention_likely
    for required in ("诈骗罪", "帮助信息网络犯罪活动罪", "掩饰、隐瞒犯罪所得罪", "聚众斗殴罪", "组织卖淫罪"):
        charge_by_name(required)


def test_pick_charge_is_weighted() -> None:
    rng = random.Random(11)
    counts = Counter(pick_charge(rng).name for _ in range(5000))
    assert counts["危险驾驶罪"] > counts["抢劫罪"] * 5
    assert counts["盗窃罪"] > counts["组织卖淫罪"] * 5


def test_every_charge_has_distinct_templates() -> None:
    top_five = sorted(CHARGES, key=lambda c: c.weight, reverse=True)[:5]
    for charge in CHARGES:
        n = template_count(charge)
        assert n >= (3 if charge in top_five else 2), charge.name
        town = COUNTIES[2].towns[8]
        texts = {
            generate_facts(
                random.Random(1),
                charge=charge,
                suspects=["张伟"],
                county=COUNTIES[2],
                town=town,
                occurred_at=WHEN,
                variant=v,
            ).facts
            for v in range(n)
        }
        assert len(texts) == n, charge.name


@pytest.mark.parametrize("charge", CHARGES, ids=lambda c: c.name)
def test_facts_mention_town_and_suspects(charge: Charge) -> None:
    rng = random.Random(CHARGES.index(charge))
    for c in COUNTIES:
        town = rng.choice(c.towns)
        suspects = [fictitious_name(rng)[0] for _ in range(rng.randint(1, 3))]
        result = generate_facts(rng, charge=charge, suspects=suspects, county=c, town=town, occurred_at=WHEN)
        assert result.facts.startswith("经依法侦查查明：")
        assert town.name in result.facts
        assert result.place.startswith(f"{c.name}{town.name}")
        assert all(name in result.facts for name in suspects)
        assert 3 <= result.facts.count("。") <= 7, result.facts
        assert result.amount_yuan is None or result.amount_yuan > 0


def test_titles() -> None:
    rng = random.Random(5)
    theft = charge_by_name("盗窃罪")
    c = COUNTIES[0]
    one = generate_facts(rng, charge=theft, suspects=["张伟"], county=c, town=c.towns[0], occurred_at=WHEN)
    assert one.title == "张伟盗窃案"
    fencing = charge_by_name("掩饰、隐瞒犯罪所得罪")
    two = generate_facts(
        rng, charge=fencing, suspects=["张伟", "李强"], county=c, town=c.towns[0], occurred_at=WHEN
    )
    assert two.title == "张伟等2人掩饰、隐瞒犯罪所得案"
    with pytest.raises(ValueError):
        generate_facts(rng, charge=theft, suspects=[], county=c, town=c.towns[0], occurred_at=WHEN)


def test_deterministic_with_fixed_seed() -> None:
    def run(seed: int) -> list[object]:
        rng = random.Random(seed)
        out: list[object] = []
        for _ in range(30):
            c = rng.choice(COUNTIES)
            t = rng.choice(c.towns)
            charge = pick_charge(rng)
            name, gender = fictitious_name(rng)
            out.append(fictitious_id_number(rng, area_code=c.code, birth=date(1988, 8, 8), gender=gender))
            out.append(fictitious_address(rng, c, t))
            out.append(fictitious_phone(rng))
            out.append(
                generate_facts(rng, charge=charge, suspects=[name], county=c, town=t, occurred_at=WHEN)
            )
        return out

    assert run(2024) == run(2024)
    assert run(2024) != run(2025)


@pytest.mark.parametrize("name", ["诈骗罪", "盗窃罪"])
def test_payment_platform_variant_appears(name: str) -> None:
    charge = charge_by_name(name)
    rng = random.Random(99)
    c = county("吴中区")
    hits = []
    for _ in range(60):
        result = generate_facts(
            rng, charge=charge, suspects=["王芳"], county=c, town=rng.choice(c.towns), occurred_at=WHEN
        )
        if result.via_payment_platform:
            assert "支付宝" in result.facts or "微信" in result.facts
            hits.append(result)
    assert hits, f"no 支付宝/微信支付 case among 60 {name} draws"


def test_suspect_counts() -> None:
    rng = random.Random(8)
    for name in SOLO_CHARGES:
        assert all(suspect_count(rng, charge_by_name(name)) == 1 for _ in range(20))
    assert max(suspect_count(rng, charge_by_name("聚众斗殴罪")) for _ in range(50)) >= 3


def test_aware_times_are_written_in_beijing_time() -> None:
    c = county("昆山市")
    utc = datetime(2024, 3, 5, 14, 10, tzinfo=UTC)
    result = generate_facts(
        random.Random(0),
        charge=charge_by_name("危险驾驶罪"),
        suspects=["张伟"],
        county=c,
        town=c.towns[0],
        occurred_at=utc,
        variant=0,
    )
    assert "2024年3月5日22时许" in result.facts
