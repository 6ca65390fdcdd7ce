"""Structured fields read from the text of a Chinese criminal judgment (刑事判决书): charges, cited
articles of the Criminal Law, the main penalty, sentencing circumstances (量刑情节), amounts, defendants,
court and year.

Imported judgments and old case records often carry only text; the case library's facets and the
sentencing-consistency model (``library.sentencing``) need these fields, so they are read here with
regular expressions. Regular expressions, not a trained tagger, because judgments follow a fixed
drafting style (最高人民法院《法院刑事诉讼文书样式》) and every rule can be read and corrected by a
clerk; the price is that unusual wording is missed, never invented. Pure module: no Django import."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

# ---------------------------------------------------------------- numbers

_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_NUM = r"[0-9０-９.．零〇○一二两三四五六七八九十百千]+"
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
_ARABIC = re.compile(r"\d+(?:\.\d+)?")


def _finditer_near(rx: re.Pattern[str], text: str, anchor: str, reach: int) -> Iterator[re.Match[str]]:
    """The matches of ``rx.finditer(text)``, for a pattern whose every match contains ``anchor`` at most
    ``reach`` characters after its start.

    Why: patterns such as ``[^…]{2,24}?人民法院`` or one led by a lookbehind give ``re`` no first
    character to skip ahead on, so it tries every position of a long judgment. No match can start more
    than ``reach`` characters before the next ``anchor`` (found by ``str.find``, in C), so the search
    may start there; the result is the same matches, in the same order."""
    pos = 0
    while True:
        at = text.find(anchor, pos)
        if at < 0:
            return
        m = rx.search(text, max(pos, at - reach))  # lookbehinds still see the text before ``pos``
        if m is None:
            return
        yield m
        pos = m.end()


@lru_cache(maxsize=4096)  # the same few numerals (第六十七条, 二〇一八年) recur in every judgment
def cn_number(text: str) -> float | None:
    """``"一万四千"`` → 14000, ``"1.5万"`` → 15000, ``"二○一四"`` → 2014, ``"十一"`` → 11.

    Judgments mix Arabic and Chinese numerals freely, sometimes inside one number; None when the
    text is not a number."""
    s = text.translate(_FULLWIDTH).replace(",", "").strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        pass
    total = 0.0
    section = 0.0  # below the current 万/亿
    digit: float | None = None
    i = 0
    digits_only = all(ch in _CN_DIGIT for ch in s)
    if digits_only:  # 二○一四: read digit by digit, as years are written
        return float("".join(str(_CN_DIGIT[ch]) for ch in s))
    while i < len(s):
        ch = s[i]
        m = _ARABIC.match(s, i)
        if m:
            digit = float(m.group())
            i += len(m.group())
            continue
        if ch in _CN_DIGIT:
            digit = float(_CN_DIGIT[ch])
        elif ch in _CN_UNIT:
            section += (1.0 if digit is None else digit) * _CN_UNIT[ch]
            digit = None
        elif ch in _CN_BIG:
            section += digit or 0.0
            total = (
                (total + (section or 1.0)) * _CN_BIG[ch]
                if ch == "亿"
                else total + (section or 1.0) * _CN_BIG[ch]
            )
            section, digit = 0.0, None
        else:
            return None
        i += 1
    return total + section + (digit or 0.0)


def _int(text: str | None) -> int:
    value = cn_number(text) if text else None
    return round(value) if value is not None else 0


_CN_LABEL_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """12 → 十二, as terms are written in judgments; digits from 100 on (no lawful term is that long,
    but a garbled text must not break the import)."""
    if n >= 100:
        return str(n)
    if n < 10:
        return _CN_LABEL_DIGITS[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else _CN_LABEL_DIGITS[tens]) + "十" + (_CN_LABEL_DIGITS[units] if units else "")


def _duration_label(months: int) -> str:
    years, rest = divmod(months, 12)
    out = f"{_cn(years)}年" if years else ""
    if rest:
        out += f"{_cn(rest)}个月"
    return out or "零个月"


# ---------------------------------------------------------------- charges

_CHARGE_STOP = {
    "犯罪",
    "无罪",
    "有罪",
    "本罪",
    "此罪",
    "该罪",
    "重罪",
    "轻罪",
    "数罪",
    "新罪",
    "前罪",
    "后罪",
    "余罪",
    "一罪",
    "两罪",
    "二罪",
    "三罪",
    "各罪",
    "他罪",
    "同罪",
    "其罪",
    "何罪",
    "认罪",
    "定罪",
    "获罪",
    "谢罪",
    "赔罪",
    "请罪",
    "顶罪",
    "原罪",
    "罪",
}
_CHARGE_TRIGGERS = (
    "涉嫌",
    "构成",
    "认定为",
    "定性为",
    "成立",
    "以",
    "犯",
    "即",
    "按",
    "均",
    "被告人",
    "已",
    "判处",
    "改判",
    "变更为",
    "应定",
    "论处",
    "及",
    "和",
    "与",
    "或",
    "或者",
)
_CHARGE_BAD_START = (
    "本",
    "该",
    "此",
    "其",
    "两",
    "数",
    "一",
    "各",
    "上述",
    "何",
    "前",
    "后",
    "新",
    "同",
    "他",
    "原",
    "不",
    "无",
    "没有",
    "有",
    "罪",
    "人",
    "所",
    "与",
    "日",
    "的",
    "实行",
)
_CHARGE_RUN = re.compile(
    r"[\u4e00-\u9fa5、]{2,40}?罪(?!所得|活动|分子|嫌疑|事实|情节|行为|记录|团伙|集团|数额|金额|工具|证据|并罚|名|行|责|状|证|犯)"
)
_NOT_CHARGED = re.compile(r"(不构成|不能构成|不成立|不应以|不以|不能以|未构成|不属于)[^，。；]{0,10}$")
_CHARGE_TRIGGER_RE = {trigger: re.compile(trigger) for trigger in _CHARGE_TRIGGERS}


def charges(text: str) -> list[str]:
    """The charges ("…罪") named in ``text``, in order of first mention, deduplicated.

    Works best on a judgment result (``"被告人X犯盗窃罪，判处…"``) but accepts any text; words that end
    in 罪 without naming a charge (构成犯罪, 无罪, 数罪并罚) are dropped. A charge is kept whole when its
    name contains 、 (走私、贩卖、运输、制造毒品罪)."""
    found: list[str] = []
    names: list[str] | None = None  # read on the first run: most texts name no charge at all
    for m in _finditer_near(_CHARGE_RUN, text, "罪", 40):
        run = m.group()
        if _NOT_CHARGED.search(text[max(0, m.start() - 12) : m.start()] + run[:-3]):
            continue
        if names is None:
            names = sorted(defendants(text), key=len, reverse=True)
        # cut at the last trigger word: "被告人龙涛犯贩卖毒品罪" → "贩卖毒品罪"
        for part in _split_charges(run):
            for name_ in names:  # "对被告人刘涌故意伤害罪的量刑" → "故意伤害罪"
                if part.startswith(name_) and len(part) > len(name_) + 2:
                    part = part[len(name_) :]
                    break
            name = _trim_charge(part)
            if name and name not in found:
                found.append(name)
    return found


def _split_charges(run: str) -> list[str]:
    """ "盗窃罪、诈骗罪" → two; "贩卖、运输毒品罪" → one (its first part does not end in 罪)."""
    parts = run.split("、")
    out: list[str] = []
    pending = ""
    for part in parts:
        pending = f"{pending}、{part}" if pending else part
        if pending.endswith("罪"):
            out.append(pending)
            pending = ""
    return out


def _trim_charge(run: str) -> str | None:
    """ "被告人龙涛犯贩卖毒品罪" → "贩卖毒品罪": cut after the last word that introduces a charge, except
    where
    that word belongs to the name (侵犯著作权罪, 以危险方法危害公共安全罪, 掩饰、隐瞒犯罪所得罪)."""
    cut = 0
    for trigger, trigger_re in _CHARGE_TRIGGER_RE.items():
        if trigger not in run:
            continue
        for m in trigger_re.finditer(run):
            if m.end() >= len(run) - 1:
                continue
            if trigger == "犯" and (
                run[m.start() - 1 : m.start()] == "侵" or run[m.end() : m.end() + 1] == "罪"
            ):
                continue
            if trigger == "以" and run.startswith("危险方法", m.end()):
                continue
            if trigger in ("及", "和", "与", "或", "或者") and not _is_joiner(run, m):
                continue
            cut = max(cut, m.end())
    name = run[cut:].lstrip("、")
    if (
        len(name) < 3
        or name in _CHARGE_STOP
        or (name.startswith(_CHARGE_BAD_START) and not name.startswith("以危险方法"))
    ):
        return None
    if "犯罪" in name.replace("犯罪所得", "").replace("犯罪活动", "").replace("犯罪集团", ""):
        return None
    if any(
        w in name
        for w in (
            "构成",
            "涉嫌",
            "认定",
            "指控",
            "罪名",
            "判处",
            "被告人",
            "追究",
            "承担",
            "有罪",
            "无罪",
            "前罪",
            "定罪",
            "数罪",
            "本罪",
            "该罪",
        )
    ):
        return None
    return name


def _is_joiner(run: str, m: re.Match[str]) -> bool:
    """ "犯盗窃罪和诈骗罪": 和 joins two charges only when a charge ends right before it."""
    return run[: m.start()].endswith("罪")


# ---------------------------------------------------------------- articles

_LAW_NAME = re.compile(r"《中华人民共和国刑法》|《刑法》|(?<![《\u4e00-\u9fa5])刑法(?!修正案|》)")
_LAW_NAME_REACH = len("《中华人民共和国")  # from the start of a _LAW_NAME match to its 刑法
_PARA_SEP = re.compile(r"[、，,]")
_ARTICLE = re.compile(
    rf"\s*[、，,和及以与]*\s*(?:以及)?\s*(?:第(?P<art>{_NUM})条(?P<sub>之[一二三四五六七八九])?)?"
    rf"(?:第(?P<para>{_NUM}(?:[、，,]{_NUM})*)款)?(?:第(?P<item>{_NUM})项)?"
)


def articles(text: str) -> list[str]:
    """Articles of the Criminal Law cited in ``text``, as ``"刑法第264条"``, ``"刑法第67条第3款"``, in order,
    deduplicated. Only citations that follow the name of the Criminal Law count, so articles of the
    Criminal Procedure Law or of judicial interpretations cited in the same sentence are left out; a bare
    ``第四款`` after an article belongs to that article."""
    found: list[str] = []
    for law in _finditer_near(_LAW_NAME, text, "刑法", _LAW_NAME_REACH):
        pos = law.end()
        current: str | None = None
        while True:
            m = _ARTICLE.match(text, pos)
            if not m or m.end() == pos or not (m.group("art") or m.group("para")):
                break
            if m.group("art"):
                current = f"刑法第{_int(m.group('art'))}条{m.group('sub') or ''}"
            if current is None:
                break
            paras = _PARA_SEP.split(m.group("para")) if m.group("para") else [""]
            for para in paras:  # 第三百四十七条第一、四、七款
                label = current + (f"第{_int(para)}款" if para else "")
                if m.group("item") and len(paras) == 1:
                    label += f"第{_int(m.group('item'))}项"
                if label not in found:
                    found.append(label)
            pos = m.end()
    return found


# ---------------------------------------------------------------- penalty

PENALTY_KINDS = {
    "fixed_term": "有期徒刑",
    "criminal_detention": "拘役",
    "public_surveillance": "管制",
    "life": "无期徒刑",
    "death": "死刑",
    "death_reprieve": "死刑，缓期二年执行",
    "fine_only": "单处罚金",
    "exempt": "免予刑事处罚",
    "acquittal": "无罪",
}


@dataclass(frozen=True)
class Penalty:
    """The main penalty (主刑) imposed on one defendant, with probation and fine."""

    kind: str  # a key of PENALTY_KINDS
    months: int | None  # term for fixed_term, criminal_detention, public_surveillance
    probation_months: int | None = None  # 缓刑考验期
    fine_yuan: int | None = None

    def label(self) -> str:
        """In Chinese, as a judgment states it: "有期徒刑三年，缓刑四年，并处罚金人民币5000元"."""
        if self.kind == "fine_only":
            return f"单处罚金人民币{self.fine_yuan}元" if self.fine_yuan else "单处罚金"
        out = PENALTY_KINDS.get(self.kind, self.kind)
        if self.months is not None and self.kind in (
            "fixed_term",
            "criminal_detention",
            "public_surveillance",
        ):
            out += _duration_label(self.months)
        if self.probation_months:
            out += f"，缓刑{_duration_label(self.probation_months)}"
        if self.fine_yuan:
            out += f"，并处罚金人民币{self.fine_yuan}元"
        return out

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label()}


_DUR = rf"(?:(?P<y>{_NUM})年)?零?(?:(?P<m>{_NUM})个?月)?(?:零?(?P<d>{_NUM})[日天])?"
_MAIN = re.compile(
    r"(?P<reprieve>死刑[，,]?\s*缓期[二两2]年执行)"
    r"|(?P<death>死刑)(?![，,]?\s*缓期)"
    r"|(?P<life>无期徒刑)"
    rf"|(?P<kind>有期徒刑|拘役|管制)\s*{_DUR}"
    r"|(?P<exempt>免[予于除]刑事处罚)"
    r"|(?P<acquit>无罪)"
    r"|(?P<fine>(?:判处|单处|并处|处)罚金)"
)
_PROBATION = re.compile(rf"^[^；;。]{{0,6}}?缓刑\s*{_DUR}")
_FINE = re.compile(rf"罚\s*金\s*(?:人民币)?\s*(?P<n>{_NUM}(?:,\d{{3}})*)\s*(?P<wan>万)?\s*元")
_COMBINED = re.compile(r"决定执行|合并执行|数罪并罚[，,]?执行|总和刑期[^。；]{0,40}执行")
_KIND_NAME = {"有期徒刑": "fixed_term", "拘役": "criminal_detention", "管制": "public_surveillance"}


def _months(m: re.Match[str]) -> int | None:
    if not (m.group("y") or m.group("m") or m.group("d")):
        return None
    days = _int(m.group("d"))
    return _int(m.group("y")) * 12 + _int(m.group("m")) + (round(days / 30) if days else 0)


# Every way _PERSON can be written, longest first per role word.
_PERSON_FORMS = tuple(
    role + aside
    for role in ("被告人", "上诉人", "罪犯")
    for aside in ("（原审被告人）", "(原审被告人)", "（原审被告人)", "(原审被告人）", "")
)


def _person_named(text: str, name: str) -> list[int]:
    """Where ``_PERSON + name`` occurs in ``text`` (the starts of ``re.finditer(_PERSON + name)``).

    Found with ``str.find`` on the name and a look at what precedes it: compiling that pattern afresh
    for every defendant of every judgment cost more than the rest of ``penalty``. Matches do not overlap,
    as with ``finditer``."""
    if not name:
        return [m.start() for m in re.finditer(_PERSON, text)]
    hits = []  # (start of the match, start of the name)
    for at in _occurrences(text, name):
        form = next((f for f in _PERSON_FORMS if at >= len(f) and text.startswith(f, at - len(f))), None)
        if form is not None:
            hits.append((at - len(form), at))
    starts: list[int] = []
    end = 0
    for start, at in sorted(hits):
        if start >= end:
            starts.append(start)
            end = at + len(name)
    return starts


def _occurrences(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


_UNIT_START = re.compile(r"(?<=[；;。、\s])被告单位")


def _defendant_text(judgment: str, defendant: str | None) -> str:
    """The part of the judgment about one defendant (all of it when only one is named)."""
    names = defendants(judgment)
    if defendant is None:
        if not names:
            return judgment
        defendant = names[0]
    # where each defendant's part starts; a defendant organisation (被告单位) ends the part before it
    starts = sorted(
        [(start, name) for name in set(names) | {defendant} for start in _person_named(judgment, name)]
        + [(m.start(), None) for m in _finditer_near(_UNIT_START, judgment, "被告单位", 0)]
    )
    if not any(name == defendant for _, name in starts):
        return judgment
    parts = []
    for i, (start, name) in enumerate(starts):
        if name == defendant:
            end = starts[i + 1][0] if i + 1 < len(starts) else len(judgment)
            parts.append(judgment[start:end])
    return "。".join(parts)


def penalty(judgment: str, defendant: str | None = None) -> Penalty | None:
    """The main penalty of one defendant (the first named when ``defendant`` is None).

    The combined sentence of 数罪并罚 (决定执行/合并执行) wins over the sentence for each charge; in an
    appeal that quashes (撤销) the first judgment, the last sentence pronounced is the one in force.
    None when no penalty is stated (驳回上诉，维持原判)."""
    text = _defendant_text(judgment, defendant)
    matches = [m for m in _MAIN.finditer(text) if not _is_noise(text, m)]
    if not matches:
        return None
    combined = [c.end() for c in _COMBINED.finditer(text)]
    chosen: re.Match[str] | None = None
    if combined:
        after = [m for m in matches if m.start() >= combined[-1] and not m.group("fine")]
        chosen = after[0] if after else None
    if chosen is None and any(not m.group("acquit") for m in matches):  # acquitted of one charge only
        matches = [m for m in matches if not (m.group("acquit") and _partial_acquittal(text, m))]
    if chosen is None:
        if "撤销" in judgment:
            custodial = [m for m in matches if not m.group("fine")]
            chosen = custodial[-1] if custodial else matches[-1]
        else:
            custodial = [m for m in matches if not m.group("fine")]
            chosen = custodial[0] if custodial else matches[0]
    return _penalty_from(text, chosen)


_CLAUSE_SEP = re.compile(r"[；;。]")
_ACQUITTAL_STATED = re.compile(r"(宣告|被告人[^，。；]{0,6}|上诉人[^，。；]{0,6})$")
_EARLIER_SENTENCE = re.compile(r"(前罪|原判|曾因|曾被|刑满|剥夺政治权利)")
_CLAUSE_STOP = re.compile(r"[；;。]|被告人|（|\(")


def _partial_acquittal(text: str, m: re.Match[str]) -> bool:
    """ "公诉机关指控…犯交通肇事罪的证据不足…宣告无罪" acquits of one charge, not of all."""
    clause = _CLAUSE_SEP.split(text[max(0, m.start() - 60) : m.start()])[-1]
    return "指控" in clause or "罪" in clause


def _is_noise(text: str, m: re.Match[str]) -> bool:
    """Mentions that are not the sentence: "宣告无罪" is, "不构成…无罪辩护" is not."""
    before = text[max(0, m.start() - 8) : m.start()]
    if m.group("acquit"):
        return not _ACQUITTAL_STATED.search(before) or "辩" in before
    if m.group("kind") and _months(m) is None:
        return True
    return bool(_EARLIER_SENTENCE.search(before))


def _penalty_from(text: str, m: re.Match[str]) -> Penalty:
    tail = text[m.end() : m.end() + 80]
    stop = _CLAUSE_STOP.search(tail)
    clause = tail[: stop.start()] if stop else tail
    fine_m = _FINE.search(text[m.start() : m.end() + 80].split("。")[0].split("；")[0])
    fine: int | None = None
    if fine_m:
        value = cn_number(fine_m.group("n").replace(",", ""))
        if value is not None:
            fine = round(value * (10_000 if fine_m.group("wan") else 1))
    if m.group("reprieve"):
        return Penalty("death_reprieve", None, None, fine)
    if m.group("death"):
        return Penalty("death", None, None, fine)
    if m.group("life"):
        return Penalty("life", None, None, fine)
    if m.group("exempt"):
        return Penalty("exempt", None)
    if m.group("acquit"):
        return Penalty("acquittal", None)
    if m.group("fine"):
        return Penalty("fine_only", None, None, fine)
    probation: int | None = None
    pm = _PROBATION.search(clause)
    if pm:
        probation = _months(pm)
    return Penalty(_KIND_NAME[m.group("kind")], _months(m), probation, fine)


# ---------------------------------------------------------------- circumstances

CIRCUMSTANCES: dict[str, str] = {
    "自首": "可以从轻或者减轻处罚；犯罪较轻的，可以免除处罚（刑法第67条第1款）",
    "坦白": "如实供述自己罪行的，可以从轻处罚（刑法第67条第3款）",
    "累犯": "应当从重处罚，不得缓刑（刑法第65条、第74条）",
    "毒品再犯": "因毒品犯罪被判过刑又犯毒品罪的，从重处罚（刑法第356条）",
    "认罪认罚": "可以依法从宽处理（刑事诉讼法第15条）",
    "未成年": "不满十八周岁的人犯罪，应当从轻或者减轻处罚（刑法第17条）",
    "老年人": "已满七十五周岁的人故意犯罪，可以从轻或者减轻处罚（刑法第17条之一）",
    "限定刑事责任能力": "尚未完全丧失辨认或者控制能力的精神病人犯罪，可以从轻或者减轻处罚（刑法第18条第3款）",
    "退赃退赔": "积极退赃、退赔的，可以酌情从轻处罚（刑法第64条，量刑指导意见）",
    "赔偿": "积极赔偿被害人经济损失的，可以酌情从轻处罚（量刑指导意见）",
    "谅解": "取得被害人谅解的，可以酌情从轻处罚（量刑指导意见）",
    "立功": "有立功表现的，可以从轻或者减轻处罚；重大立功可以减轻或者免除处罚（刑法第68条）",
    "主犯": "组织、领导犯罪集团或在共同犯罪中起主要作用，按其参与的全部犯罪处罚（刑法第26条）",
    "从犯": "应当从轻、减轻处罚或者免除处罚（刑法第27条）",
    "胁从犯": "应当按照其犯罪情节减轻处罚或者免除处罚（刑法第28条）",
    "未遂": "可以比照既遂犯从轻或者减轻处罚（刑法第23条）",
    "中止": "没有造成损害的应当免除处罚，造成损害的应当减轻处罚（刑法第24条）",
    "预备": "可以比照既遂犯从轻、减轻处罚或者免除处罚（刑法第22条）",
    "初犯": "初犯、偶犯可以酌情从轻处罚（量刑指导意见）",
    "前科": "有前科的可以酌情从重处罚（量刑指导意见）",
    "当庭认罪": "当庭自愿认罪的，可以酌情从轻处罚（量刑指导意见）",
    "防卫过当": "应当减轻或者免除处罚（刑法第20条第2款）",
}

# name → regular expression of its positive mention
_CIRC_PATTERNS: dict[str, str] = {
    "自首": r"自首",
    "坦白": r"坦白|如实供述|如实交代|如实交待",
    "累犯": r"累犯",
    "毒品再犯": r"毒品再犯|因[^。；]{0,20}毒品[^。；]{0,10}被判过刑[^。；]{0,10}又",
    "认罪认罚": r"认罪认罚",
    "未成年": (
        r"(?:犯罪|作案|行为)时[^。；]{0,12}(?:不满|未满)十八周岁|系未成年人|未成年被告人|属未成年人犯罪"
    ),
    "老年人": r"已满七十五周岁",
    "限定刑事责任能力": r"限定刑事责任能力|限制刑事责任能力|部分刑事责任能力",
    "退赃退赔": r"退赃|退赔|退缴|退还[^。，；]{0,8}(?:赃|款|损失)|返还[^。，；]{0,6}赃",
    "赔偿": (
        r"(?:已|积极|主动|全额|自愿|已经|并)赔偿|赔偿了|进行了?赔偿|作出赔偿|予以赔偿"
        r"|达成[^。；，]{0,6}(?:赔偿|和解)协议"
    ),
    "谅解": r"谅解",
    "立功": r"立功",
    "主犯": r"主犯",
    "从犯": r"从犯|辅助作用|次要作用",
    "胁从犯": r"胁从",
    "未遂": r"未遂",
    "中止": r"犯罪中止",
    "预备": r"犯罪预备",
    "初犯": r"初犯|偶犯",
    "前科": (
        r"前科(?!查询|情况|核查|调查|信息|记录查询|劣迹查询)|曾因[^。；]{0,40}(?:被判处|判处|被处以|被判)|劣迹"
    ),
    "当庭认罪": r"当庭(?:自愿)?认罪|庭审中[^。；，]{0,6}认罪|当庭表示认罪",
    "防卫过当": r"防卫过当",
}
_CIRC_RE = {name: re.compile(p) for name, p in _CIRC_PATTERNS.items()}
# Words every match of a pattern above contains one of (each ``|`` branch has one): ``in`` finds them in
# a whole judgment far faster than ``re`` tries a pattern that starts with an alternation.
_CIRC_HINTS: dict[str, tuple[str, ...]] = {
    "自首": ("自首",),
    "坦白": ("坦白", "如实"),
    "累犯": ("累犯",),
    "毒品再犯": ("毒品",),
    "认罪认罚": ("认罪认罚",),
    "未成年": ("十八周岁", "未成年"),
    "老年人": ("已满七十五周岁",),
    "限定刑事责任能力": ("刑事责任能力",),
    "退赃退赔": ("退", "返还"),
    "赔偿": ("赔偿", "和解"),
    "谅解": ("谅解",),
    "立功": ("立功",),
    "主犯": ("主犯",),
    "从犯": ("从犯", "作用"),
    "胁从犯": ("胁从",),
    "未遂": ("未遂",),
    "中止": ("犯罪中止",),
    "预备": ("犯罪预备",),
    "初犯": ("初犯", "偶犯"),
    "前科": ("前科", "曾因", "劣迹"),
    "当庭认罪": ("认罪",),
    "防卫过当": ("防卫过当",),
}

# articles that establish a circumstance when the court applies them
_CIRC_ARTICLES: dict[str, tuple[str, ...]] = {
    "自首": ("刑法第67条第1款", "刑法第67条第2款"),
    "坦白": ("刑法第67条第3款",),
    "累犯": ("刑法第65条", "刑法第65条第1款"),
    "毒品再犯": ("刑法第356条",),
    "立功": ("刑法第68条",),
    "从犯": ("刑法第27条", "刑法第27条第1款", "刑法第27条第2款"),
    "胁从犯": ("刑法第28条",),
    "未遂": ("刑法第23条", "刑法第23条第2款"),
    "中止": ("刑法第24条",),
    "预备": ("刑法第22条",),
    "老年人": ("刑法第17条之一",),
    "限定刑事责任能力": ("刑法第18条第3款",),
}

# negation just before the keyword ("不构成自首") or in the rest of its clause ("…自首的意见不予采纳")
_NEG_BEFORE = re.compile(
    r"(?:不构成|不属于|不属|不能认定|不予认定|不应认定|不宜认定|不认定|不具有|不具备|没有|并无|亦无|且无|均无|无任何|"
    r"不符合|否认|并非|不是|不成立|未能|不存在|未|无|非|缺乏|是否|否定|排除|否则)"
    r"[^。；，,]{0,8}$"
)
_NEG_AFTER = re.compile(
    r"^[^。；]{0,40}?(?:不成立|不能成立|不予采纳|不予支持|不予认定|不能认定|不应认定|不符合|不予确认|不能采纳|"
    r"于法无据|无事实|与事实不符|与查明的事实不符|没有事实|证据不足|不予考虑|不属实|不应|不能从轻|不予从轻)"
)
_CLAIM = re.compile(r"辩护人|辩护意见|辩称|辩解|提出|请求|要求")
_ACCEPT = re.compile(
    r"予以采纳|予以支持|予以认可|予以确认|可予采纳|可以采纳|酌情采纳|本院予以|予以考虑|予以认定|属实|成立"
)
_REFUSED = re.compile(r"不予|不能|不应")
_SENTENCE = re.compile(r"[^。；;！？!?\n]+")


def circumstances(text: str) -> list[str]:
    """Sentencing circumstances found in ``text`` (canonical names, keys of CIRCUMSTANCES), in the order of
    CIRCUMSTANCES.

    A mention counts unless it is negated ("不构成自首", "不予认定…自首") or is only a party's claim
    that the court does not accept ("辩护人提出…系自首…不予采纳"): the court's finding is what
    weighs on the sentence. Articles applied (第六十七条第一款 …) also establish their circumstance."""
    found = {name for name, rx in _CIRC_RE.items() if _found_in(text, name, rx)}
    cited = set(articles(text))
    for name, arts in _CIRC_ARTICLES.items():
        if cited.intersection(arts):
            found.add(name)
    if "累犯" in found or "毒品再犯" in found:
        found.add("前科")
        found.discard("初犯")
    if "自首" in found:  # 如实供述 is part of 自首 then, not a separate 坦白
        found.discard("坦白") if not cited.intersection(_CIRC_ARTICLES["坦白"]) and not _plain(
            "坦白", text
        ) else None
    return [name for name in CIRCUMSTANCES if name in found]


def _found_in(text: str, name: str, rx: re.Pattern[str]) -> bool:
    """Whether a sentence of ``text`` mentions circumstance ``name`` (``rx``), not negated and not as a
    claim the court does not accept.

    Only the sentences where a search of the whole text lands are read: no pattern is anchored or
    looks past a sentence end, so a sentence with a match holds a match of the whole text as well (one
    that may run on into the next sentence, which is then read too). The hints rule most patterns out
    without running them at all."""
    for hint in _CIRC_HINTS[name]:
        if hint in text:
            break
    else:
        return False
    spans: list[tuple[int, int]] | None = None
    pos = 0
    while hit := rx.search(text, pos):
        if spans is None:
            spans = _sentence_spans(text)
        i = bisect_right(spans, (hit.start(), len(text))) - 1  # the sentence that holds the hit …
        if i < 0 or spans[i][1] <= hit.start():  # … or, if it is on a separator, the one after it
            i += 1
        if i >= len(spans):
            return False
        start, pos = spans[i]
        sentence = text[start:pos]
        for m in rx.finditer(sentence):
            if not _negated(sentence, m, name) and not _unheeded(sentence):
                return True
    return False


@lru_cache(maxsize=8)
def _sentence_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _SENTENCE.finditer(text)]


@lru_cache(maxsize=256)
def _unheeded(sentence: str) -> bool:
    """A party's claim that the court does not accept ("辩护人提出…系自首…不予采纳")."""
    return bool(_CLAIM.search(sentence)) and not (_ACCEPT.search(sentence) and not _REFUSED.search(sentence))


def _plain(word: str, text: str) -> bool:
    return word in text and any(
        not _negated(s.group(), m, word)
        for s in _SENTENCE.finditer(text)
        for m in re.finditer(word, s.group())
    )


_ORDERED_RETURN = re.compile(r"责令|追缴|予以|继续")
_ORDERED_PAYMENT = re.compile(r"附带民事|判令|应当|应|责令")
_NO_RECORD = re.compile(r"(无|没有|并无|不存在|未发现)[^。；，]{0,6}$")


def _negated(sentence: str, m: re.Match[str], name: str) -> bool:
    before = sentence[max(0, m.start() - 14) : m.start()]
    clause_start = max(before.rfind("，"), before.rfind(","), before.rfind("、"))
    before_clause = before[clause_start + 1 :] if name != "前科" else before[-4:]
    if name == "退赃退赔" and _ORDERED_RETURN.search(before[-6:]):
        return True
    if name == "赔偿" and _ORDERED_PAYMENT.search(before[-8:]):
        return True
    if name == "未遂" and "既遂" in before_clause:
        return True
    if name in ("前科", "初犯"):  # 无前科 / 系初犯 are opposites; "无犯罪前科" is common
        if _NO_RECORD.search(before_clause):
            return True
    elif _NEG_BEFORE.search(before_clause):
        return True
    return bool(_NEG_AFTER.search(sentence[m.end() :]))


# ---------------------------------------------------------------- amounts

_DRUGS = (
    ("甲基苯丙胺", r"甲基苯丙胺|冰毒|麻古|麻果"),
    ("海洛因", r"海洛因"),
    ("氯胺酮", r"氯胺酮|K粉"),
    ("亚甲二氧基甲基苯丙胺", r"亚甲二氧基甲基苯丙胺|MDMA|摇头丸"),
    ("可卡因", r"可卡因"),
    ("大麻", r"大麻"),
    ("鸦片", r"鸦片"),
    ("吗啡", r"吗啡"),
    ("甲卡西酮", r"甲卡西酮"),
    ("美沙酮", r"美沙酮"),
    ("芬太尼", r"芬太尼"),
    ("曲马多", r"曲马多"),
    ("三唑仑", r"三唑仑"),
    ("咖啡因", r"咖啡因"),
    ("罂粟", r"罂粟"),
)
_DRUG_ANY = re.compile("|".join(p for _, p in _DRUGS) + r"|毒品")
_DRUG_RE = tuple((name, re.compile(p)) for name, p in _DRUGS)
_TIMES = re.compile(r"\d[×x*Xｘ]")  # 2×5000元: a unit price, not an amount
_WAN = {"万": 10_000, "亿": 100_000_000}
_NOT_INJURED = re.compile(r"(不构成|未达|不属|没有|未构成|不足)[^。；，]{0,4}$")
_GRAMS = re.compile(
    rf"(?P<n>{_NUM})\s*(?P<unit>千克|公斤|克|kg|g)(?![\u4e00-\u9fa5]{{0,1}}拉)", re.IGNORECASE
)
_MONEY = re.compile(
    rf"(?P<n>\d+(?:,\d{{3}})*(?:\.\d+)?|{_NUM}(?:万{_NUM})?)\s*余?\s*(?P<wan>万|亿)?\s*余?\s*元"
)
# What _MONEY allows between the start of an amount and its 元.
_MONEY_CHARS = frozenset("0123456789０１２３４５６７８９.．,零〇○一二两三四五六七八九十百千万亿余")


def _money_in(sentence: str) -> Iterator[re.Match[str]]:
    """The matches of ``_MONEY.finditer(sentence)``, looked for only just before each 元.

    Why: run over a whole sentence, _MONEY retries at every digit of every date and time
    (2017年10月20日14时许) and backtracks through each. A match ends at the first 元 after where the
    search stands and starts no earlier than the run of amount characters before it."""
    pos = 0
    while True:
        at = sentence.find("元", pos)
        if at < 0:
            return
        start = at
        while start > pos and ((ch := sentence[start - 1]) in _MONEY_CHARS or ch.isdecimal() or ch.isspace()):
            start -= 1
        m = _MONEY.search(sentence, start, at + 1)
        if m is not None:
            yield m
        pos = at + 1


_TOTAL = re.compile(r"(共计|合计|总计|累计|总额|总价值|共|总金额|数额|金额|价值)[^。；，]{0,12}$")
_MONEY_SKIP = re.compile(
    r"(罚金|罚款|工资|月薪|月收入|好处费|报酬|奖励|收入|保证金|押金|租金|车费|路费|诉讼费|鉴定费|每[克斤])[^。；，]{0,10}$"
)
_INJURY = ("死亡", "重伤一级", "重伤二级", "重伤", "轻伤一级", "轻伤二级", "轻伤", "轻微伤")
_DEATH = re.compile(
    r"(致|造成|导致|经抢救无效|当场|抢救无效|因[^。；，]{0,12})死亡|被害人[^。；，]{0,10}死亡"
)


@dataclass(frozen=True)
class Amounts:
    """What the penalty brackets of property, drug and injury offences turn on."""

    money_yuan: float | None  # amount involved (涉案金额), the total or the largest stated
    drug_grams: float | None
    drug: str | None
    injury: str | None  # the gravest harm stated: 死亡 > 重伤一级 > … > 轻微伤


def amounts(text: str) -> Amounts:
    """The amount of money involved, the drug and its quantity, and the gravest injury in ``text``.

    Money: a stated total (共计/合计/数额…) wins, else the largest amount; fines, wages and fees are
    not the amount involved. Drugs: the largest quantity stated in a sentence naming a drug (a total
    is at least every single lot), gross weights (毛重) left out."""
    money_total: list[float] = []
    money_all: list[float] = []
    grams: list[float] = []
    drug_counts: Counter[str] = Counter()
    injury: str | None = None
    # Every amount ends in 元, every drug sentence names a drug, every injury is a 死亡 or a …伤: only
    # the sentences that hold one of them are read (found with ``str.find``, not sentence by sentence).
    spans = _sentence_spans(text)
    marks = [at for word in ("元", "死亡", "伤") for at in _occurrences(text, word)]
    any_drug = _DRUG_ANY.search(text) is not None
    if any_drug:
        marks += [m.start() for m in _DRUG_ANY.finditer(text)]
    for i in sorted({bisect_right(spans, (at, len(text))) - 1 for at in marks}):
        start, stop = spans[i]
        sentence = text[start:stop]
        for m in _money_in(sentence):
            before = sentence[max(0, m.start() - 16) : m.start()]
            if _MONEY_SKIP.search(before) or _TIMES.search(sentence[max(0, m.start() - 3) : m.start() + 1]):
                continue
            value = cn_number(m.group("n").replace(",", ""))
            if value is None or value <= 0:
                continue
            value *= _WAN.get(m.group("wan") or "", 1)
            (money_total if _TOTAL.search(before) else money_all).append(value)
        has_drug = any_drug and _DRUG_ANY.search(sentence)
        if has_drug:
            for name, pattern in _DRUG_RE:
                drug_counts[name] += len(pattern.findall(sentence))
            for m in _GRAMS.finditer(sentence):
                if "毛重" in sentence[max(0, m.start() - 8) : m.start()]:
                    continue
                value = cn_number(m.group("n"))
                if value is None:
                    continue
                unit = m.group("unit").lower()
                grams.append(value * (1000 if unit in ("千克", "公斤", "kg") else 1))
        for grade in _INJURY if "死亡" in sentence or "伤" in sentence else ():
            if grade == "死亡":
                hit = _DEATH.search(sentence)
                if hit and _NEG_BEFORE.search(sentence[max(0, hit.start() - 8) : hit.start()]):
                    hit = None
            else:
                idx = sentence.find(grade)
                hit = None
                if idx >= 0 and not _NOT_INJURED.search(sentence[max(0, idx - 8) : idx]):
                    hit = True  # type: ignore[assignment]
            if hit and (injury is None or _INJURY.index(grade) < _INJURY.index(injury)):
                injury = grade
    money = max(money_total) if money_total else (max(money_all) if money_all else None)
    drug = drug_counts.most_common(1)[0][0] if drug_counts and drug_counts.most_common(1)[0][1] else None
    return Amounts(money, max(grams) if grams else None, drug, injury)


# ---------------------------------------------------------------- people, court, year

_PERSON = r"(?:被告人|上诉人|罪犯)(?:[（(]原审被告人[)）])?"
_NAME_RE = re.compile(
    _PERSON + r"(?!的|及|均|们|等|在|对|所|系|与|和|是)"
    r"([\u4e00-\u9fa5·×XＸ*＊]{1,5}?[\u4e00-\u9fa5·×XＸ*＊甲乙丙丁戊0-9１-９]?)"
    r"(?=(?P<strong>犯|[（(]|[，,](?:男|女))|[，,。；：:]|的|系|无罪|不服|因|于|在|伙同|到案|归案|自愿|如实|明知|辩称|及其|是|对|被|曾)"
)
_NAME_STOP = {
    "本人",
    "人员",
    "家属",
    "一方",
    "双方",
    "亲属",
    "本案",
    "其",
    "某",
    "均",
    "人",
    "供述",
    "辩解",
    "辩护人",
}


def defendants(text: str) -> list[str]:
    """Defendant names after 被告人/上诉人, in order of first mention ("孙某某", "龙涛"); masked names
    are kept as written.

    Chinese names have no delimiter, so a name is confirmed by what follows it (犯…, （…, ，男); a
    candidate that merely extends a confirmed name ("戴爱军退出") is dropped."""
    return list(_defendants(text))


@lru_cache(maxsize=8)
def _defendants(text: str) -> tuple[str, ...]:
    """``defendants``, kept for the last few texts: ``record_fields`` asks for the names of the same
    judgment result three times (for itself, for ``charges`` and for ``penalty``)."""
    seen: list[str] = []
    strong: set[str] = set()
    for m in _NAME_RE.finditer(text):
        name = m.group(1)
        if len(name) < 2 or name in _NAME_STOP or name.startswith(("原审", "被告", "上诉")):
            continue
        if m.group("strong"):
            strong.add(name)
        if name not in seen:
            seen.append(name)
    out = []
    for name in seen:
        if any(name != other and name.startswith(other) for other in strong | set(seen)):
            continue
        if name not in strong and len(name) > 4:
            continue
        out.append(name)
    return tuple(out)


# A court's name starts at a boundary (the start, a space or punctuation): inside a sentence the
# characters before 人民法院 are as often the end of other words (本案综合证据临沂市…) as a name.
_COURT = re.compile(
    r"(?<![^\s，。、；：“”《》（）()])([^\s，。、；：“”《》（）()向由经在于至和及与的或者通过本被日月年0-9]{2,24}?人民法院)"
)
_COURT_REACH = 24  # the longest name before 人民法院 in _COURT
_INTERPRETATION = re.compile(r"[、《关]")


def court(text: str) -> str | None:
    """The court that gave the judgment ("…人民法院"), not the one an appeal would go to (向…提出上诉)."""
    for m in _finditer_near(_COURT, text, "人民法院", _COURT_REACH):
        before = text[max(0, m.start() - 3) : m.start()]
        if "向" in before or "直接" in before or "被" in before[-1:]:
            continue  # the court an appeal goes to, or one that convicted him before (前科)
        name = m.group(1)
        if "最高人民法院" in name and _INTERPRETATION.match(text[m.end() : m.end() + 1]):
            continue  # a judicial interpretation, not the court of this judgment
        if name.startswith(("本院", "原审", "一审", "二审", "该", "根据", "依照", "按照", "经")):
            continue
        if name.startswith(("上述", "以上", "前述", "事实", "证据", "另查明")):
            continue  # evidence cited in the facts ("上述事实有…法院…判决书证实"): another case's court
        return name
    return None


_CASE_NO = re.compile(r"[（(〔\[［]\s*((?:19|20)\d{2})\s*[)）〕\]］][^，。；\s]{1,20}?号")
_DATE = re.compile(
    r"((?:19|20)\d{2}|[二][〇○零O][一二三四五六七八九〇○零O]{2})年[0-9一二三四五六七八九十]{1,3}月"
)

_TERM_END = re.compile(r"(至|到)$")


def year(text: str) -> int | None:
    """Year of the case: from its case number ((2016)苏0508刑初123号), else the latest date stated that is
    not the end of a term (至2025年…止)."""
    m = _CASE_NO.search(text)
    if m:
        return int(m.group(1))
    years = []
    for d in _finditer_near(_DATE, text, "年", 4):
        if _TERM_END.search(text[max(0, d.start() - 2) : d.start()]):
            continue
        value = cn_number(d.group(1))
        if value and 1979 <= value <= 2100:
            years.append(int(value))
    return max(years) if years else None


# ---------------------------------------------------------------- all at once


def record_fields(
    *, title: str = "", facts: str = "", reasoning: str = "", judgment: str = "", full_text: str = ""
) -> dict[str, Any]:
    """Every field above for one document, JSON-serialisable, for the library's record.

    The judgment result names charges and the penalty authoritatively; facts and reasoning give the
    circumstances and amounts (the judgment result is left out of amounts: its fines and confiscated
    sums are not the amount involved)."""
    full = full_text or "\n".join(x for x in (title, facts, reasoning, judgment) if x)
    verdict = judgment or full
    names = defendants(verdict) or defendants(full)
    found_charges = charges(judgment) if judgment else []
    if not found_charges:
        found_charges = charges(title) or charges(reasoning) or charges(full)
    pen = penalty(verdict, names[0] if names else None) if (judgment or full_text) else None
    body = "\n".join(x for x in (facts, reasoning) if x) or full
    return {
        "charges": found_charges,
        "articles": articles(reasoning or full) or articles(full),
        "penalty": pen.as_dict() if pen else None,
        "circumstances": circumstances(body),
        "amounts": asdict(amounts(body)),
        "defendants": names,
        "court": court(full),
        "year": year(full),
    }
