"""The sentencing model on a small synthetic population whose law is known: term grows with the amount,
自首 shortens it."""

from __future__ import annotations

import math

from xietong.library.extract import Amounts, Penalty
from xietong.library.sentencing import (
    FLAG_THRESHOLD,
    Judged,
    Model,
    deviation,
    flagged,
    recommendation,
    strip_penalty,
)


def _case(i: int, charge: str, money: float, months: int, circ: tuple[str, ...] = ()) -> Judged:
    return Judged(
        id=str(i),
        charges=(charge,),
        penalty=Penalty("fixed_term", months),
        circumstances=circ,
        amounts=Amounts(money, None, None, None),
    )


def _population() -> list[Judged]:
    cases = []
    for i in range(60):
        money = 2000.0 * 2 ** (i % 8)
        months = round(6 * (money / 2000) ** 0.5 * (0.7 if i % 3 == 0 else 1.0))
        cases.append(_case(i, "盗窃罪", money, months, ("自首",) if i % 3 == 0 else ()))
    return cases


def test_estimate_follows_amount_and_circumstance_without_looking_at_the_penalty() -> None:
    model = Model.fit(_population())
    small = model.estimate(_case(100, "盗窃罪", 4000, 999))
    large = model.estimate(_case(101, "盗窃罪", 128000, 1))
    surrendered = model.estimate(_case(102, "盗窃罪", 128000, 1, ("自首",)))
    assert small.months is not None and large.months is not None and surrendered.months is not None
    assert 6 <= small.months <= 12 and 35 <= large.months <= 60  # true law: 8.5 and 48 months
    assert surrendered.months < large.months
    assert small.low is not None and small.high is not None and small.low <= small.months <= small.high
    assert any("自首" in line for line in surrendered.basis)
    assert small.kind == "fixed_term" and len(small.neighbours) == 9  # the same-charge peers
    assert model.estimate(_case(100, "盗窃罪", 4000, 999), peers=False).neighbours == []


def test_similar_cases_pull_the_estimate_and_are_named() -> None:
    model = Model.fit(_population())
    case = _case(200, "盗窃罪", 16000, 17)
    alone = model.estimate(case)
    similar = [_case(300 + k, "盗窃罪", 16000, 60) for k in range(5)]
    pulled = model.estimate(case, similar)
    assert alone.months is not None and pulled.months is not None and pulled.months > alone.months
    assert pulled.neighbours[-5:] == ["300", "301", "302", "303", "304"]


def test_unknown_charge_falls_back_to_the_pooled_model() -> None:
    model = Model.fit(_population())
    est = model.estimate(_case(400, "诈骗罪", 16000, 1))
    assert est.months is not None and est.months > 0
    assert est.basis[0].startswith("诈骗罪无训练案例")


def test_deviation_and_flag() -> None:
    model = Model.fit(_population())
    est = model.estimate(_case(500, "盗窃罪", 16000, 1))
    assert est.months is not None
    expected = round(est.months)
    assert deviation(est, Penalty("fixed_term", expected)) < 0.05  # type: ignore[operator]
    assert not flagged(est, Penalty("fixed_term", expected))
    far = math.ceil((est.months + 1) * math.exp(FLAG_THRESHOLD) + 1)
    assert flagged(est, Penalty("fixed_term", far))
    assert flagged(est, Penalty("life", None))
    assert flagged(est, Penalty("exempt", None))


def test_recommendation_is_read_from_the_facts() -> None:
    assert recommendation("建议判处被告人有期徒刑一年至一年六个月，并处罚金") == math.sqrt(12 * 18)
    assert recommendation("建议对被告人判处无期徒刑") == 300.0
    assert recommendation("公诉机关认为被告人构成盗窃罪") is None
    court = "公诉机关关于对被告人王某判处有期徒刑六个月至一年二个月的量刑意见，本院予以采纳"
    assert recommendation(court) == math.sqrt(6 * 14)
    assert recommendation("建议判处六个月以上，一年以下有期徒刑，并处罚金") == math.sqrt(6 * 12)
    # the defence's wish and an earlier conviction are not the prosecution's recommendation
    assert recommendation("辩护人建议对被告人判处有期徒刑六个月并适用缓刑") is None
    assert recommendation("被告人曾因盗窃罪被判处有期徒刑一年，建议从重处罚") is None


def test_peers_are_the_same_charge_nearest_in_amount_without_the_case_itself() -> None:
    fraud = [_case(900 + k, "诈骗罪", 16000, 3) for k in range(5)]
    model = Model.fit([*_population(), *fraud])
    case = _case(7, "盗窃罪", 16000, 1)  # id 7 is also a training case: it must not be its own peer
    peers = model.peers_of(case, k=5)
    assert len(peers) == 5 and "7" not in [p.id for p, _ in peers]
    assert {p.charges[0] for p, _ in peers} == {"盗窃罪"}
    assert {p.amounts.money_yuan for p, _ in peers} == {16000.0}  # the population's 16,000元 cases
    assert all(not p.circumstances for p, _ in peers)  # 自首 counts as a difference


def test_strip_penalty_removes_this_cases_penalty_and_keeps_the_inputs() -> None:
    text = (
        "公诉机关建议判处被告人有期徒刑一年至二年。被告人曾因盗窃罪被判处有期徒刑一年，刑满释放。"
        "本院认为，被告人盗窃数额巨大，依法应处三年以上十年以下有期徒刑，有自首情节，可从轻处罚，"
        "判处有期徒刑三年为宜，可适用缓刑。原判判处被告人有期徒刑五年，量刑适当。"
        "刑期自2015年1月1日起至2018年1月1日止。"
    )
    assert strip_penalty(text) == (
        "被告人曾因盗窃罪被判处有期徒刑一年，刑满释放。"
        "本院认为，被告人盗窃数额巨大，依法应处三年以上十年以下有期徒刑，有自首情节，可从轻处罚，"
        "量刑适当。"
    )
    assert strip_penalty("对被告人判处死刑，缓期二年执行。被告人系累犯。") == "被告人系累犯。"


def test_a_penalty_stated_in_the_text_does_not_move_the_estimate() -> None:
    statutory = "依法应处三年以上十年以下有期徒刑，"
    population = [
        Judged(**{**c.__dict__, "text": statutory if (c.amounts.money_yuan or 0) >= 64000 else ""})
        for c in _population()
    ]
    model = Model.fit(population)
    plain = _case(600, "盗窃罪", 16000, 1)

    def months(text: str) -> float | None:
        return model.estimate(Judged(**{**plain.__dict__, "text": text}), peers=False).months

    assert months(statutory) != months("")  # the bracket words are read…
    assert months("公诉机关建议判处三年以上有期徒刑，被告人对指控无异议。") == months("")  # …but not here
    assert months("对其判处有期徒刑三年以上为宜。") == months("")
