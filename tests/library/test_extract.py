"""Structured fields read from judgment text: literal examples in the style of real judgments."""

from __future__ import annotations

from xietong.library import extract
from xietong.library.extract import Penalty


def test_cn_number_reads_mixed_numerals() -> None:
    assert extract.cn_number("一万四千") == 14000
    assert extract.cn_number("1.5万") == 15000
    assert extract.cn_number("二○一四") == 2014
    assert extract.cn_number("一百零五") == 105
    assert extract.cn_number("盗窃") is None


def test_charges_in_order_without_junk() -> None:
    text = (
        "被告人王某犯伪造国家机关证件、印章罪，判处有期徒刑六个月；犯伪造居民身份证罪，判处有期徒刑六个月。"
        "其行为已构成犯罪。被告人李某某不构成职务侵占罪。被告人辛某无罪。"
    )
    assert extract.charges(text) == ["伪造国家机关证件、印章罪", "伪造居民身份证罪"]
    assert extract.charges("被告人吴某犯掩饰、隐瞒犯罪所得罪，判处拘役五个月") == ["掩饰、隐瞒犯罪所得罪"]
    assert extract.charges("被告人杨某1犯破坏计算机信息系统罪，判处有期徒刑二年") == ["破坏计算机信息系统罪"]
    assert extract.charges("犯盗窃罪，与前罪寻衅滋事罪判处的刑罚合并执行，实行数罪并罚") == [
        "盗窃罪",
        "寻衅滋事罪",
    ]


def test_articles_normalised_and_only_of_the_criminal_law() -> None:
    text = (
        "依照《中华人民共和国刑法》第三百四十七条第一款，第四款，第六十七条第三款、第一百三十三条之一第一款"
        "和第六十四条，《中华人民共和国刑事诉讼法》第二百零一条之规定"
    )
    assert extract.articles(text) == [
        "刑法第347条第1款",
        "刑法第347条第4款",
        "刑法第67条第3款",
        "刑法第133条之一第1款",
        "刑法第64条",
    ]
    assert extract.articles("《中华人民共和国刑法》第三百四十七条第一、四、七款") == [
        "刑法第347条第1款",
        "刑法第347条第4款",
        "刑法第347条第7款",
    ]


def test_penalty_of_a_first_instance_judgment() -> None:
    p = extract.penalty(
        "一、被告人龙涛犯贩卖毒品罪，判处有期徒刑一年零六个月，缓刑二年，并处罚金人民币五千元。"
    )
    assert p == Penalty("fixed_term", 18, 24, 5000)
    assert p.label() == "有期徒刑一年六个月，缓刑二年，并处罚金人民币5000元"
    assert extract.penalty("被告人葛某犯危险驾驶罪，判处拘役四个月，并处罚金1万元。") == Penalty(
        "criminal_detention", 4, None, 10000
    )
    assert extract.penalty("被告人谭某犯故意杀人罪，判处死刑，缓期二年执行，剥夺政治权利终身") == Penalty(
        "death_reprieve", None
    )
    assert extract.penalty("被告人刘某犯贩卖毒品罪，判处无期徒刑，剥夺政治权利终身").kind == "life"  # type: ignore[union-attr]
    assert extract.penalty("驳回上诉，维持原判。") is None


def test_penalty_combined_sentence_wins() -> None:
    text = (
        "被告人南某犯诈骗罪，判处有期徒刑三年，并处罚金人民币5000元；犯拒不执行判决、裁定罪，判处有期徒刑一年，"
        "决定执行有期徒刑三年六个月，并处罚金5000元。"
    )
    assert extract.penalty(text) == Penalty("fixed_term", 42, None, 5000)


def test_penalty_of_an_appeal_that_quashes_is_the_last_one() -> None:
    text = (
        "一、撤销某县人民法院（2015）大刑初字第148号刑事判决的第一项，即被告人戴某犯诈骗罪，判处有期徒刑四年。"
        "二、上诉人（原审被告人）戴某犯诈骗罪，判处有期徒刑二年，缓刑三年，并处罚金人民币十五万元。"
    )
    assert extract.penalty(text) == Penalty("fixed_term", 24, 36, 150000)
    quashed = "一、撤销原判，即被告人邓某犯诈骗罪，判处有期徒刑十年；二、上诉人（原审被告人）邓某无罪。"
    assert extract.penalty(quashed) == Penalty("acquittal", None)


def test_penalty_of_the_named_defendant_not_the_company() -> None:
    text = (
        "一、被告单位某公司犯逃税罪，判处罚金人民币50000元；二、被告人王某犯逃税罪，判处有期徒刑一年，缓刑二年。"
        "三、被告人李某犯逃税罪，免予刑事处罚。"
    )
    assert extract.penalty(text) == Penalty("fixed_term", 12, 24)
    assert extract.penalty(text, "李某") == Penalty("exempt", None)
    assert extract.penalty("被告单位某公司犯单位行贿罪，判处罚金人民币十万元。") == Penalty(
        "fine_only", None, None, 100000
    )


def test_circumstances_found_and_negated() -> None:
    text = (
        "被告人到案后如实供述自己的罪行，系坦白，可以从轻处罚。被告人曾因盗窃罪被判处有期徒刑一年，"
        "刑满释放后五年内再犯，系累犯，应当从重处罚。其赔偿了被害人损失并取得谅解。"
        "辩护人提出被告人有自首情节的意见，与查明的事实不符，本院不予采纳。"
    )
    found = extract.circumstances(text)
    assert found == ["坦白", "累犯", "赔偿", "谅解", "前科"]
    assert "自首" not in extract.circumstances("被告人虽主动到公安机关，但不构成自首。")
    assert "自首" in extract.circumstances("被告人主动投案，如实供述，系自首，依法可以从轻处罚。")
    assert extract.circumstances("被告人系初犯，无犯罪前科。") == ["初犯"]
    assert "退赃退赔" not in extract.circumstances("责令被告人退赔被害人损失。")
    assert all(name in extract.CIRCUMSTANCES for name in found)


def test_circumstances_from_articles_applied() -> None:
    text = "依照《中华人民共和国刑法》第二百六十四条、第六十七条第一款、第二十七条之规定"
    assert extract.circumstances(text) == ["自首", "从犯"]


def test_amounts() -> None:
    a = extract.amounts(
        "被告人先后窃得现金1,200元、手机一部价值人民币三千元，共计价值人民币4200元。被判处罚金人民币五万元。"
    )
    assert a.money_yuan == 4200 and a.drug is None and a.drug_grams is None
    assert extract.amounts("骗得被害人1.5万元").money_yuan == 15000
    d = extract.amounts(
        "查获甲基苯丙胺两包（毛重12克，净重10.5克）；另查获海洛因1.2千克。其中甲基苯丙胺净重10.5克。"
    )
    assert d.drug_grams == 1200 and d.drug == "甲基苯丙胺"
    assert extract.amounts("致被害人轻伤二级，另一人轻微伤").injury == "轻伤二级"
    assert extract.amounts("致被害人经抢救无效死亡").injury == "死亡"


def test_defendants_court_year() -> None:
    text = (
        "浙江省杭州市西湖区人民法院刑事判决书（2016）浙0106刑初123号 被告人孙某某，男。"
        "被告人戴爱军退出违法所得，被告人戴爱军犯诈骗罪"
    )
    assert extract.defendants(text) == ["孙某某", "戴爱军"]
    assert extract.court(text) == "浙江省杭州市西湖区人民法院"
    assert extract.court("如不服本判决，可通过本院或者直接向浙江省杭州市中级人民法院提出上诉") is None
    assert extract.year(text) == 2016
    assert extract.year("2014年7月被抓获，刑期至2025年10月16日止") == 2014


def test_record_fields_is_json_ready() -> None:
    import json

    fields = extract.record_fields(
        facts="经审理查明，被告人张某窃得现金5000元。",
        reasoning="本院认为，被告人张某构成盗窃罪。到案后如实供述，系坦白。依照《中华人民共和国刑法》第二百六十四条之规定",
        judgment="被告人张某犯盗窃罪，判处有期徒刑八个月，并处罚金人民币二千元。",
    )
    assert fields["charges"] == ["盗窃罪"] and fields["articles"] == ["刑法第264条"]
    assert fields["penalty"]["label"] == "有期徒刑八个月，并处罚金人民币2000元"
    assert fields["circumstances"] == ["坦白"] and fields["amounts"]["money_yuan"] == 5000
    assert fields["defendants"] == ["张某"]
    json.dumps(fields, ensure_ascii=False)


def _every_match_contains(pattern: str, hints: tuple[str, ...]) -> bool:
    """Whether every string ``pattern`` matches contains one of ``hints``, judged conservatively: only
    literal runs and groups that no quantifier makes optional count. Enough for the plain patterns of
    ``extract._CIRC_PATTERNS`` (literals, classes, groups, lookaheads, quantifiers)."""

    def branches(p: str) -> list[str]:
        out, depth, start, i = [], 0, 0, 0
        while i < len(p):
            c = p[i]
            if c == "\\":
                i += 1
            elif c == "[":
                i = p.index("]", i + 1)
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == "|" and depth == 0:
                out.append(p[start:i])
                start = i + 1
            i += 1
        return [*out, p[start:]]

    def branch_ok(b: str) -> bool:
        runs, run, i = [], "", 0
        while i < len(b):
            c = b[i]
            if c == "[":
                end, atom = b.index("]", i + 1) + 1, None
            elif c == "(":
                depth, end = 0, i
                while True:
                    depth += {"(": 1, ")": -1}.get(b[end], 0)
                    end += 1
                    if depth == 0:
                        break
                atom = b[i + 1 : end - 1]
                atom = None if atom.startswith(("?!", "?=", "?<")) else atom.removeprefix("?:")
            else:
                end, atom = i + 1, None
            optional = end < len(b) and b[end] in "?*{"
            if optional:
                end = b.index("}", end) + 1 if b[end] == "{" else end + 1
            if c not in "[(" and not optional:
                run += c
            else:
                runs.append(run)
                run = ""
                if atom is not None and not optional and all(branch_ok(x) for x in branches(atom)):
                    return True
            i = end
        runs.append(run)
        return any(h in r for r in runs for h in hints)

    return all(branch_ok(b) for b in branches(pattern))


def test_circumstance_hints_are_in_every_match() -> None:
    # given the words circumstances() looks for before running a pattern, when any pattern matches,
    # then one of its words is in the match: the shortcut never hides a circumstance
    assert set(extract._CIRC_HINTS) == set(extract._CIRC_PATTERNS)
    for name, pattern in extract._CIRC_PATTERNS.items():
        assert _every_match_contains(pattern, extract._CIRC_HINTS[name]), name
    assert not _every_match_contains("退赃|返还[^。]{0,6}赃", ("退",))  # the check itself can fail


def test_anchored_scans_find_what_a_plain_scan_finds() -> None:
    import re

    # given texts where a pattern could start well before its anchor word or be cut off by it
    texts = [
        "经某县人民法院审理，向某市中级人民法院提出上诉。最高人民法院人民法院",
        "《中华人民共和国刑法》第六十七条、刑法修正案（九）、《刑法》第六十四条和刑法第二十五条",
        "被告人犯盗窃罪、诈骗罪，不构成抢劫罪，罪名成立",
        "2017年10月20日14时许窃得现金1,200元、价值3万余元及5 余 元；二〇一八年三月",
        "被告单位某公司。被告单位乙公司；被告人（原审被告人）张三，上诉人(原审被告人）张三，罪犯张三张三",
    ]
    anchored = [
        (extract._COURT, "人民法院", extract._COURT_REACH),
        (extract._LAW_NAME, "刑法", extract._LAW_NAME_REACH),
        (extract._CHARGE_RUN, "罪", 40),
        (extract._DATE, "年", 4),
        (extract._UNIT_START, "被告单位", 0),
    ]
    for text in texts:
        for rx, anchor, reach in anchored:
            # then the matches are the same, in the same order
            assert [m.span() for m in extract._finditer_near(rx, text, anchor, reach)] == [
                m.span() for m in rx.finditer(text)
            ]
        assert [m.span() for m in extract._money_in(text)] == [
            m.span() for m in extract._MONEY.finditer(text)
        ]
        for name in ("张三", "乙公司"):
            person = re.compile(rf"{extract._PERSON}({re.escape(name)})")
            assert extract._person_named(text, name) == [m.start() for m in person.finditer(text)]


def test_amounts_with_numerals_after_wan_and_absurd_terms_do_not_break() -> None:
    assert extract.amounts("盗窃现金一万五千元").money_yuan == 15000
    assert extract.amounts("骗取被害人1万五千元").money_yuan == 15000
    assert extract.Penalty("fixed_term", 1440).label() == "有期徒刑120年"  # garbled, but no crash
    assert extract.court("2016年8月3日被宁阳县人民法院判处有期徒刑一年") is None  # a 前科, not this court
    cited = "上述事实有浙江省高级人民法院（1995）浙刑终字第12号刑事判决书等证据证实"
    assert extract.court(cited) is None  # evidence of another case, not this court
