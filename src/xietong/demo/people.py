"""Fictitious persons for demo data: names, resident ID numbers, addresses, phones.

Everything is drawn from an explicit ``random.Random`` so a seed reproduces the
same demo database.  Names are random surname/given-name pairings and ID numbers
carry a random sequence code, so any resemblance to a real person is chance.
"""

from __future__ import annotations

import random
from datetime import date

from xietong.demo.suzhou import County, Town, fictitious_compound, fictitious_road

__all__ = [
    "GENDERS",
    "SURNAMES",
    "fictitious_address",
    "fictitious_id_number",
    "fictitious_name",
    "fictitious_phone",
    "id_check_digit",
]

GENDERS: tuple[str, str] = ("男", "女")

# (surname, weight): national frequency ranks, with the 吴语-area surnames
# (沈、顾、陆、钱、姚、俞 …) nudged up because the demo city is Suzhou.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1),
    ("李", 7.0),
    ("张", 6.7),
    ("刘", 5.4),
    ("陈", 5.3),
    ("杨", 3.1),
    ("黄", 2.4),
    ("赵", 2.3),
    ("吴", 2.2),
    ("周", 2.2),
    ("徐", 1.9),
    ("孙", 1.6),
    ("朱", 1.6),
    ("马", 1.4),
    ("胡", 1.3),
    ("郭", 1.1),
    ("何", 1.0),
    ("高", 1.0),
    ("林", 1.0),
    ("沈", 0.9),
    ("罗", 0.8),
    ("郑", 0.8),
    ("梁", 0.7),
    ("顾", 0.7),
    ("陆", 0.7),
    ("谢", 0.6),
    ("宋", 0.6),
    ("唐", 0.6),
    ("钱", 0.5),
    ("许", 0.5),
    ("韩", 0.5),
    ("冯", 0.5),
    ("邓", 0.5),
    ("曹", 0.5),
    ("彭", 0.4),
    ("曾", 0.4),
    ("姚", 0.4),
    ("肖", 0.4),
    ("田", 0.4),
    ("董", 0.4),
    ("袁", 0.4),
    ("潘", 0.4),
    ("蒋", 0.4),
    ("蔡", 0.4),
    ("金", 0.4),
    ("俞", 0.3),
    ("范", 0.3),
    ("于", 0.3),
    ("杜", 0.3),
    ("叶", 0.3),
    ("程", 0.3),
    ("魏", 0.3),
    ("吕", 0.3),
    ("丁", 0.3),
    ("任", 0.3),
    ("汪", 0.3),
    ("戴", 0.2),
    ("缪", 0.1),
    ("殷", 0.1),
    ("欧阳", 0.05),
)

_MALE_GIVEN: tuple[str, ...] = (
    "伟",
    "强",
    "磊",
    "军",
    "勇",
    "杰",
    "涛",
    "斌",
    "超",
    "明",
    "刚",
    "辉",
    "鹏",
    "华",
    "飞",
    "鑫",
    "波",
    "宇",
    "浩",
    "凯",
    "健",
    "俊",
    "峰",
    "龙",
    "志强",
    "建华",
    "建军",
    "国强",
    "海涛",
    "文博",
    "子轩",
    "浩然",
    "俊杰",
    "晓东",
    "晓峰",
    "立新",
    "永刚",
    "卫东",
    "明辉",
    "国庆",
    "家豪",
    "振宇",
    "文杰",
    "金龙",
    "春雷",
    "嘉诚",
    "志伟",
    "海峰",
    "建平",
    "宏伟",
    "博文",
    "一鸣",
    "思远",
    "梓豪",
    "宇轩",
    "永强",
    "建新",
    "学军",
    "海兵",
    "德明",
    "雪松",
    "天宇",
    "子健",
    "晨阳",
    "亚东",
    "国平",
    "红兵",
    "兴华",
)
_FEMALE_GIVEN: tuple[str, ...] = (
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "艳",
    "娟",
    "霞",
    "燕",
    "玲",
    "婷",
    "雪",
    "颖",
    "琳",
    "倩",
    "洁",
    "慧",
    "萍",
    "秀英",
    "桂英",
    "玉兰",
    "丽娟",
    "美玲",
    "晓燕",
    "雅琴",
    "婷婷",
    "欣怡",
    "梓涵",
    "诗涵",
    "雨欣",
    "思琪",
    "佳怡",
    "晓丽",
    "春梅",
    "海燕",
    "丽华",
    "文静",
    "淑芬",
    "梦瑶",
    "雅婷",
    "静怡",
    "晓敏",
    "丹丹",
    "莉莉",
    "佳琪",
    "慧敏",
    "玉梅",
    "红梅",
    "凤英",
    "月华",
    "金凤",
    "彩霞",
    "亚楠",
    "心怡",
    "雯",
    "琴",
    "小红",
    "建英",
)

_SURNAME_NAMES: tuple[str, ...] = tuple(name for name, _ in SURNAMES)
_SURNAME_WEIGHTS: tuple[float, ...] = tuple(weight for _, weight in SURNAMES)

# GB 11643-1999: weights for the first 17 digits, and the check character by sum mod 11.
_ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Mainland mobile number segments in general use (China Mobile, Unicom, Telecom, Broadnet).
_PHONE_PREFIXES: tuple[str, ...] = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "198",
    "199",
)


def fictitious_name(rng: random.Random, *, gender: str | None = None) -> tuple[str, str]:
    """Return ``(name, gender)``; surnames weighted by frequency so crowds look realistic."""
    if gender is None:
        gender = rng.choice(GENDERS)
    elif gender not in GENDERS:
        raise ValueError(f"gender must be 男 or 女, not {gender!r}")
    surname = rng.choices(_SURNAME_NAMES, weights=_SURNAME_WEIGHTS)[0]
    pool = _MALE_GIVEN if gender == "男" else _FEMALE_GIVEN
    return surname + rng.choice(pool), gender


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def fictitious_id_number(rng: random.Random, *, area_code: str, birth: date, gender: str) -> str:
    """An 18-character 居民身份证号码 that validates, so forms with checksum checks accept it.

    The 17th digit is odd for men and even for women, as the standard requires.
    """
    if len(area_code) != 6 or not area_code.isdigit():
        raise ValueError(f"area_code must be six digits, got {area_code!r}")
    if gender not in GENDERS:
        raise ValueError(f"gender must be 男 or 女, not {gender!r}")
    order = rng.randrange(0, 100)
    sex_digit = rng.choice((1, 3, 5, 7, 9) if gender == "男" else (0, 2, 4, 6, 8))
    first17 = f"{area_code}{birth:%Y%m%d}{order:02d}{sex_digit}"
    return first17 + id_check_digit(first17)


def fictitious_address(rng: random.Random, county: County, town: Town) -> str:
    """A 户籍/居住 address inside ``town``; streets get flats, towns sometimes get 村/组 addresses."""
    if county.kind == "县级市" or county.name.startswith("苏州"):
        prefix = f"江苏省{county.name}{town.name}"
    else:
        prefix = f"江苏省苏州市{county.name}{town.name}"
    if not town.is_street and rng.random() < 0.35:
        village = f"{fictitious_road(rng)[:2]}村"
        return f"{prefix}{village}{rng.randint(1, 18)}组{rng.randint(1, 120)}号"
    road = fictitious_road(rng)
    building = rng.randint(1, 40)
    floor = rng.randint(1, 18)
    room = f"{floor}{rng.randint(1, 4):02d}"
    return f"{prefix}{road}{rng.randint(1, 999)}号{fictitious_compound(rng)}{building}幢{room}室"


def fictitious_phone(rng: random.Random) -> str:
    """An 11-digit mobile number with a real segment prefix, so format validators accept it."""
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"
