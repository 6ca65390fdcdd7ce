"""Suzhou geography and the names of its judicial and public-security units.

Pure reference data (no Django import) so the demo generator, tests and fixtures
can share one source of truth for county codes, towns and agency names.  The
division follows the early-2020s layout as best known (e.g. 吴江 with 4 街道 + 7 镇,
张家港 after 金港镇 was split into 金港/后塍/德积街道); functional zones that are not
townships (开发区、度假区、高铁新城 …) are deliberately left out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "CITY",
    "COUNTIES",
    "City",
    "County",
    "Town",
    "county_by_code",
    "fictitious_compound",
    "fictitious_road",
    "fictitious_venue",
]


@dataclass(frozen=True)
class Town:
    """A township-level unit (镇 or 街道); ``short`` names its 派出所 and 司法所."""

    name: str
    short: str

    @property
    def is_street(self) -> bool:
        """街道 are urban; callers use this to pick 社区 versus 村 addresses."""
        return self.name.endswith("街道")


@dataclass(frozen=True)
class County:
    """A county-level unit together with the agencies that handle its criminal cases."""

    code: str
    name: str
    short: str
    kind: str
    towns: tuple[Town, ...]
    police: str
    procuratorate: str
    court: str
    justice: str
    corrections: str
    committee: str
    police_code: str

    def town(self, name: str) -> Town:
        """Look a town up by full or short name, so fixtures can say "木渎" or "木渎镇"."""
        for town in self.towns:
            if name in (town.name, town.short):
                return town
        raise KeyError(f"{self.name}没有名为{name}的镇街")

    @property
    def unit_names(self) -> tuple[str, ...]:
        """Every county-level agency name, in the order the case flow meets them."""
        return (
            self.police,
            self.procuratorate,
            self.court,
            self.justice,
            self.corrections,
            self.committee,
        )


@dataclass(frozen=True)
class City:
    """The prefecture-level city: second-instance court, city procuratorate and so on."""

    code: str
    name: str
    police: str
    procuratorate: str
    court: str
    justice: str
    committee: str

    @property
    def unit_names(self) -> tuple[str, ...]:
        """City-level agency names, mirroring :attr:`County.unit_names`."""
        return (self.police, self.procuratorate, self.court, self.justice, self.committee)


CITY = City(
    code="320500",
    name="苏州市",
    police="苏州市公安局",
    procuratorate="苏州市人民检察院",
    court="苏州市中级人民法院",
    justice="苏州市司法局",
    committee="中共苏州市委政法委员会",
)


def _towns(*names: str) -> tuple[Town, ...]:
    """Build towns from official names; the short form drops the 镇/街道 suffix."""
    towns: list[Town] = []
    for name in names:
        for suffix in ("街道", "镇"):
            if name.endswith(suffix):
                towns.append(Town(name=name, short=name[: -len(suffix)]))
                break
        else:  # pragma: no cover - guards the literal tables below
            raise ValueError(f"not a 镇/街道 name: {name}")
    return tuple(towns)


def _district(
    code: str,
    name: str,
    towns: tuple[Town, ...],
    *,
    police: str | None = None,
    short: str | None = None,
) -> County:
    """A 市辖区: agencies are named "苏州市X区…" and police is a 分局 of the city bureau."""
    short = short or name.removesuffix("区")
    prefix = f"{CITY.name}{name}"
    return County(
        code=code,
        name=name,
        short=short,
        kind="区",
        towns=towns,
        police=police or f"{CITY.police}{short}分局",
        procuratorate=f"{prefix}人民检察院",
        court=f"{prefix}人民法院",
        justice=f"{prefix}司法局",
        corrections=f"{prefix}社区矫正管理局",
        committee=f"中共{prefix}委政法委员会",
        police_code=code,
    )


def _county_city(code: str, name: str, towns: tuple[Town, ...]) -> County:
    """A 县级市 administered by Suzhou: its agencies carry its own name, not Suzhou's."""
    return County(
        code=code,
        name=name,
        short=name.removesuffix("市"),
        kind="县级市",
        towns=towns,
        police=f"{name}公安局",
        procuratorate=f"{name}人民检察院",
        court=f"{name}人民法院",
        justice=f"{name}司法局",
        corrections=f"{name}社区矫正管理局",
        committee=f"中共{name}委政法委员会",
        police_code=code,
    )


_GUSU = _district(
    "320508",
    "姑苏区",
    _towns(
        "平江街道",
        "金阊街道",
        "沧浪街道",
        "双塔街道",
        "虎丘街道",
        "吴门桥街道",
        "苏锦街道",
        "白洋湾街道",
    ),
)

# 虎丘区 and 苏州高新区 are one administration; the police unit carries both names.
_HUQIU = _district(
    "320505",
    "虎丘区",
    _towns(
        "狮山横塘街道",
        "枫桥街道",
        "东渚街道",
        "镇湖街道",
        "浒墅关镇",
        "通安镇",
    ),
    police=f"{CITY.police}高新区（虎丘）分局",
)

_WUZHONG = _district(
    "320506",
    "吴中区",
    _towns(
        "长桥街道",
        "越溪街道",
        "郭巷街道",
        "横泾街道",
        "香山街道",
        "城南街道",
        "太湖街道",
        "甪直镇",
        "木渎镇",
        "胥口镇",
        "东山镇",
        "光福镇",
        "金庭镇",
        "临湖镇",
    ),
)

_XIANGCHENG = _district(
    "320507",
    "相城区",
    _towns(
        "元和街道",
        "太平街道",
        "黄桥街道",
        "北桥街道",
        "漕湖街道",
        "澄阳街道",
        "北河泾街道",
        "望亭镇",
        "黄埭镇",
        "渭塘镇",
        "阳澄湖镇",
    ),
)

_WUJIANG = _district(
    "320509",
    "吴江区",
    _towns(
        "松陵街道",
        "江陵街道",
        "横扇街道",
        "八坼街道",
        "同里镇",
        "平望镇",
        "盛泽镇",
        "七都镇",
        "震泽镇",
        "桃源镇",
        "黎里镇",
    ),
)

# 苏州工业园区 is not a 区 in the GB/T 2260 sense; 320571 is the code it is commonly
# registered under in national statistics.  Its party organ is a 党工委, not a 区委.
_SIP = County(
    code="320571",
    name="苏州工业园区",
    short="园区",
    kind="区",
    towns=_towns("娄葑街道", "斜塘街道", "唯亭街道", "胜浦街道", "金鸡湖街道"),
    police="苏州工业园区公安局",
    procuratorate="苏州工业园区人民检察院",
    court="苏州工业园区人民法院",
    justice="苏州工业园区司法局",
    corrections="苏州工业园区社区矫正管理局",
    committee="中共苏州工业园区工作委员会政法委员会",
    police_code="320571",
)

_CHANGSHU = _county_city(
    "320581",
    "常熟市",
    _towns(
        "虞山街道",
        "常福街道",
        "琴川街道",
        "莫城街道",
        "碧溪街道",
        "东南街道",
        "梅李镇",
        "海虞镇",
        "古里镇",
        "沙家浜镇",
        "支塘镇",
        "董浜镇",
        "辛庄镇",
        "尚湖镇",
    ),
)

_ZHANGJIAGANG = _county_city(
    "320582",
    "张家港市",
    _towns(
        "金港街道",
        "后塍街道",
        "德积街道",
        "杨舍镇",
        "塘桥镇",
        "锦丰镇",
        "乐余镇",
        "凤凰镇",
        "南丰镇",
        "大新镇",
    ),
)

_KUNSHAN = _county_city(
    "320583",
    "昆山市",
    _towns(
        "玉山镇",
        "巴城镇",
        "周市镇",
        "陆家镇",
        "花桥镇",
        "淀山湖镇",
        "张浦镇",
        "周庄镇",
        "千灯镇",
        "锦溪镇",
    ),
)

_TAICANG = _county_city(
    "320585",
    "太仓市",
    _towns(
        "娄东街道",
        "陆渡街道",
        "城厢镇",
        "沙溪镇",
        "浏河镇",
        "浮桥镇",
        "璜泾镇",
        "双凤镇",
    ),
)

COUNTIES: tuple[County, ...] = (
    _GUSU,
    _HUQIU,
    _WUZHONG,
    _XIANGCHENG,
    _WUJIANG,
    _SIP,
    _CHANGSHU,
    _ZHANGJIAGANG,
    _KUNSHAN,
    _TAICANG,
)

_BY_CODE: dict[str, County] = {county.code: county for county in COUNTIES}


def county_by_code(code: str) -> County:
    """Resolve a six-digit code (e.g. from an ID number or case number) to its county."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"苏州市没有代码为{code}的县级单位") from None


# --- fictitious micro-geography -------------------------------------------------
# Road, estate and venue names are composed from neutral stems so that generated
# addresses look local without pointing at a real household or business.

_ROAD_STEMS: tuple[str, ...] = (
    "锦华",
    "新塘",
    "翠微",
    "明德",
    "兴业",
    "和畅",
    "芳洲",
    "春晖",
    "玉兰",
    "枫林",
    "清源",
    "雅荷",
    "文澜",
    "云栖",
    "丰盛",
    "嘉禾",
    "秀水",
    "长泰",
    "安澜",
    "泰和",
    "金桂",
    "紫荆",
    "松涛",
    "仁和",
    "聚贤",
    "永宁",
    "柳溪",
    "银杏",
    "双溪",
    "望湖",
    "凤鸣",
    "石浦",
)
_ROAD_SUFFIXES: tuple[str, ...] = ("路", "路", "路", "东路", "西路", "南路", "北路", "街", "大道")
_COMPOUND_STEMS: tuple[str, ...] = (
    "锦绣",
    "阳光",
    "水岸",
    "翠湖",
    "香樟",
    "御景",
    "东篱",
    "澜庭",
    "春江",
    "绿洲",
    "荷塘",
    "枫华",
    "新城",
    "怡景",
    "云栖",
    "湖畔",
    "桂香",
    "馨苑",
)
_COMPOUND_SUFFIXES: tuple[str, ...] = ("花园", "新村", "苑", "家园", "雅苑", "名邸", "华庭", "公寓")
_VENUE_KINDS: tuple[str, ...] = (
    "购物中心",
    "商业广场",
    "农贸市场",
    "超市",
    "饭店",
    "棋牌室",
    "足浴店",
    "KTV",
    "网吧",
    "宾馆",
    "烧烤店",
    "便利店",
)


def fictitious_road(rng: random.Random) -> str:
    """A plausible but invented road name such as "枫林东路"."""
    return f"{rng.choice(_ROAD_STEMS)}{rng.choice(_ROAD_SUFFIXES)}"


def fictitious_compound(rng: random.Random) -> str:
    """An invented residential compound name such as "翠湖花园"."""
    return f"{rng.choice(_COMPOUND_STEMS)}{rng.choice(_COMPOUND_SUFFIXES)}"


def fictitious_venue(rng: random.Random, kind: str | None = None) -> str:
    """A masked venue ("某棋牌室") as written in published 起诉书, never a real business."""
    return f"某{kind or rng.choice(_VENUE_KINDS)}"
