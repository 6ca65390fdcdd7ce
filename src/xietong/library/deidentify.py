"""De-identification of judgments for the case library's published view (裁判文书脱敏).

Most readers of the case library see the published text; the original is kept for users entitled to it
(storage and permissions live elsewhere). This module only turns an original into a published text plus
the ``original → mask`` table, so that the same person is called the same thing in every section of one
judgment and an entitled reader (or an audit) can map a mask back.

What is masked, and how (conventions follow the Supreme People's Court's 2016 规定 on publishing
judgments online and the 某某 style readers of 中国裁判文书网 already know):

* Natural persons — parties, victims, witnesses, relatives, accomplices: the surname is kept and the given
  name becomes 某 (one character) or 某某 (two or more): 孙军 → 孙某, 孙建国 → 孙某某, 欧阳明华 → 欧阳某某.
  When two *different* people would get the same mask (孙建国, 孙建华), or the plain mask is already used by
  a name the source had masked itself, each of them gets 孙某甲, 孙某乙, … (then 孙某11, 孙某12, … after
  癸), numbered in order of first appearance; the suffix counter is per surname, so 孙军/孙兵/孙建国/孙建华
  give 孙某甲…孙某丁 and no mask ever stands for two people. A person known under their bare given name
  (建国说…) is masked to the same mask when that is unambiguous (see ``_bare_given_names``).
* Kept on purpose: judges, people's assessors, clerks and prosecutors (public officials acting in office,
  published by the courts themselves), and defence counsel / agents who are lawyers or legal workers
  (律师, 法律服务工作者 — the 2016 规定 keeps their names and firms). A defender who is a relative or
  friend (辩护人王某，系被告人之父) is a private person and is masked. Organisations (被告单位, 某某公司)
  are not natural persons and stay.
* Numbers: 身份证 (18 or 15 digits) keep the six region digits; mobile and landline numbers keep three
  leading digits; bank cards (16–19 digits) keep the last four; QQ/WeChat ids keep three leading
  characters; e-mail keeps the first character and the domain; plates keep province and issuing office
  (苏E12345 → 苏E*****). Separators are kept so the text reads the same.
* Addresses keep the administrative part (省/市/区/县/镇/街道/村/社区) and mask the exact part after it:
  …街道人民路100号3幢201室 → …街道某某路某号某幢某室; …村3组15号 → …村某组某号.

Not touched: amounts, dates, case numbers ((2016)苏0508刑初123号), article numbers, charges, drug weights,
company names, place names that are not exact addresses, names already masked by the source (孙某, 孙某某,
孙某甲, 魏某1, 孙××).

Person names are found from (1) the ``names`` the platform knows, (2) role words in the text (被告人,
被害人, 证人, …, lists 被告人张三、李四, kin 被害人之母王某), (3) header lines ``王某，男，`` and
(4) ``张三（另案处理）``. Where a name after a role word ends is decided by jieba on a 7-character window
only (its cut plus the dictionary's ``nr`` tags; see ``_tokens``) — segmenting the whole judgment, let
alone running ``jieba.posseg`` on it, would cost far more. Every name found once is then masked
everywhere in the document.

Known limits: a person mentioned only without any role word (汇给尹娜万元) is not found unless the
caller passes the name in ``names``; a two-character name that is also a common word (高峰, 文明) is not
taken from the text; a name jieba cuts short and that occurs once (邓俊文明知) may come out as 邓某文;
ethnic-minority names without a Han surname (买买提·艾力) are only masked when passed in ``names``.

Pure module: no Django import. jieba is imported lazily (its dictionary takes ~1 s to load).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple


@dataclass(frozen=True)
class Deidentified:
    """One published text and the table that produced it.

    ``replacements`` maps each original string that was masked to its mask. For ``deidentify_many`` it is
    the table of the whole document (the same in every section), so it can be stored once and passed back
    as ``mapping`` to keep later texts of the same case consistent. A bare given name masked as its
    person (建国 → 孙某某) is not listed separately: its person's entry (孙建国 → 孙某某) covers it.
    """

    text: str
    replacements: dict[str, str]


def deidentify(
    text: str, *, names: Iterable[str] = (), mapping: dict[str, str] | None = None
) -> Deidentified:
    """Mask one text. ``names`` are natural persons the platform knows (parties); ``mapping`` is an earlier
    ``replacements`` table of the same case whose masks must be kept (its person masks are reserved, so a
    new 孙 gets 孙某甲 rather than a second 孙某某)."""
    return _run([text], names=names, mapping=mapping)[0]


def deidentify_many(texts: Sequence[str], *, names: Iterable[str] = ()) -> list[Deidentified]:
    """Mask several sections of ONE judgment (facts, reasoning, result) with one mapping: a person found
    in any section is masked in all of them, and same-surname collisions are resolved over the whole
    document."""
    return _run(list(texts), names=names, mapping=None)


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


# --- surnames ------------------------------------------------------------------------------------------

# 百家姓 plus common modern ones. Characters that are far more often words than surnames (是, 有, 之) are
# left out; the rest are safe because a name also needs a role word and jieba's agreement.
_SINGLE_SURNAMES = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"
    "鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平"
    "黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童"
    "颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔"
    "吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰"
    "秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴"
    "郁胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连"
    "茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷"
    "訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相查荆红游竺权逯盖益桓公岳帅缑亢况琴商牟佘佴伯赏墨哈谯笪年"
    "覃闫邸付仝揭粟练兰代过晋楚涂肖卿衣阳麦甯禤冼庹尉玉银信但税来原修展迟战亓靖栗户芦苟操缪"
)
_COMPOUND_SURNAMES = _words(
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 宗政 濮阳 "
    "公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 "
    "壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 南门 羊舌 微生 梁丘 左丘 "
    "西门 第五 东里 即墨 达奚 褚师"
)
_SURNAME_FIRST = _SINGLE_SURNAMES | {s[0] for s in _COMPOUND_SURNAMES}
_SURNAME_ALT = "|".join(sorted(_COMPOUND_SURNAMES)) + "|[" + "".join(sorted(_SINGLE_SURNAMES)) + "]"

_CJK = r"\u4e00-\u9fff"
_MASK_CHARS = "某×ｘxXＸ*＊○〇"
# A name the source already masked: 孙某, 孙某某, 孙某甲, 魏某1, 孙××.
# 李甲/李乙 are the courts' own pseudonyms; 丁 is left out as it is a common given name.
_PSEUDONYM_STEMS = "甲乙丙戊己庚辛壬癸"
_MASKED_AT = re.compile(
    rf"(?:{_SURNAME_ALT})(?:[{_MASK_CHARS}][{_MASK_CHARS}甲乙丙丁戊己庚辛壬癸0-9]*|[{_PSEUDONYM_STEMS}])"
)
_STEMS = "甲乙丙丁戊己庚辛壬癸"


_MOU_RUN = re.compile(r"某[某甲乙丙丁戊己庚辛壬癸0-9]*")


def _masks_in(text: str) -> Iterator[str]:
    """Masks of the 某 kind already in the text (孙某某, 欧阳某甲, 魏某1)."""
    for m in _MOU_RUN.finditer(text):
        s = m.start()
        if text[max(0, s - 2) : s] in _COMPOUND_SURNAMES:
            yield text[s - 2 : m.end()]
        elif s and text[s - 1] in _SINGLE_SURNAMES:
            yield text[s - 1 : m.end()]


def _split_name(name: str) -> tuple[str, str]:
    """(surname, given). A compound surname needs at least one given character after it: 欧阳 alone is
    欧 + 阳."""
    if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def _base_mask(name: str) -> str:
    surname, given = _split_name(name)
    return surname + ("某" if len(given) <= 1 else "某某")


# --- jieba ------------------------------------------------------------------------------------------------


class _Token(NamedTuple):
    word: str
    flag: str  # the dictionary's POS tag; "un" for a word jieba's HMM made up (mostly names)


@cache
def _jieba() -> tuple[Callable[[str], list[str]], dict[str, int], dict[str, str]]:
    """jieba.lcut, word frequencies, dictionary POS tags; loaded once, on first use."""
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.lcut, jieba.dt.FREQ, jieba.posseg.dt.word_tag_tab


def _tokens(window: str) -> list[_Token]:
    """Words of ``window`` with dictionary tags. Not ``jieba.posseg``: its joint POS HMM costs ~7 ms
    per unknown name (100× the plain cut) and the plain cut already keeps 吴勇艺 or 郭海平 whole as a new
    word, which is what a name looks like to jieba."""
    lcut, _, tags = _jieba()
    return [_Token(w, tags.get(w) or ("un" if _is_cjk(w) else "x")) for w in lcut(window)]


# Words jieba tags ``nr`` (or that look like surname + given) right after role words in real judgments
# but are not names: 被告人陈述, 被害人高度…
_NOT_NAMES = _words(
    "陈述 陈某 文明 全脑 全身 全部 全体 从宽 暨附带 支付宝 银行卡 高度 高明 常年 金额 于是 时候 "
    "时间 明知 平时 方面 单位 司机 向其 和解 任何 曾经 "
    "马上 周围 黄金 万元 钱款 钱财 江湖 林地 田地 余额 余款 余名 华人 宁可 齐全 关系 包括 包庇 应当 "
    "应该 应予 成立 成功 成年 经过 经济 路过 路上 路边 车辆 车上 车内 房屋 房间 房子 家中 家里 家属 "
    "家人 强行 强迫 强制 强奸 连续 连同 尚未 尚不 何时 何处 苏醒 温某 申请 申辩 申诉 都是 都有 毛病 "
    "贾某 甘愿 安全 安排 安装 牛某 石头 米某 龙某 谈话 谈判 夏天 白天 白色 黑色 红色 蓝色 花费 花钱 "
    "于某 付款 付钱 支付 卢某 卓某 管理 管制 管控 左右 左侧 右侧 东西 东侧 西侧 南侧 北侧 童年 童某 "
    "邓某 武器 武力 能够 能力 通过 通知 通话 代为 代替 过程 过来 过去 来到 来往 原因 原来 原判 原审 "
    "信息 信用 展开 战友 靖某 栗某 户口 户籍 操作 商量 商定 商店 年龄 年幼 岳母 岳父 公安 公司 公款 "
    "公诉 公开 国家 东方 司法 乐意 和好 和平 从中 从事 从而 从未 相关 相互 相识 相约 查获 查明 查实 "
    "查处 查看 红包 游戏 盖章 益处 关押 明显 明确 时某 钟某 解释 解除 应某 宗某 单某 单独 包括 诸如 "
    "石某 吉某 车某 毕竟 危害 危险 江某 童某 雷某 万某 支持 伍某 元某 平常 平安 顾客 孟某 米某 计算 "
    "成员 成为 谈及 舒适 屈某 项目 祝某 董事 麻醉 强某 路某 娄某 常某 乐某 于某 时某 傅某 皮某 卞某"
)
# POS tags that cannot be the given name after a lone surname token (prepositions, particles, numbers…).
_NOT_GIVEN_TAGS = _words("p c u uj ul ud ug uv uz d m mq x r f q y e o w eng t v vd")
# Surname characters that, right after a role word, are far more often a function word (被告人将…,
# 被告人能…) — and tags that mark such a use.
_LONE_NOT_SURNAME = frozenset("能应会要可是都也还又再已将对于和与向从把被在为经由")
_LONE_NOT_SURNAME_TAGS = _words("p c u uj ul ud ug uv uz d m x")
# After 和/及/与 in a list only name-like tags count (与孙 / 建华(nz), not 与 / 同事).
_GIVEN_TAGS_STRICT = _words("nr nrfg nrt nz ns ng un")


# --- person detection --------------------------------------------------------------------------------------

_ROLES = _words(
    "附带民事诉讼原告人 附带民事诉讼被告人 委托诉讼代理人 原审附带民事诉讼原告人 "
    "原审被告人 原审上诉人 原审原告人 "
    "被上诉人 上诉人 被告人 被害人 受害人 证人 法定代理人 诉讼代理人 委托代理人 辩护人 同案犯 同案人 "
    "犯罪嫌疑人 嫌疑人 报案人 报警人 告诉人 自诉人 原告人 原告 被告 申诉人 罪犯 被执行人 举报人 见证人 "
    "辨认人 证明人 被申请人 申请人 当事人 鉴定人 监护人 被监护人 被害方 死者"
)
_KIN = _words(
    "父亲 母亲 妻子 丈夫 儿子 女儿 哥哥 姐姐 弟弟 妹妹 胞兄 胞弟 胞姐 胞妹 亲属 家属 朋友 同事 女友 男友 "
    "邻居 爷爷 奶奶 外婆 外公 祖父 祖母 父 母 妻 夫 子 女 兄 姐 弟 妹"
)
# Lawyers and legal workers acting as counsel keep their names (2016 规定).
_COUNSEL_ROLES = frozenset({"辩护人", "诉讼代理人", "委托代理人", "委托诉讼代理人"})
_PROFESSIONAL = re.compile(r"律师|法律服务|法律援助|法律工作者")
_TRIGGER_KIN = _words(
    "父亲 母亲 妻子 丈夫 儿子 女儿 哥哥 姐姐 弟弟 妹妹 岳父 岳母 表哥 表弟 表姐 表妹 堂兄 堂弟 侄子 外甥 "
    "女婿 儿媳 前妻 前夫 老公 老婆 男友 女友 朋友 同事"
)

_Trie = dict[str, "_Trie"]


def _literal_alternation(words: Iterable[str]) -> str:
    """A pattern matching the longest of ``words`` at each place, as ``"|".join(longest first)`` does,
    written as a trie (其(?:妻(?:子)?|夫|…)) so ``re`` tries one branch per character instead of every
    word that starts with 的 or 其 — the commonest characters of a judgment."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: _Trie) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(branches) == 1 else f"{body}?"  # greedy: the longer word first

    return pattern(trie)


# One alternation of plain words (role words, 伙同李四, 其妻王秀英, 的妻子王秀英): kept free of lookarounds
# and with a literal first character in every branch, so ``re`` can skip ahead on its first characters;
# the kin suffix is matched afterwards.
_ROLE_RE = re.compile(
    _literal_alternation(
        {*_ROLES, "伙同", "纠集", "指使", "雇佣"}
        | {f"其{k}" for k in _KIN}
        | {f"的{k}" for k in _TRIGGER_KIN}
    )
)
_KIN_SUFFIX = re.compile(rf"(?:[之的]?(?:{'|'.join(sorted(_KIN, key=len, reverse=True))}))?[:：]?")
# 王某某，男，… — whoever has a sex is a natural person; the name must stand alone before the comma.
_SEX_RE = re.compile(r"[，,]\s*[男女][，,。；;]")
_NAME_DELIMS = frozenset(" \t\r\n\u3000：:，,。；;、（(")
_ASIDE_RE = re.compile(
    r"[（(](?:均)?(?:另案|已判|在逃|已死亡|死亡|未到案|不起诉|已起诉|另行|已被|已作|已处理|批捕|取保)"
)


_ORG_AFTER = re.compile(
    r"房地产|公司|集团|有限|实业|贸易|科技|置业|物流|商贸|投资|园林|酒店|宾馆|商行|超市|工厂|厂|店|中心"
)
_WINDOW_END = re.compile(r"[\s，,。；;：:、（）()“”\"]")
_CLAUSE_END = re.compile(r"[。；;\n]")


class _Found(NamedTuple):
    name: str | None  # None: a name the source had already masked (still ends a list item)
    end: int


def _is_cjk(s: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in s)


def _valid_name(cand: str) -> bool:
    if not (2 <= len(cand) <= 4) or not _is_cjk(cand) or cand in _NOT_NAMES:
        return False
    surname, given = _split_name(cand)
    if surname not in _SINGLE_SURNAMES and surname not in _COMPOUND_SURNAMES:
        return False
    if given[:1] in _PSEUDONYM_STEMS:
        return False
    return 1 <= len(given) <= 2 and not any(c in _MASK_CHARS for c in given)


# A one-character given name is never a particle: 被告人方有…, 被告人代其…, 时所….
_NOT_GIVEN_CHARS = frozenset("其有已所的了着过是在为之与和及或等把被将对向从")


def _plausible(cand: str) -> bool:
    """A detected name, not just a well-formed one: a common two-character word is not taken as a name
    (被害人高峰 is lost, but 自诉人玉米38460斤 would otherwise mask 玉米 throughout)."""
    if not _valid_name(cand) or (len(cand) == 2 and cand[1] in _NOT_GIVEN_CHARS):
        return False
    return not (len(cand) == 2 and _jieba()[1].get(cand, 0) >= 1000)


class _Finder:
    """Finds person names in the texts of one document. A judgment repeats 被告人孙建国 dozens of times,
    so a name once found is recognised again without jieba."""

    def __init__(self) -> None:
        self.explicit: dict[str, None] = {}  # the caller's ``names``, taken as they are
        self.names: dict[str, None] = {}  # ordered set
        self.counsel: dict[str, None] = {}  # found only after 辩护人/代理人
        self.lawyers: set[str] = set()  # counsel shown to be a lawyer or legal worker somewhere
        self._known: dict[str, set[str]] = {}  # names found so far, by first character

    def scan(self, text: str) -> None:
        size = len(text)
        for m in _ROLE_RE.finditer(text):
            end = _KIN_SUFFIX.match(text, m.end()).end()  # type: ignore[union-attr]  # always matches
            if end >= size or text[end] not in _SURNAME_FIRST:
                continue  # no name can start here (the first test of ``_name_at``)
            found = self._list_at(text, end, strict=False)
            if not found:
                continue
            if m.group() in _COUNSEL_ROLES:
                clause = _CLAUSE_END.split(text[end : end + 60], maxsplit=1)[0]
                if _PROFESSIONAL.search(clause):
                    self.lawyers.update(found)
                self.counsel.update(dict.fromkeys(found))
                continue
            self.names.update(dict.fromkeys(found))
        for m in _SEX_RE.finditer(text):
            start = m.start()
            begin = start
            while begin > 0 and start - begin < 5 and text[begin - 1] not in _NAME_DELIMS:
                begin -= 1
            cand = text[begin:start]
            if (begin == 0 or text[begin - 1] in _NAME_DELIMS) and _plausible(cand):
                self.names.setdefault(cand, None)
        for m in _ASIDE_RE.finditer(text):
            self._before(text, m.start())

    def persons(self, texts: Sequence[str]) -> list[str]:
        """The natural persons to mask, in order of first appearance in ``texts``.

        Counsel stay unmasked only when shown to be lawyers (律师 …) somewhere in the document: a
        relative or friend acting as 辩护人 is a private person. A short name whose every occurrence
        continues with the same character (胡承 + 高尚有, 胡承 + 高于) was cut by jieba inside the name and
        is taken with that character; a short name that is the start of a longer name found elsewhere is
        dropped, so 郭海平 is not left as 郭某平.
        """
        found = dict(self.names)
        found.update((n, None) for n in self.counsel if n not in self.lawyers)
        whole = "\n".join(texts)
        names = dict.fromkeys(_complete(n, whole) for n in found if n not in self.explicit)
        for short in [n for n in names if len(n) == 2]:
            for long in [n for n in [*names, *self.explicit] if len(n) == 3 and n.startswith(short)]:
                # 郭海 always followed by 平: jieba cut 郭海平 short. 张超 also followed by other
                # characters: 张超经(电话) was cut too long.
                if _always_followed_by(whole, short, long[2]):
                    names.pop(short, None)
                elif long in names:
                    names.pop(long)
        out = dict.fromkeys(self.explicit)
        out.update(names)
        first = {n: whole.find(n) for n in out}
        return sorted((n for n in out if first[n] >= 0), key=first.__getitem__)

    def _list_at(self, text: str, pos: int, *, strict: bool) -> list[str]:
        """Names at ``pos`` and any that follow as a list (、 or 和/及/与 + a name jieba agrees on)."""
        out: list[str] = []
        for _ in range(12):
            found = self._name_at(text, pos, strict=strict)
            if found is None:
                break
            if found.name:
                out.append(found.name)
            pos = found.end
            sep = text[pos : pos + 1]
            if sep == "、":
                pos += 1
            elif sep in ("和", "及", "与") and sep:
                pos += 1
                strict = True
            else:
                break
        return out

    def _name_at(self, text: str, pos: int, *, strict: bool) -> _Found | None:
        if pos >= len(text) or text[pos] not in _SURNAME_FIRST:
            return None
        masked = _MASKED_AT.match(text, pos)
        if masked:
            return _Found(None, masked.end())
        # A name already found, followed by punctuation or a word that ends names (孙建国在…, 孙建国、):
        # no need to ask jieba again.
        for name in self._known.get(text[pos], ()):
            after = text[pos + len(name) : pos + len(name) + 1]
            if text.startswith(name, pos) and (not after or after in _TAIL_STOPS or not _is_cjk(after)):
                return _Found(name, pos + len(name))
        cut = _WINDOW_END.search(text, pos, pos + 7)
        window = text[pos : cut.start() if cut else pos + 7]
        found = _name_in_window(window, strict=strict)
        if found and _ORG_AFTER.match(text, pos + len(found)):
            return None  # 伙同金伟房地产公司: a company named after a place or a person
        if found:
            self._known.setdefault(found[0], set()).add(found)
        return _Found(found, pos + len(found)) if found else None

    def _before(self, text: str, end: int) -> None:
        """张三（另案处理）, 张三、李四（均另案处理）: the name(s) right before the bracket."""
        for _ in range(6):
            name = _name_ending(text[max(0, end - 8) : end])
            if name is None:
                return
            self.names.setdefault(name, None)
            end -= len(name)
            if end == 0 or text[end - 1] != "、":
                return
            end -= 1


# Characters that follow a name in judgments and that jieba sometimes glues to it (谈振系 = 谈振 + 系).
_TAIL_STOPS = frozenset(
    "系称说在因于将把被向对等的是到也又还就均都已曾即便遂亦供持驾伙及犯处家一二两三经虽仍却并再才尚"
)


def _complete(name: str, whole: str) -> str:
    """胡承 → 胡承高 when every one of two or more occurrences continues with 高."""
    if len(name) != 2 or name[:1] not in _SINGLE_SURNAMES or whole.count(name) < 2:
        return name
    c = whole[whole.find(name) + 2 : whole.find(name) + 3]
    if c and c not in _TAIL_STOPS and _is_cjk(c) and _always_followed_by(whole, name, c):
        return name + c
    return name


def _always_followed_by(whole: str, name: str, c: str) -> bool:
    start = whole.find(name)
    while start >= 0:
        if whole[start + len(name) : start + len(name) + 1] != c:
            return False
        start = whole.find(name, start + 1)
    return True


@lru_cache(maxsize=65536)
def _name_in_window(window: str, *, strict: bool) -> str | None:
    """The person name at the start of ``window`` (text right after a role word), or None."""
    if len(window) < 2:
        return None
    tokens = _tokens(window)
    t0 = tokens[0]
    t1 = tokens[1] if len(tokens) > 1 else None
    word, flag = t0.word, t0.flag
    cand = None
    is_surname = word in _SINGLE_SURNAMES or word in _COMPOUND_SURNAMES
    if (flag.startswith("nr") or flag == "un") and 2 <= len(word) <= 4 and not is_surname:
        cand = word
        surname, given = _split_name(word)
        # A lone following character may be the rest of the given name: jieba cuts 龚国平利用 as
        # 龚国 + 平 + 利用 and 欧阳明华陈述 as 欧阳明 + 华 + 陈述.
        joins = (
            t1 is not None
            and len(t1.word) == 1
            and _is_cjk(t1.word)
            and t1.flag not in _NOT_GIVEN_TAGS
            and t1.word not in _TAIL_STOPS
        )
        if len(surname) == 1 and len(given) == 2 and given[1] in _TAIL_STOPS:
            cand = word[:2]  # 谈振系 = 谈振 + 系
        elif joins and len(given) == 1 and t1 is not None:
            cand = word + t1.word
    elif is_surname and t1 and word not in _LONE_NOT_SURNAME and flag not in _LONE_NOT_SURNAME_TAGS:
        # A lone surname token followed by the given name: 王 / 秀英, 李 / 桂兰(ns), 赵 / 小龙, 谢 / 建国.
        # jieba tags a lone surname nr, zg, ns or even v (谢, 顾, 付), so its tag says little.
        ok_tag = t1.flag in _GIVEN_TAGS_STRICT if strict else t1.flag not in _NOT_GIVEN_TAGS
        if ok_tag and 1 <= len(t1.word) <= 2 and _is_cjk(t1.word):
            cand = word + t1.word
    if cand is None or not _plausible(cand):
        return None
    return cand


@lru_cache(maxsize=8192)
def _name_ending(window: str) -> str | None:
    """The person name at the end of ``window``: the longest valid tail that starts on a jieba token
    boundary with a name token or a lone surname (伙同 / 钱伟, 同案犯 / 赵 / 小龙)."""
    tokens = _tokens(window)
    starts = []
    pos = 0
    for tok in tokens:
        starts.append((pos, tok))
        pos += len(tok.word)
    for start, tok in starts:  # leftmost start = longest tail
        cand = window[start:]
        if not _plausible(cand):
            continue
        if tok.flag in ("nr", "un") or tok.word in _SINGLE_SURNAMES or tok.word in _COMPOUND_SURNAMES:
            return cand
    return None


# --- mask assignment ----------------------------------------------------------------------------------------


def _person_like(original: str, mask: str) -> bool:
    """A ``mapping`` entry that stands for a person (as opposed to a phone number or an address)."""
    return _valid_name(original) and mask.startswith(_split_name(original)[0] + "某")


def _assign(persons: Iterable[str], fixed: dict[str, str], taken: set[str]) -> dict[str, str]:
    """Masks for new persons, in order of appearance; see the module docstring for the convention."""
    groups: dict[str, list[str]] = {}
    for name in persons:
        if name not in fixed:
            groups.setdefault(_base_mask(name), []).append(name)
    used = set(taken) | set(fixed.values())
    out: dict[str, str] = {}
    for base, members in groups.items():
        if len(members) == 1 and base not in used:
            out[members[0]] = base
            used.add(base)
            continue
        surname = _split_name(members[0])[0]
        for name in members:
            mask = next(m for m in _suffixed(surname) if m not in used)
            out[name] = mask
            used.add(mask)
    return out


def _suffixed(surname: str) -> Iterator[str]:
    for stem in _STEMS:
        yield f"{surname}某{stem}"
    n = 11
    while True:
        yield f"{surname}某{n}"
        n += 1


def _bare_given_names(masks: dict[str, str]) -> dict[str, str]:
    """Given names safe to mask on their own (建国说…): two or more characters, belonging to one person
    only, and not a common word (jieba knows 建国 as a word, 小龙 is also 小龙虾) — a rare or name-tagged
    word only."""
    _, freq, tags = _jieba()
    owners: dict[str, list[str]] = {}
    for name in masks:
        given = _split_name(name)[1]
        if len(given) >= 2:
            owners.setdefault(given, []).append(name)
    out: dict[str, str] = {}
    for given, names in owners.items():
        if len(names) != 1 or given in masks:
            continue
        known = freq.get(given, 0)
        if known == 0 or (tags.get(given, "").startswith("nr") and known < 500):
            out[given] = masks[names[0]]
    return out


# --- patterns: numbers, plates, addresses --------------------------------------------------------------


def _keep(s: str, head: int = 0, tail: int = 0) -> str:
    """Star out the digits/letters of ``s`` except the first ``head`` and last ``tail``; separators stay."""
    idx = [i for i, c in enumerate(s) if c.isalnum()]
    hide = set(idx[head : len(idx) - tail if tail else None])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


# Every number pattern starts with a plain character class and checks the character before it with a
# two-wide lookbehind, so ``re`` skips through the text in C instead of trying a lookbehind everywhere.
_NB = r"(?<![0-9A-Za-z].)"
_NA = r"(?![0-9A-Za-z])"
_ID_RE = re.compile(
    rf"[1-9]{_NB}\d{{5}}(?:(?:18|19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{{3}}[\dXx]"
    rf"|\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{{3}}){_NA}"
)
_CARD_RE = re.compile(rf"[0-9]{_NB}(?:\d{{15,18}}|\d{{3}}(?: \d{{4}}){{3}}(?: \d{{1,3}})?){_NA}")
_CARD_CONTEXT = re.compile(r"卡|账号|账户|帐号|帐户")
_MOBILE_RE = re.compile(r"1(?<![0-9A-Za-z.．].)[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z元万亿克吨])")
_LANDLINE_RE = re.compile(rf"0{_NB}\d{{2,3}}[)）]?[-－—]?[2-9]\d{{6,7}}(?:-\d{{1,4}})?{_NA}")
_PLATE_RE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼](?<![A-Za-z].)[A-Z]"
    r"[·•．.\s-]?(?=[A-Z0-9]*\d)[A-Z0-9]{5,6}(?![A-Za-z0-9])"
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_QQ_RE = re.compile(r"(?:QQ|qq|ＱＱ)(?:号码|号|账号)?[:：\s]*(?:为|是)?[:：\s]*(\d{5,11})(?!\d)")
_WECHAT_RE = re.compile(
    r"微信(?:号码|账号|号|ID|id)[:：\s]*(?:为|是)?[:：\s]*([A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])"
)

_NUM = r"(?:[0-9０-９]+|[一二三四五六七八九十百零〇]+)"
_DETAIL = rf"{_NUM}(?:[-－—之]{_NUM})*(?:号楼|号院|号|幢|栋|单元|室|层|楼|组|弄|排|户|座)"
_ADMIN_ANCHORS = ("村委会", "居委会", "社区", "街道", "村", "组", "镇", "乡")
_ADDRESS_RE = re.compile(
    r"(?P<anchor>村委会|居委会|社区|街道|大道|大街|胡同|小区|花园|公寓|新村|家园|大厦|广场|"
    r"路|街|巷|弄|苑|园|城|村|组|镇|乡)"
    rf"(?P<detail>(?:{_DETAIL})+)"
)
# Where a street name starts: after an administrative unit or a word that introduces a place.
_STREET_START = re.compile(
    r".*(?:街道办事处|街道|社区|开发区|新区|园区|省|市|区|县|旗|镇|乡|村|住|在|于|至|到|往|经|从|沿|位|及|和|与|的|址|近|旁|是|系|为)"
)


# Every identity, card and phone number starts with an ASCII digit, then has two or three digits, a
# separator at most and four digits more; every plate has an ASCII capital; QQ and WeChat ids follow
# their names. Most sections have none of them, and a search or two over the text tells, instead of one
# run of each pattern.
_LONG_NUMBER = re.compile(r"[0-9]\d{2,3}[- ]?\d{4}")
_CAPITAL = re.compile(r"[A-Z]")
_DETAIL_NUMBER = re.compile(_NUM + r"(?:[-－—之]" + _NUM + ")*")
_CJK_TAIL = re.compile(rf"[{_CJK}]*$")


def _pattern_spans(text: str) -> Iterator[tuple[int, int, str]]:
    if _LONG_NUMBER.search(text):
        yield from _number_spans(text)
    for m in _PLATE_RE.finditer(text) if _CAPITAL.search(text) else ():
        s = m.group()
        yield m.start(), m.end(), s[:2] + _keep(s[2:])
    for m in _EMAIL_RE.finditer(text) if "@" in text else ():
        local, _, domain = m.group().partition("@")
        yield m.start(), m.end(), f"{local[0]}***@{domain}"
    for rx, named in ((_QQ_RE, "QQ" in text or "qq" in text or "ＱＱ" in text), (_WECHAT_RE, "微信" in text)):
        for m in rx.finditer(text) if named else ():
            s = m.group(1)
            yield m.start(1), m.end(1), s[:3] + "*" * (len(s) - 3)
    for m in _ADDRESS_RE.finditer(text):
        detail = _DETAIL_NUMBER.sub("某", m.group("detail"))
        anchor = m.group("anchor")
        if anchor in _ADMIN_ANCHORS:
            yield m.start("detail"), m.end(), detail
            continue
        start = m.start()
        left = text[max(0, start - 6) : start]
        lead = len(left) - len(_CJK_TAIL.search(left).group())  # type: ignore[union-attr]
        cut = _STREET_START.match(left, lead)
        begin = max(0, start - 6) + (cut.end() if cut else lead)
        yield begin, m.end(), ("某某" if begin < start else "") + anchor + detail


def _number_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Identity, bank card, mobile and landline numbers."""
    for m in _ID_RE.finditer(text):
        s = m.group()
        if _CARD_CONTEXT.search(text, max(0, m.start() - 10), m.start()):
            yield m.start(), m.end(), _keep(s, tail=4)
        else:
            yield m.start(), m.end(), s[:6] + "*" * (len(s) - 6)
    for m in _CARD_RE.finditer(text):
        yield m.start(), m.end(), _keep(m.group(), tail=4)
    for rx in (_MOBILE_RE, _LANDLINE_RE):
        for m in rx.finditer(text):
            yield m.start(), m.end(), _keep(m.group(), head=3)


# --- putting it together ------------------------------------------------------------------------------------


def _run(texts: list[str], *, names: Iterable[str], mapping: dict[str, str] | None) -> list[Deidentified]:
    table = dict(mapping or {})
    fixed = {k: v for k, v in table.items() if _person_like(k, v)}
    literal = {k: v for k, v in table.items() if k and k not in fixed}

    finder = _Finder()
    for name in names:
        name = name.strip()
        if len(name) >= 2 and not any(c in _MASK_CHARS for c in name[1:]):
            finder.explicit.setdefault(name, None)
    for text in texts:
        finder.scan(text)
    present = [n for n in finder.persons(texts) if n not in literal]

    # Masks the source already used (孙某某 in a pre-masked text) and every mask of ``mapping`` are
    # reserved, so no mask ends up standing for two people (looked for only when someone needs a mask).
    taken = ({mask for t in texts for mask in _masks_in(t)} | set(table.values())) if present else set()
    masks = {**fixed, **_assign(present, fixed, taken)}
    given = _bare_given_names(masks) if masks else {}
    results: list[tuple[str, dict[str, str]]] = []
    for text in texts:
        spans: list[_Span] = []
        spans += [_Span(0, a, b, literal[w]) for w, a, b in _occurrences(text, literal)]
        spans += [_Span(1, a, b, mask) for a, b, mask in _pattern_spans(text)]
        spans += [_Span(2, a, b, masks[w]) for w, a, b in _occurrences(text, masks)]
        spans += [
            _Span(3, a, b, given[w], record=False)
            for w, a, b in _occurrences(text, given)
            if not (a and text[a - 1] in _BLOCKERS)  # 李建国 is not 孙建国's 建国
        ]
        results.append(_apply(text, spans))
    for _, used in results:
        table.update(used)
    return [Deidentified(text=out, replacements=dict(table)) for out, _ in results]


class _Span(NamedTuple):
    priority: int  # lower wins on overlap: the caller's mapping, then numbers/addresses, then names
    start: int
    end: int
    mask: str
    record: bool = True  # listed in ``replacements``


def _occurrences(text: str, words: Iterable[str]) -> Iterator[tuple[str, int, int]]:
    """Every occurrence of every word (overlaps included; ``_apply`` keeps the longest). ``str.find``
    beats compiling a fresh alternation per document."""
    for word in words:
        start = text.find(word)
        while start >= 0:
            yield word, start, start + len(word)
            start = text.find(word, start + 1)


# Surname characters that are more often prepositions or conjunctions before a bare given name
# (和建国一起, 叫建国): they do not stop 建国 from being masked.
_NOT_BLOCKING = frozenset("和于从向与同时及跟给叫让找对")
_BLOCKERS = _SURNAME_FIRST - _NOT_BLOCKING


def _apply(text: str, spans: list[_Span]) -> tuple[str, dict[str, str]]:
    """Apply non-overlapping spans; on overlap the lower priority wins, then the earlier, then the longer."""
    if not spans:
        return text, {}
    spans.sort(key=lambda sp: (sp.priority, sp.start, sp.start - sp.end))
    busy = bytearray(len(text))
    chosen: list[_Span] = []
    for sp in spans:
        if busy.find(1, sp.start, sp.end) == -1:
            busy[sp.start : sp.end] = b"\x01" * (sp.end - sp.start)
            chosen.append(sp)
    chosen.sort(key=lambda sp: sp.start)
    out: list[str] = []
    used: dict[str, str] = {}
    pos = 0
    for sp in chosen:
        out.append(text[pos : sp.start])
        out.append(sp.mask)
        original = text[sp.start : sp.end]
        if sp.record and original != sp.mask:
            used[original] = sp.mask
        pos = sp.end
    out.append(text[pos:])
    return "".join(out), used
