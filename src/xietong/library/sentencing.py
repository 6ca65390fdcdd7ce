"""Sentencing consistency (同案不同判预警): the expected penalty of a judgment, from a per-charge model and
from the most similar judged cases, with its range, and whether the actual penalty lies far outside it.

The model is a ridge regression on ln(1 + term in months). Features: the first charge (a per-charge
intercept, shrunk toward the pooled mean for rare charges by the ridge penalty), the other charges
(数罪并罚), ln(amount of money) and ln(drug grams) with a pooled slope plus a per-charge / per-drug slope
(again shrunk toward the pooled one), the drug, the gravest injury, the sentencing circumstances, and
the statutory bracket words the court states (数额巨大, 情节严重 …). Life imprisonment and death are put
on the same scale (``KIND_MONTHS``) so one regression also decides them; a fine alone, exemption and
acquittal count as 0 months.

The regression is then blended with similar cases (类案): half weight to the median term of the 9
training cases of the same first charge nearest in ln(amount), ln(drug grams) and circumstances (the
"peers", ``Model.peers_of``), and, when text-similar cases are given (the library's similar-case
ranking), 15 % to their rank-weighted mean before that. Peers and similar cases are named as the cases
that make the estimate. On the bench (``xietong bench sentencing``) the peers and the library's extra
training cases are what moved the score; the text neighbours add little.

Every text the model reads goes through ``strip_penalty`` first, which removes the clauses that state
the case's own penalty (an appeal quoting the first-instance sentence, the recommendation, "…为宜"):
an estimate that reads the answer cannot tell whether the answer departs from comparable cases.

The range is the estimate ± the 10th/90th percentile of leave-one-out residuals of the fitted model
(exact for ridge via the hat matrix), so it says how far judgments of the training set scatter around
what the model expects, not how certain the model is.

The prosecution's sentencing recommendation (量刑建议) is NOT used by default: for consistency flagging
the question is whether a judgment departs from how comparable cases are decided, and a recommendation
that the court follows would move the expectation onto the very judgment under review and hide the
departure (the court adopts it in most cases). ``Model.fit(..., use_recommendation=True)`` exists to
measure how much it would add to plain prediction (see ``xietong bench sentencing``).
Pure module: no Django import."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from xietong.library.extract import _NUM, CIRCUMSTANCES, Amounts, Penalty, cn_number

# life and death on the months scale, so that one regression orders them after the longest fixed terms
KIND_MONTHS = {"life": 300.0, "death_reprieve": 420.0, "death": 540.0}
# a judgment is flagged when |ln(1 + actual) − ln(1 + expected)| exceeds this: (1 + actual months) more
# than 4 times, or under a quarter of, (1 + expected months). Chosen for a false-alarm rate near 6 % on
# the dev set's real judgments (6.4 %; ln 3: 12 %, ln 2: 27 %); the price is that a doubled term is
# rarely caught (10 %), a tripled or third one about a quarter of the time (23 %)
# (``xietong bench sentencing``, with the library).
FLAG_THRESHOLD = math.log(4.0)
CUSTODIAL = ("fixed_term", "criminal_detention", "public_surveillance")

# statutory bracket words (量刑幅度) a court states in its reasoning; each moves the expected penalty
_BRACKETS = (
    "数额较大",
    "数额巨大",
    "数额特别巨大",
    "情节较轻",
    "情节严重",
    "情节特别严重",
    "情节恶劣",
    "情节特别恶劣",
    "后果特别严重",
    "多次",
    "入户",
    "携带凶器",
    "持械",
    "致人重伤",
    "致人死亡",
    "致一人死亡",
    "致二人以上",
    "重大损失",
    "特别重大损失",
    "减轻处罚",
    "免除处罚",
    "从重处罚",
    "首要分子",
    "集团",
    "醉酒",
    "逃逸",
    "毒品数量大",
    "以上有期徒刑",
    "十年以上",
    "三年以上",
    "三年以下",
    "五年以下",
    "五年以上",
    "七年以上",
    "拘役",
    "缓刑",
    "不满十四周岁",
    "幼女",
    "轮奸",
    "公共场所",
)
_BRACKET_NEG = re.compile(r"(不属于?|不构成|未达到?|不能认定|不应认定|并非|不具有|不符合)[^，。；]{0,6}$")


@dataclass(frozen=True)
class Judged:
    """One judged case as the model sees it; ``text`` is the facts and reasoning (not the judgment result)."""

    id: str
    charges: tuple[str, ...]
    penalty: Penalty | None
    circumstances: tuple[str, ...]
    amounts: Amounts
    text: str = ""


@dataclass(frozen=True)
class Estimate:
    """The expected penalty and its range (months; life/death as ``kind``), with the reasons in Chinese."""

    kind: str
    months: float | None
    low: float | None
    high: float | None
    basis: list[str] = field(default_factory=list)
    neighbours: list[str] = field(default_factory=list)


def penalty_months(p: Penalty | None) -> float | None:
    """The penalty on the model's scale: the term, KIND_MONTHS for life/death, 0 without custody."""
    if p is None:
        return None
    if p.kind in KIND_MONTHS:
        return KIND_MONTHS[p.kind]
    if p.kind in CUSTODIAL:
        return float(p.months) if p.months is not None else None
    return 0.0


# the prosecution's recommendation: "建议判处…", "量刑建议…", "公诉机关关于…的量刑意见，本院予以采纳"
_REC = re.compile(r"建议|量刑意见")
_REC_PENALTY = re.compile(r"有期徒刑|拘役|管制|无期徒刑|死刑")
_DEFENCE = re.compile(r"辩护|辩解|被告人[^，。；]{0,6}(?:请求|希望)")
_EARLIER = re.compile(r"曾因|曾被|前科|刑满释放")  # an earlier conviction's term is not the recommendation
_REC_TERM = re.compile(rf"(?:(?P<y>{_NUM})年)?零?(?:(?P<m>{_NUM})个?月)?")


def recommendation(text: str) -> float | None:
    """The prosecution's sentencing recommendation in months (geometric middle of its range), if
    stated: the first sentence (up to 。 or ；) that speaks of a recommendation, names a penalty and is
    neither the defence's nor about an earlier conviction. Courts follow it in most cases (Art. 201
    CPL: in 认罪认罚 cases the court 一般应当采纳 it)."""
    for m in re.finditer(r"[^。；]+", text):
        clause = m.group()
        if not (_REC.search(clause) and _REC_PENALTY.search(clause)):
            continue
        if _DEFENCE.search(clause) or _EARLIER.search(clause):
            continue
        if "死刑" in clause and "缓期" in clause:
            return KIND_MONTHS["death_reprieve"]
        if "死刑" in clause:
            return KIND_MONTHS["death"]
        if "无期徒刑" in clause:
            return KIND_MONTHS["life"]
        values = []
        for t in _REC_TERM.finditer(clause):
            if not (t.group("y") or t.group("m")):
                continue
            y = cn_number(t.group("y")) if t.group("y") else 0.0
            mo = cn_number(t.group("m")) if t.group("m") else 0.0
            if y is None or mo is None:
                continue
            months = y * 12 + mo
            if 0 < months <= 300:
                values.append(months)
        if values:
            return math.sqrt(min(values) * max(values))
    return None


_TERM = rf"{_NUM}年(?:零?{_NUM}个?月)?|{_NUM}个?月"
# a clause that names this case's own penalty: a concrete term, life or death as a decision, probation,
# exemption, the court's "…为宜", custody credit, or the prosecution's recommendation
_OWN_PENALTY = re.compile(
    rf"(?:有期徒刑|拘役|管制)\s*(?:{_TERM})(?!以[上下内]|的幅度)"
    rf"|(?<!以上)(?<!以下)(?:{_TERM})的?(?:有期徒刑|拘役|管制)"
    r"|(?:判处|判以|处以|判决|改判|适用)[^，。；,;]{0,8}(?:死刑|无期徒刑)"
    r"|判处(?:拘役|管制)|缓期[二两2]年执行|死刑立即执行|死缓|缓刑|免[予于]刑事处罚|单处罚金|为宜"
    r"|刑期[^，。；]{0,4}(?:自|从)|折抵|幅度内量刑|建议[^，。；]{0,30}(?:判处|量刑|刑期|幅度|处以)"
)
# …unless it is about an earlier conviction (前科, 累犯), which is a fact of the case, not its outcome
_PRIOR = re.compile(r"曾因|曾于|曾被|曾经|前科|刑满释放|假释|执行完毕")
_THIS_CASE = re.compile(r"原判|原审|一审|本案|同案")
_CLAUSE = re.compile(r"[^，。；,;！？!?\n]+[，。；,;！？!?\n]?")


def strip_penalty(text: str) -> str:
    """``text`` without the clauses that state the penalty of this very case.

    Facts and reasoning often carry the answer: the first-instance sentence an appeal quotes, the
    prosecution's recommendation, the court's "判处有期徒刑三年为宜", "适用缓刑", custody credit. A model
    that reads them predicts the judgment from itself and cannot tell whether it departs from comparable
    cases, so every text the model reads passes through here. Statutory brackets ("处三年以下有期徒刑")
    and earlier convictions ("曾因盗窃罪被判处有期徒刑一年") stay: they are inputs, not the outcome."""
    kept = []
    for m in _CLAUSE.finditer(text):
        clause = m.group()
        if _OWN_PENALTY.search(clause) and not (_PRIOR.search(clause) and not _THIS_CASE.search(clause)):
            continue
        kept.append(clause)
    return "".join(kept)


def _bracket_words(text: str) -> list[str]:
    found = []
    for word in _BRACKETS:
        for m in re.finditer(word, text):
            if not _BRACKET_NEG.search(text[max(0, m.start() - 10) : m.start()]):
                found.append(word)
                break
    return found


def features(case: Judged) -> dict[str, float]:
    """The case as named numeric features (group prefix before the colon decides the ridge penalty)."""
    f: dict[str, float] = {}
    first = case.charges[0] if case.charges else "未知"
    f[f"ch:{first}"] = 1.0
    for other in case.charges[1:]:
        f[f"ch2:{other}"] = 1.0
    f["g:n_charges"] = float(max(0, len(case.charges) - 1))
    a = case.amounts
    if a.money_yuan:
        lm = math.log1p(a.money_yuan) - 9.0  # centred near 8,000 元
        f["g:money"] = lm
        f[f"chx_money:{first}"] = lm
    else:
        f["g:no_money"] = 1.0
    if a.drug_grams:
        lg = math.log1p(a.drug_grams) - 2.0
        f["g:grams"] = lg
        f[f"chx_grams:{first}"] = lg
        if a.drug:
            f[f"drugx:{a.drug}"] = lg
            f[f"drug:{a.drug}"] = 1.0
    if a.injury:
        f[f"inj:{a.injury}"] = 1.0
    for c in case.circumstances:
        f[f"circ:{c}"] = 1.0
    for w in _bracket_words(strip_penalty(case.text)):
        f[f"br:{w}"] = 1.0
    return f


# ridge penalty per feature group: pooled effects cheap, per-charge deviations dear (shrinkage)
_PENALTY = {
    "g": 1.0,
    "ch": 2.0,
    "ch2": 3.0,
    "chx_money": 8.0,
    "chx_grams": 8.0,
    "drug": 4.0,
    "drugx": 8.0,
    "inj": 2.0,
    "circ": 3.0,
    "br": 3.0,
}
# share of the given (text-)similar cases' mean: small, as the same-charge peers below already carry the
# similar-case part and text neighbours of another charge or amount mostly add noise (0.35 scored lower)
_KNN_WEIGHT = 0.15
_MIN_SIMILARITY_CASES = 3
# the nearest training cases of the same first charge (amount, drug quantity, circumstances): how many,
# the share of their median term in the estimate, and what one differing circumstance counts against
# one e-fold of amount. Chosen on the dev set's cross-validation among 5/9 × 0.2/0.35/0.5.
_PEERS = 9
_PEER_WEIGHT = 0.5
_PEER_CIRCUMSTANCE = 0.3
_REC_WEIGHT = 0.6  # share of the prosecution's recommendation, when used and stated


class Model:
    """Ridge regression on ln(1 + months) over ``features``; see the module docstring."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.coef = np.zeros(0)
        self.intercept = 0.0
        self.q_low = -0.5
        self.q_high = 0.5
        self.use_recommendation = False
        self.charge_months: dict[str, list[float]] = {}
        self.charge_kinds: dict[str, Counter[str]] = {}
        self.global_median = 12.0
        self.n = 0
        self.peers: dict[str, list[tuple[Judged, float]]] = {}

    @classmethod
    def fit(cls, cases: Iterable[Judged], *, use_recommendation: bool = False) -> Model:
        model = cls()
        model.use_recommendation = use_recommendation
        rows: list[dict[str, float]] = []
        ys: list[float] = []
        months_by_charge: dict[str, list[float]] = defaultdict(list)
        kinds: dict[str, Counter[str]] = defaultdict(Counter)
        for case in cases:
            months = penalty_months(case.penalty)
            if months is None or case.penalty is None:
                continue
            rows.append(features(case))
            ys.append(math.log1p(months))
            first = case.charges[0] if case.charges else "未知"
            months_by_charge[first].append(months)
            kinds[first][case.penalty.kind] += 1
            model.peers.setdefault(first, []).append((case, math.log1p(months)))
        model.n = len(rows)
        model.charge_months = dict(months_by_charge)
        model.charge_kinds = dict(kinds)
        if not rows:
            return model
        model.global_median = float(np.median([math.expm1(y) for y in ys]))
        for row in rows:
            for name in row:
                model.vocab.setdefault(name, len(model.vocab))
        x = np.zeros((len(rows), len(model.vocab)))
        for i, row in enumerate(rows):
            for name, value in row.items():
                x[i, model.vocab[name]] = value
        y = np.array(ys)
        model.intercept = float(y.mean())
        lam = np.array([_PENALTY.get(name.split(":", 1)[0], 1.0) for name in model.vocab])
        # ridge in its dual form (n × n), as the word features make p ≫ n: scale each column by 1/√λ
        xs = x / np.sqrt(lam)
        gram = xs @ xs.T
        alpha = np.linalg.solve(gram + np.eye(len(y)), y - model.intercept)
        model.coef = (xs.T @ alpha) / np.sqrt(lam)
        # leave-one-out residuals of ridge: e_i / (1 − h_ii), H = G (G + I)⁻¹
        hat = np.diag(gram @ np.linalg.inv(gram + np.eye(len(y))))
        resid = (y - model.intercept - x @ model.coef) / np.clip(1.0 - hat - 1.0 / len(y), 0.05, None)
        model.q_low, model.q_high = (float(q) for q in np.quantile(resid, [0.1, 0.9]))
        return model

    def _linear(self, row: dict[str, float]) -> tuple[float, list[tuple[str, float]]]:
        total = self.intercept
        parts = []
        for name, value in row.items():
            idx = self.vocab.get(name)
            if idx is not None:
                total += self.coef[idx] * value
                parts.append((name, float(self.coef[idx] * value)))
        return total, parts

    def estimate(self, case: Judged, similar: Sequence[Judged] = (), *, peers: bool = True) -> Estimate:
        """The expected penalty of ``case`` (its own penalty is not looked at), blended with ``similar``
        (the most similar judged cases by text, the case itself excluded) and, unless ``peers`` is
        False, with the training cases of the same charge nearest in amount and circumstances."""
        row = features(case)
        y, parts = self._linear(row)
        basis = self._basis(case, parts)
        rec = recommendation(case.text) if self.use_recommendation else None
        if rec is not None:
            y = (1 - _REC_WEIGHT) * y + _REC_WEIGHT * math.log1p(rec)
            basis.append(f"公诉机关量刑建议约{_fmt(rec)}，占估计权重{int(_REC_WEIGHT * 100)}%")
        neighbours: list[str] = []
        known = [(s, penalty_months(s.penalty)) for s in similar if s.id != case.id]
        known_m = [(s, m) for s, m in known if m is not None]
        if len(known_m) >= _MIN_SIMILARITY_CASES:
            first = case.charges[0] if case.charges else None
            same = [(s, m) for s, m in known_m if first and s.charges and s.charges[0] == first]
            pool = same if len(same) >= _MIN_SIMILARITY_CASES else known_m
            weights = np.array([1.0 / (1 + rank) for rank in range(len(pool))])
            ys = np.array([math.log1p(m) for _, m in pool])
            knn = float((weights * ys).sum() / weights.sum())
            y = (1 - _KNN_WEIGHT) * y + _KNN_WEIGHT * knn
            neighbours = [s.id for s, _ in pool]
            lo, hi = min(m for _, m in pool), max(m for _, m in pool)
            how = "同罪名" if pool is same else "相近案情"
            basis.append(
                f"类案{len(pool)}件（{how}），刑期{_fmt(lo)}至{_fmt(hi)}，"
                f"加权均值约{_fmt(math.expm1(knn))}，占估计权重{int(_KNN_WEIGHT * 100)}%"
            )
        nearest = self.peers_of(case) if peers else []
        if len(nearest) >= _MIN_SIMILARITY_CASES:
            median = float(np.median([py for _, py in nearest]))
            y = (1 - _PEER_WEIGHT) * y + _PEER_WEIGHT * median
            lo, hi = math.expm1(min(py for _, py in nearest)), math.expm1(max(py for _, py in nearest))
            basis.append(
                f"同罪名数额与情节最接近的{len(nearest)}件：刑期{_fmt(lo)}至{_fmt(hi)}，"
                f"中位{_fmt(math.expm1(median))}，占估计权重{int(_PEER_WEIGHT * 100)}%"
            )
            peer_ids = [p.id for p, _ in nearest]
            neighbours = peer_ids + [n for n in neighbours if n not in peer_ids]
        months = max(0.0, math.expm1(y))
        kind = self._kind(case, months)
        low = max(0.0, math.expm1(y + self.q_low))
        high = math.expm1(y + self.q_high)
        if kind in KIND_MONTHS:
            basis.append(f"估计值达到{PENALTY_LABELS[kind]}的等效刑期（{int(KIND_MONTHS[kind])}个月）")
        basis.append(f"区间为训练案例留一残差的10%至90%分位：{_fmt(low)}至{_fmt(high)}")
        return Estimate(kind, round(months, 1), round(low, 1), round(high, 1), basis, neighbours)

    def peers_of(self, case: Judged, k: int = _PEERS) -> list[tuple[Judged, float]]:
        """The ``k`` training cases of the same first charge nearest to ``case`` in ln(amount), ln(drug
        grams) and circumstances, with their ln(1 + months); the case itself (same id) excluded.

        They answer the question a judge asks (类案: same offence, similar amount, similar
        circumstances) without depending on how the facts are worded, which the text neighbours do."""
        first = case.charges[0] if case.charges else "未知"
        pool = [(c, y) for c, y in self.peers.get(first, []) if c.id != case.id]
        mine = set(case.circumstances)

        def distance(other: Judged) -> float:
            d = _PEER_CIRCUMSTANCE * len(mine ^ set(other.circumstances))
            for a, b in (
                (case.amounts.money_yuan, other.amounts.money_yuan),
                (case.amounts.drug_grams, other.amounts.drug_grams),
            ):
                if a or b:
                    d += abs(math.log1p(a or 0.0) - math.log1p(b or 0.0))
            return d

        return sorted(pool, key=lambda cy: distance(cy[0]))[:k]

    def _kind(self, case: Judged, months: float) -> str:
        """The kind on the months scale; below a year, the kind most used for the charge decides between
        有期徒刑 and 拘役 (危险驾驶罪 only allows 拘役)."""
        bounds = sorted(KIND_MONTHS.items(), key=lambda kv: kv[1])
        kind = "fixed_term"
        prev = 180.0  # the longest fixed term of one offence is 15 years (数罪并罚 up to 25)
        for name, eq in bounds:
            if months >= (prev + eq) / 2:
                kind = name
            prev = eq
        if kind != "fixed_term":
            return kind
        if months < 0.5:
            return "exempt"
        first = case.charges[0] if case.charges else ""
        counts = self.charge_kinds.get(first, Counter())
        if months <= 6.5 and counts["criminal_detention"] > counts["fixed_term"]:
            return "criminal_detention"
        return "fixed_term"

    def _basis(self, case: Judged, parts: list[tuple[str, float]]) -> list[str]:
        first = case.charges[0] if case.charges else "未知"
        seen = self.charge_months.get(first, [])
        out = []
        if seen:
            out.append(f"{first}训练案例{len(seen)}件，中位刑期{_fmt(float(np.median(seen)))}")
        else:
            out.append(f"{first}无训练案例，按全部案例（中位{_fmt(self.global_median)}）估计")
        for name, contrib in sorted(parts, key=lambda p: -abs(p[1])):
            if abs(contrib) < 0.05:
                continue
            group, _, key = name.partition(":")
            effect = f"{'+' if contrib > 0 else '−'}{abs(math.expm1(contrib)) * 100:.0f}%"
            if group == "circ":
                out.append(f"{key}：{effect}（{CIRCUMSTANCES.get(key, '')}）")
            elif group in ("g", "chx_money") and "money" in key + group and case.amounts.money_yuan:
                out.append(f"涉案金额{case.amounts.money_yuan:,.0f}元：{effect}")
            elif group in ("g", "chx_grams", "drugx") and ("grams" in key + group or group == "drugx"):
                out.append(f"毒品{case.amounts.drug or ''}{case.amounts.drug_grams:g}克：{effect}")
            elif group == "inj":
                out.append(f"{key}：{effect}")
            elif group == "br":
                out.append(f"“{key}”：{effect}")
            elif group == "ch2":
                out.append(f"并罚{key}：{effect}")
        return out[:8]


PENALTY_LABELS = {"life": "无期徒刑", "death_reprieve": "死刑缓期二年执行", "death": "死刑"}


def _fmt(months: float) -> str:
    if months >= KIND_MONTHS["life"] - 1:
        return "无期徒刑及以上"
    if months < 0.5:
        return "非监禁刑"
    return f"{months:.0f}个月"


def deviation(estimate: Estimate, actual: Penalty) -> float | None:
    """|ln(1 + actual) − ln(1 + expected)| on the months scale (life and death at KIND_MONTHS): scale-free,
    so 6 months for an expected 3 weighs like 6 years for an expected 3."""
    months = penalty_months(actual)
    if months is None or estimate.months is None:
        return None
    expected = KIND_MONTHS.get(estimate.kind, estimate.months)
    return abs(math.log1p(months) - math.log1p(expected))


def flagged(estimate: Estimate, actual: Penalty) -> bool:
    """Whether the judgment departs from the expectation by more than FLAG_THRESHOLD (偏离预警)."""
    d = deviation(estimate, actual)
    return d is not None and d > FLAG_THRESHOLD
