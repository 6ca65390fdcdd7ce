"""Charge catalogue and 案情 (statement-of-facts) generator for demo cases.

The catalogue approximates the mix of a Chinese city's ordinary criminal caseload
so that dashboards, queues and deadline statistics in the demo look plausible.
Fact texts imitate the register of an 起诉意见书/起诉书 ("经依法侦查查明：…") and
always name the town, so geographic filters and full-text search have something
real to bite on.  Victims are masked (陈某), venues are "某…", roads are invented.

The generator deliberately includes the contested pattern of taking money
through a third-party payment platform (支付宝/微信支付): depending on whether the
victim was deceived into handing over control, the same kind of conduct is
charged as 诈骗罪 or as 盗窃罪, which is exactly what cross-agency review argues about.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from xietong.demo.people import SURNAMES
from xietong.demo.suzhou import County, Town, fictitious_compound, fictitious_road, fictitious_venue

__all__ = [
    "CHARGES",
    "PAYMENT_PLATFORMS",
    "SOLO_CHARGES",
    "CaseFacts",
    "Charge",
    "charge_by_name",
    "generate_facts",
    "pick_charge",
    "suspect_count",
    "template_count",
]


@dataclass(frozen=True)
class Charge:
    """A 罪名 with the statistics the demo generator needs to simulate its case flow."""

    name: str
    article: str
    weight: float
    sentence_months: tuple[int, int]
    probation_rate: float
    detention_likely: bool
    fast_track_share: float

    @property
    def short(self) -> str:
        """The name without the trailing 罪, as used in case titles ("张伟盗窃案")."""
        return self.name.removesuffix("罪")


CHARGES: tuple[Charge, ...] = (
    Charge("危险驾驶罪", "刑法第133条之一", 20.0, (1, 6), 0.55, False, 0.92),
    Charge("盗窃罪", "刑法第264条", 18.0, (3, 36), 0.30, True, 0.75),
    Charge("诈骗罪", "刑法第266条", 9.0, (6, 60), 0.30, True, 0.55),
    Charge("帮助信息网络犯罪活动罪", "刑法第287条之二", 8.0, (6, 18), 0.45, True, 0.80),
    Charge("故意伤害罪", "刑法第234条", 6.0, (6, 36), 0.45, True, 0.60),
    Charge("开设赌场罪", "刑法第303条第2款", 5.0, (6, 48), 0.40, True, 0.55),
    Charge("寻衅滋事罪", "刑法第293条", 4.5, (6, 36), 0.30, True, 0.55),
    Charge("掩饰、隐瞒犯罪所得罪", "刑法第312条", 4.0, (6, 36), 0.45, True, 0.70),
    Charge("交通肇事罪", "刑法第133条", 3.5, (6, 36), 0.75, False, 0.80),
    Charge("贩卖毒品罪", "刑法第347条", 3.0, (6, 84), 0.02, True, 0.45),
    Charge("容留他人吸毒罪", "刑法第354条", 2.0, (6, 24), 0.05, True, 0.70),
    Charge("信用卡诈骗罪", "刑法第196条", 2.0, (6, 60), 0.40, False, 0.60),
    Charge("妨害公务罪", "刑法第277条", 1.8, (6, 24), 0.35, True, 0.75),
    Charge("侵犯公民个人信息罪", "刑法第253条之一", 1.5, (6, 36), 0.45, True, 0.60),
    Charge("抢劫罪", "刑法第263条", 1.2, (36, 120), 0.02, True, 0.10),
    Charge("非法吸收公众存款罪", "刑法第176条", 1.0, (12, 72), 0.30, True, 0.15),
    Charge("职务侵占罪", "刑法第271条", 1.0, (6, 60), 0.45, True, 0.45),
    Charge("聚众斗殴罪", "刑法第292条", 0.8, (12, 48), 0.30, True, 0.30),
    Charge("组织卖淫罪", "刑法第358条", 0.6, (60, 120), 0.00, True, 0.05),
    Charge("拒不支付劳动报酬罪", "刑法第276条之一", 0.6, (6, 24), 0.60, False, 0.70),
)

_CHARGE_WEIGHTS: tuple[float, ...] = tuple(charge.weight for charge in CHARGES)
_BY_NAME: dict[str, Charge] = {charge.name: charge for charge in CHARGES}

PAYMENT_PLATFORMS: tuple[str, ...] = ("支付宝", "微信支付")

# Documents give local (Beijing) time; China has no DST, so a fixed offset is exact.
_CST = timezone(timedelta(hours=8), "Asia/Shanghai")


def pick_charge(rng: random.Random) -> Charge:
    """Draw a charge with probability proportional to its caseload weight."""
    return rng.choices(CHARGES, weights=_CHARGE_WEIGHTS)[0]


def charge_by_name(name: str) -> Charge:
    """Look up a catalogue charge by its 罪名, for fixtures that need a specific one."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"罪名目录中没有{name}") from None


# Offences one person commits alone, and offences typically committed in groups
# (with the usual range of suspects in one case).  Everything else is mostly solo.
SOLO_CHARGES: frozenset[str] = frozenset(
    {"危险驾驶罪", "交通肇事罪", "信用卡诈骗罪", "容留他人吸毒罪", "拒不支付劳动报酬罪"}
)
_GROUP_SIZES: dict[str, tuple[int, int]] = {
    "开设赌场罪": (1, 4),
    "聚众斗殴罪": (2, 6),
    "组织卖淫罪": (1, 3),
    "非法吸收公众存款罪": (1, 4),
    "寻衅滋事罪": (1, 3),
    "帮助信息网络犯罪活动罪": (1, 3),
}


def suspect_count(rng: random.Random, charge: Charge) -> int:
    """How many suspects a case of ``charge`` should have, so 醉驾 never has accomplices."""
    if charge.name in SOLO_CHARGES:
        return 1
    if charge.name in _GROUP_SIZES:
        low, high = _GROUP_SIZES[charge.name]
        return rng.randint(low, high)
    return rng.choices((1, 2, 3), weights=(80, 15, 5))[0]


@dataclass(frozen=True)
class CaseFacts:
    """A generated statement of facts plus the structured bits later stages reuse."""

    charge: Charge
    title: str
    facts: str
    amount_yuan: int | None
    place: str
    confessed: bool = True
    via_payment_platform: bool = False


# --- template machinery ---------------------------------------------------------


@dataclass
class _Ctx:
    """Per-case drawing state handed to a template; records what the text committed to."""

    rng: random.Random
    suspects: tuple[str, ...]
    county: County
    town: Town
    occurred_at: datetime
    road: str
    road2: str
    place: str = ""
    confessed: bool = True
    ending: str = ""
    latest: datetime | None = None  # nothing in the text happens after this (the filing date)
    _victims: list[str] = field(default_factory=list)

    @property
    def main(self) -> str:
        return self.suspects[0]

    @property
    def names(self) -> str:
        """All suspects joined the way 起诉书 lists them: "张伟、李强"."""
        return "、".join(self.suspects)

    @property
    def others(self) -> str:
        """Co-suspects after the first, or a masked 同伙 when the case has only one."""
        return "、".join(self.suspects[1:]) if len(self.suspects) > 1 else "同伙刘某（另案处理）"

    @property
    def area(self) -> str:
        return f"{self.county.name}{self.town.name}"

    @property
    def when(self) -> str:
        d = self.occurred_at
        return f"{d.year}年{d.month}月{d.day}日{d.hour}时许"

    @property
    def on_date(self) -> str:
        d = self.occurred_at
        return f"{d.year}年{d.month}月{d.day}日"

    def later(self, days: int) -> str:
        """A follow-up date, written "同年4月2日" like real documents do."""
        d: date = (self.occurred_at + timedelta(days=days)).date()
        if self.latest is not None:
            days = min(days, max(0, (self.latest.date() - self.occurred_at.date()).days))
            d = (self.occurred_at + timedelta(days=days)).date()
        if days == 0:
            return "当日"
        if days == 1:
            return "次日"
        prefix = "同年" if d.year == self.occurred_at.year else f"{d.year}年"
        return f"{prefix}{d.month}月{d.day}日"

    def period(self, months: int) -> str:
        """A span ending at the occurrence date, for continuing offences."""
        start = (self.occurred_at - timedelta(days=30 * months)).date()
        end = self.occurred_at
        if start.year == end.year:
            return f"{start.year}年{start.month}月至{end.month}月间"
        return f"{start.year}年{start.month}月至{end.year}年{end.month}月间"

    def at(self, spot: str, *, road: str | None = None) -> str:
        """Commit the scene: the returned text is also stored as :attr:`CaseFacts.place`."""
        self.place = f"{self.area}{road or self.road}{spot}"
        return self.place

    def victim(self) -> str:
        """A masked victim name, distinct within one case ("被害人陈某")."""
        while True:
            surname = self.rng.choices(SURNAMES, weights=[w for _, w in SURNAMES])[0][0]
            masked = f"{surname}某"
            if masked not in self._victims and masked not in {
                s[: len(surname)] + "某" for s in self.suspects
            }:
                self._victims.append(masked)
                return masked

    def money(self, low: int, high: int, *, round_to: int = 1) -> int:
        """An amount in ``[low, high]`` skewed low, as real amounts are, optionally rounded."""
        raw = low + (high - low) * self.rng.random() ** 2
        return max(low, int(raw // round_to * round_to))

    def n(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)

    def plate(self) -> str:
        """A masked Suzhou plate (苏E/苏U), as published documents print them."""
        return f"苏{self.pick('E', 'E', 'E', 'U')}{self.pick(*'ABCDFGHJKLMNPQ0123456789')}××××"

    def caught(self) -> str:
        """How the suspect came into custody; varied so lists of cases do not read alike."""
        days = self.n(2, 40)
        return self.pick(
            f"民警接报后经调取视频监控循线追查，于{self.later(days)}将{self.main}抓获归案。",
            f"{self.later(days)}，{self.main}被公安机关抓获。",
            f"{self.later(days)}，{self.main}在家属陪同下至{self.county.police}{self.town.short}派出所投案。",
            f"{self.later(days)}，民警在{self.area}{self.road2}一出租房内将{self.main}抓获。",
        )

    def closing(self, denial: str | None = None, *, restitution: bool = False) -> str:
        """Draw the 认罪 sentence; with ``denial`` the suspect sometimes contests the charge.

        The sentence is kept aside in :attr:`ending` (and ``""`` returned) so the generator
        can still name accomplices before it: 起诉意见书 close with the attitude to guilt.
        """
        self.ending = self._closing_sentence(denial, restitution=restitution)
        return ""

    def _closing_sentence(self, denial: str | None, *, restitution: bool) -> str:
        if denial is not None and self.rng.random() < 0.18:
            self.confessed = False
            return f"{self.main}到案后对上述事实部分否认，{denial}。"
        options = [
            f"{self.main}到案后如实供述了上述犯罪事实，自愿认罪认罚。",
            f"{self.main}到案后对上述事实供认不讳。",
            f"{self.main}到案后如实供述自己的罪行，表示愿意接受处罚。",
        ]
        if restitution:
            options.append(f"案发后，{self.main}已退赔被害人全部经济损失，并取得被害人谅解。")
            options.append(f"{self.main}到案后如实供述，其家属已代为退赔部分赃款。")
        return self.rng.choice(options)


_Body = Callable[[_Ctx], tuple[str, int | None]]


@dataclass(frozen=True)
class _Template:
    body: _Body
    payment: bool = False


_TEMPLATES: dict[str, list[_Template]] = {}


def _template(charge: str, *, payment: bool = False) -> Callable[[_Body], _Body]:
    """Register a fact template for ``charge``; ``payment`` marks 支付宝/微信支付 patterns."""

    def register(fn: _Body) -> _Body:
        _TEMPLATES.setdefault(charge, []).append(_Template(fn, payment))
        return fn

    return register


def template_count(charge: Charge) -> int:
    """How many distinct templates exist for ``charge`` (used by tests and fixtures)."""
    return len(_TEMPLATES.get(charge.name, ()))


def _bac(c: _Ctx) -> str:
    return f"{c.rng.triangular(80.0, 260.0, 130.0):.1f}"


# --- 危险驾驶罪 ------------------------------------------------------------------


@_template("危险驾驶罪")
def _dui_checkpoint(c: _Ctx) -> tuple[str, int | None]:
    vehicle = c.pick("小型轿车", "小型普通客车", "小型越野客车")
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}饮酒后驾驶号牌为{c.plate()}的{vehicle}，"
        f"沿{c.at('')}由{c.pick('东向西', '西向东', '南向北', '北向南')}行驶至{c.road2}路口时，"
        f"被正在开展酒驾整治的民警当场查获。"
        f"经呼气酒精检测，{c.main}呼气中酒精含量超标，民警遂依法带其至医院抽取血样。"
        f"经鉴定，{c.main}血液中乙醇含量为{_bac(c)}mg/100ml，属醉酒驾驶机动车。" + c.closing()
    )
    return text, None


@_template("危险驾驶罪")
def _dui_collision(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}酒后驾驶号牌为{c.plate()}的小型轿车行驶至{c.at('')}时，"
        f"与被害人{v}驾驶的电动自行车发生碰撞，造成{v}受伤、两车损坏的交通事故。"
        f"经{c.county.police}交通警察大队认定，{c.main}负事故主要责任。"
        f"经鉴定，{c.main}血液中乙醇含量为{_bac(c)}mg/100ml。"
        f"{c.main}在事故发生后拨打报警电话并在现场等候处理。" + c.closing(restitution=True)
    )
    return text, None


@_template("危险驾驶罪")
def _dui_motorcycle(c: _Ctx) -> tuple[str, int | None]:
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.area}{c.road2}某饭店饮酒后，"
        f"未取得机动车驾驶证驾驶无号牌二轮摩托车上路行驶，"
        f"行至{c.at('与' + c.road2 + '交叉口')}时被执勤交警拦停。"
        f"经鉴定，{c.main}血液中乙醇含量为{_bac(c)}mg/100ml。"
        f"经检验，涉案二轮摩托车符合机动车国家标准。"
        + c.closing(denial="辩称其驾驶的车辆属于电动自行车，不是机动车")
    )
    return text, None


# --- 盗窃罪 ---------------------------------------------------------------------


@_template("盗窃罪")
def _theft_burglary(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(3000, 60000, round_to=10)
    cash = min(amount, c.money(500, 8000, round_to=100))
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}窜至{c.at(fictitious_compound(c.rng))}"
        f"{c.n(1, 30)}幢{c.n(1, 18)}0{c.n(1, 4)}室，"
        f"采用{c.pick('撬压门锁', '攀爬阳台', '插片开锁')}的方式入户，"
        f"窃得被害人{v}放置在卧室内的现金人民币{cash}元及金项链、手表等物品。"
        f"经价格认定，被盗物品连同现金共计价值人民币{amount}元。" + c.caught() + c.closing(restitution=True)
    )
    return text, amount


@_template("盗窃罪")
def _theft_ebike_batteries(c: _Ctx) -> tuple[str, int | None]:
    count = c.n(4, 18)
    amount = count * c.n(280, 650)
    text = (
        f"{c.period(c.n(1, 3))}，犯罪嫌疑人{c.main}多次在"
        f"{c.at(fictitious_compound(c.rng) + '等小区')}非机动车停放处，"
        f"采用剪断连接线的方式盗窃电动自行车蓄电池共计{count}组。"
        f"经价格认定，被盗蓄电池共计价值人民币{amount}元。"
        f"{c.main}将所盗蓄电池以每组一百余元的价格销赃给废品收购人员。" + c.caught() + c.closing()
    )
    return text, amount


@_template("盗窃罪")
def _theft_pickpocket(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(1500, 9000, round_to=10)
    item = c.pick("苹果牌手机一部", "华为牌手机一部", "钱包一只（内有现金及银行卡）")
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at(fictitious_venue(c.rng, '购物中心'))}内，"
        f"趁被害人{v}挑选商品不备之机，扒窃其放在随身挎包内的{item}。"
        f"经价格认定，被盗物品价值人民币{amount}元。"
        f"商场保安根据{v}的求助调取监控，发现{c.main}后将其扭送至公安机关。"
        + c.closing(denial="辩称手机系其在商场地面捡拾")
    )
    return text, amount


@_template("盗窃罪", payment=True)
def _theft_alipay_password(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(2000, 48000, round_to=1)
    platform = c.pick("支付宝", "微信支付")
    password = "支付宝支付密码" if platform == "支付宝" else "微信支付密码"
    text = (
        f"{c.period(c.n(1, 4))}，犯罪嫌疑人{c.main}在{c.at(fictitious_compound(c.rng))}内"
        f"与被害人{v}共同居住期间，"
        f"趁帮{v}操作手机之机偷看并记下其{password}。"
        f"此后，{c.main}多次趁{v}熟睡或外出不备，秘密使用{v}的手机通过{platform}"
        f"向{c.main}本人控制的账户转账，共计窃取人民币{amount}元，所得钱款用于网络游戏充值和日常消费。"
        f"{v}查看账单后发现异常报警。" + c.caught() + c.closing(denial=f"辩称{v}曾同意其使用该{platform}账户")
    )
    return text, amount


@_template("盗窃罪", payment=True)
def _theft_qr_swap(c: _Ctx) -> tuple[str, int | None]:
    shops = c.n(3, 11)
    amount = c.money(1200, 26000, round_to=1)
    platform = c.pick("支付宝", "微信")
    text = (
        f"{c.period(c.n(1, 2))}，犯罪嫌疑人{c.main}先后在{c.at(fictitious_venue(c.rng, '农贸市场'))}等处"
        f"{shops}家商铺，趁商户不备，将商户张贴的{platform}收款二维码偷换为其本人控制的{platform}收款二维码。"
        f"顾客向上述商户购物付款时，货款均进入{c.main}控制的账户，{c.main}由此非法获取人民币{amount}元。"
        f"被害商户核对账目时发现收款异常后报警。" + c.caught() + c.closing()
    )
    return text, amount


@_template("盗窃罪", payment=True)
def _theft_found_phone(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(1000, 20000, round_to=1)
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at(fictitious_venue(c.rng, '网吧'))}内捡到被害人{v}遗失的手机，"
        f"发现该手机未设锁屏密码且微信支付开通了小额免密支付功能。"
        f"当晚至{c.later(1)}，{c.main}利用该手机通过微信支付多次向他人购买游戏点卡、"
        f"并通过“亲属卡”功能向其本人微信转账，共计人民币{amount}元。"
        + c.caught()
        + c.closing(restitution=True)
    )
    return text, amount


# --- 诈骗罪 ---------------------------------------------------------------------


@_template("诈骗罪")
def _fraud_task_rebate(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(8000, 300000, round_to=100)
    text = (
        f"{c.period(c.n(1, 5))}，犯罪嫌疑人{c.names}伙同他人，"
        f"以“刷单返利”为名，通过网络聊天软件添加被害人{v}为好友，"
        f"先以小额返利骗取{v}信任，后以“任务未完成需继续垫付”为由，"
        f"诱使{v}在{c.at(fictitious_compound(c.rng))}家中通过手机银行向指定账户转款共计人民币{amount}元。"
        f"{c.main}负责提供银行账户并将赃款转移至上线指定账户，从中获取好处费。"
        + c.caught()
        + c.closing(denial="辩称其不知道上线从事诈骗活动，以为只是帮他人走账")
    )
    return text, amount


@_template("诈骗罪")
def _fraud_fake_connections(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(20000, 400000, round_to=1000)
    favour = c.pick("办理子女入学", "安排进入事业单位工作", "办理苏州户口迁入", "低价购买法拍房")
    text = (
        f"{c.period(c.n(2, 10))}，犯罪嫌疑人{c.main}在{c.at(fictitious_venue(c.rng, '饭店'))}等地，"
        f"虚构其在有关部门有熟人、能够帮助{favour}的事实，"
        f"先后多次收取被害人{v}“活动经费”“好处费”共计人民币{amount}元。"
        f"{c.main}收款后未为{v}办理任何事项，所得钱款全部用于归还个人债务和挥霍。"
        f"{v}多次催要未果后报警。"
        + c.caught()
        + c.closing(denial="辩称收取的钱款系双方之间的借款", restitution=True)
    )
    return text, amount


@_template("诈骗罪", payment=True)
def _fraud_fake_customer_service(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(6000, 90000, round_to=1)
    platform = c.pick("支付宝", "微信支付")
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}冒充网购平台客服拨打被害人{v}电话，"
        f"谎称{v}购买的商品存在质量问题需要“理赔退款”，诱骗身处{c.at(fictitious_compound(c.rng))}家中的{v}"
        f"打开{platform}，按其指示开通借款功能并将借得款项转入其提供的账户，"
        f"{v}先后被骗转账共计人民币{amount}元。"
        f"{c.main}随后将赃款分散转移并通过购买虚拟货币的方式提现。" + c.caught() + c.closing()
    )
    return text, amount


@_template("诈骗罪", payment=True)
def _fraud_payment_code(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(6000, 30000, round_to=1)
    platform = c.pick("支付宝", "微信")
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at(fictitious_venue(c.rng, '便利店'))}内，"
        f"以帮助被害人{v}（七十余岁）“领取{platform}红包奖励”为由，"
        f"骗取{v}打开手机{platform}付款码并告知验证码，"
        f"随后当着{v}的面用其手机操作，谎称在“激活奖励”，实际将{v}账户内及绑定银行卡内资金转入其本人账户，"
        f"共计人民币{amount}元。"
        f"{v}的子女发现资金异常后报警。" + c.caught() + c.closing(restitution=True)
    )
    return text, amount


@_template("诈骗罪")
def _fraud_second_hand(c: _Ctx) -> tuple[str, int | None]:
    victims = c.n(4, 26)
    amount = c.money(6000, 60000, round_to=1)
    item = c.pick("演唱会门票", "游戏账号", "二手苹果手机", "名牌包")
    text = (
        f"{c.period(c.n(1, 6))}，犯罪嫌疑人{c.main}在{c.at(fictitious_compound(c.rng))}其租住处，"
        f"利用二手交易平台发布虚假的低价出售{item}信息，"
        f"待{victims}名被害人付款后即将对方拉黑，共计骗得人民币{amount}元。"
        f"公安机关经对收款账户资金流向进行研判，锁定{c.main}的身份。" + c.caught() + c.closing()
    )
    return text, amount


# --- 帮助信息网络犯罪活动罪 ------------------------------------------------------


@_template("帮助信息网络犯罪活动罪")
def _help_cards(c: _Ctx) -> tuple[str, int | None]:
    cards = c.n(2, 6)
    flow = c.money(200000, 3000000, round_to=1)
    fraud = c.money(3000, min(flow, 200000), round_to=1)
    text = (
        f"{c.period(c.n(1, 4))}，犯罪嫌疑人{c.main}明知他人利用信息网络实施犯罪，"
        f"仍在{c.at(fictitious_venue(c.rng, '宾馆'))}内将其名下{cards}张银行卡及配套的U盾、手机卡"
        f"以每张{c.n(5, 20) * 100}元的价格出售给他人使用。"
        f"经查，上述银行卡被用于电信网络诈骗资金的支付结算，结算金额共计人民币{flow}元，"
        f"其中查证属实的被骗资金为人民币{fraud}元。"
        + c.caught()
        + c.closing(denial="辩称其出售银行卡时不知道对方用于违法犯罪")
    )
    return text, flow


@_template("帮助信息网络犯罪活动罪", payment=True)
def _help_running_points(c: _Ctx) -> tuple[str, int | None]:
    flow = c.money(200000, 1500000, round_to=1)
    profit = c.money(2000, 30000, round_to=10)
    platform = c.pick("支付宝", "微信")
    text = (
        f"{c.period(c.n(1, 3))}，犯罪嫌疑人{c.names}在{c.at(fictitious_compound(c.rng))}租住处，"
        f"受他人雇佣，使用本人及收购的多个{platform}账户为网络赌博、诈骗资金“跑分”，"
        f"即接收不明来源款项后按指令转出，按流水比例获取报酬。"
        f"经查，涉案账户收款共计人民币{flow}元，{c.main}从中非法获利人民币{profit}元。"
        + c.caught()
        + c.closing()
    )
    return text, flow


@_template("帮助信息网络犯罪活动罪")
def _help_goip(c: _Ctx) -> tuple[str, int | None]:
    flow = c.money(200000, 1000000, round_to=1)
    calls = c.n(80, 1200) * 10
    text = (
        f"{c.period(c.n(1, 2))}，犯罪嫌疑人{c.main}在境外人员指使下，"
        f"在{c.at(fictitious_venue(c.rng, '宾馆'))}房间内架设“猫池”设备，"
        f"插入其收购的手机卡为境外诈骗团伙转接语音电话共计{calls}余次，按通话时长获取报酬。"
        f"经查，通过该设备拨出的电话已关联多起电信网络诈骗案件，涉案资金人民币{flow}元。"
        f"民警根据通信数据研判，在该宾馆房间内将{c.main}当场抓获并查获“猫池”设备及手机卡一批。"
        + c.closing(denial="辩称其只是帮朋友看管设备，不清楚设备用途")
    )
    return text, flow


# --- 故意伤害罪 -----------------------------------------------------------------


@_template("故意伤害罪")
def _injury_parking(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at(fictitious_compound(c.rng) + '门口')}，"
        f"因停车问题与被害人{v}发生争执，"
        f"后{c.main}用拳头多次击打{v}的头面部，致{v}鼻骨骨折。"
        f"经鉴定，{v}的损伤程度为{c.pick('轻伤二级', '轻伤二级', '轻伤一级')}。"
        f"{c.main}作案后在现场等候民警处理。" + c.closing(restitution=True)
    )
    return text, None


@_template("故意伤害罪")
def _injury_bottle(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at(fictitious_venue(c.rng, '烧烤店'))}内饮酒时，"
        f"因琐事与邻桌的被害人{v}发生口角，继而持啤酒瓶击打{v}头部，致其头皮裂伤、颅骨骨折。"
        f"经鉴定，{v}的损伤程度为{c.pick('轻伤一级', '轻伤二级')}。"
        + c.caught()
        + c.closing(denial=f"辩称系{v}先动手，其行为属于正当防卫")
    )
    return text, None


@_template("故意伤害罪")
def _injury_worksite(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at('某建筑工地')}，因工资结算问题与工友{v}发生争执，"
        f"后持铁锹柄击打{v}左手臂及背部，致其左尺骨骨折。"
        f"经鉴定，{v}的损伤程度为轻伤二级。"
        f"工友随即报警，{c.main}经民警电话通知后主动到派出所投案。" + c.closing(restitution=True)
    )
    return text, None


# --- 开设赌场罪 -----------------------------------------------------------------


@_template("开设赌场罪")
def _casino_chess_room(c: _Ctx) -> tuple[str, int | None]:
    profit = c.money(8000, 120000, round_to=100)
    text = (
        f"{c.period(c.n(1, 6))}，犯罪嫌疑人{c.names}在{c.at(fictitious_venue(c.rng, '棋牌室'))}内，"
        f"提供场地、麻将机及筹码，组织他人以“{c.pick('推筒子', '斗牛', '扎金花')}”的方式进行赌博，"
        f"按每局抽取“台费”的方式从中抽头渔利共计人民币{profit}元。"
        f"{c.on_date}，民警对该棋牌室进行突击检查，当场查获参赌人员{c.n(6, 20)}名，"
        f"扣押赌资人民币{c.money(5000, 60000, round_to=100)}元。" + c.closing()
    )
    return text, profit


@_template("开设赌场罪")
def _casino_wechat_group(c: _Ctx) -> tuple[str, int | None]:
    members = c.n(6, 48) * 10
    turnover = c.money(300000, 5000000, round_to=100)
    text = (
        f"{c.period(c.n(2, 8))}，犯罪嫌疑人{c.names}在{c.at(fictitious_compound(c.rng))}租住处，"
        f"建立微信群并招揽{members}余人入群，利用“抢红包”比大小的方式组织网络赌博，"
        f"赌资累计人民币{turnover}元，{c.main}按比例抽取“水钱”。"
        f"公安机关经网上巡查发现该赌博群后立案侦查。"
        + c.caught()
        + c.closing(denial="辩称群内只是朋友之间娱乐，没有抽头")
    )
    return text, turnover


# --- 寻衅滋事罪 -----------------------------------------------------------------


@_template("寻衅滋事罪")
def _affray_drunk(c: _Ctx) -> tuple[str, int | None]:
    v1, v2 = c.victim(), c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}酒后在{c.at(fictitious_venue(c.rng, 'KTV'))}门口，"
        f"无故拦截路过的被害人{v1}、{v2}并借故生非，随意用拳脚殴打二人，"
        f"致{v1}面部软组织挫伤、{v2}左眼眶骨折。"
        f"经鉴定，{v2}的损伤程度为轻微伤。" + c.caught() + c.closing(restitution=True)
    )
    return text, None


@_template("寻衅滋事罪")
def _affray_damage(c: _Ctx) -> tuple[str, int | None]:
    damage = c.money(5000, 40000, round_to=10)
    text = (
        f"{c.when}，犯罪嫌疑人{c.names}因对{c.at(fictitious_venue(c.rng, '饭店'))}老板催要欠款心生不满，"
        f"纠集他人至该店内，持棍棒任意砸毁店内桌椅、玻璃门及收银设备，并辱骂、驱赶店内顾客，"
        f"致该店停业{c.n(2, 7)}天。"
        f"经价格认定，被损毁财物价值人民币{damage}元。"
        + c.caught()
        + c.closing(denial="辩称系因经济纠纷上门讨说法，并非无事生非")
    )
    return text, damage


# --- 掩饰、隐瞒犯罪所得罪 -------------------------------------------------------


@_template("掩饰、隐瞒犯罪所得罪")
def _fencing_ebikes(c: _Ctx) -> tuple[str, int | None]:
    count = c.n(5, 30)
    amount = count * c.n(400, 1500)
    text = (
        f"{c.period(c.n(1, 5))}，犯罪嫌疑人{c.main}在其经营的位于{c.at('某二手车行')}，"
        f"明知他人出售的电动自行车系盗窃所得，仍以明显低于市场的价格予以收购，共计{count}辆，"
        f"经价格认定价值人民币{amount}元，后加价转卖牟利。"
        f"公安机关在侦办系列盗窃电动自行车案件中发现上述事实。"
        + c.caught()
        + c.closing(denial="辩称其收购时不知道电动车是偷来的")
    )
    return text, amount


@_template("掩饰、隐瞒犯罪所得罪", payment=True)
def _fencing_cashout(c: _Ctx) -> tuple[str, int | None]:
    amount = c.money(50000, 800000, round_to=1)
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}明知系他人电信网络诈骗所得资金，"
        f"仍受上线指使，在{c.at('某银行网点')}等处使用其本人银行卡，"
        f"将转入的资金通过柜台、ATM机取现或通过微信、支付宝转出，共计人民币{amount}元，"
        f"并将取出的现金当面交给他人，获取好处费人民币{c.money(1000, 8000, round_to=100)}元。"
        f"银行工作人员发现其频繁大额取现后报警，民警到场将其抓获。" + c.closing()
    )
    return text, amount


@_template("掩饰、隐瞒犯罪所得罪")
def _fencing_phones(c: _Ctx) -> tuple[str, int | None]:
    count = c.n(6, 40)
    amount = count * c.n(600, 2500)
    text = (
        f"{c.period(c.n(2, 6))}，犯罪嫌疑人{c.main}在{c.at('某手机维修店')}，"
        f"明知他人出售的手机来路不明且无法提供购买凭证，仍多次予以收购，共计{count}部，"
        f"经价格认定价值人民币{amount}元，后刷机转卖。"
        f"经查，上述手机中已有多部与本地盗窃、抢夺案件的被盗手机串号一致。"
        + c.caught()
        + c.closing(restitution=True)
    )
    return text, amount


# --- 交通肇事罪 -----------------------------------------------------------------


@_template("交通肇事罪")
def _traffic_death(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}驾驶号牌为{c.plate()}的"
        f"{c.pick('重型半挂牵引车', '小型轿车', '轻型厢式货车')}"
        f"沿{c.at('')}行驶至{c.road2}路口右转时，未注意观察路面情况，"
        f"与同向骑行电动自行车的被害人{v}发生碰撞，致{v}经送医抢救无效死亡。"
        f"经{c.county.police}交通警察大队认定，{c.main}负事故{c.pick('主要', '全部')}责任。"
        f"{c.main}事故发生后即拨打报警电话并在现场等候处理。" + c.closing(restitution=True)
    )
    return text, None


@_template("交通肇事罪")
def _traffic_hit_and_run(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}驾驶号牌为{c.plate()}的小型轿车行驶至{c.at('')}时，"
        f"将横过道路的行人{v}撞倒，致{v}{c.pick('重伤', '经抢救无效死亡')}。"
        f"事故发生后，{c.main}驾车逃离现场。"
        f"经认定，{c.main}负事故全部责任。"
        + c.caught()
        + c.closing(denial="辩称其当时以为撞到的是路边障碍物，不知道撞到了人")
    )
    return text, None


# --- 贩卖毒品罪 -----------------------------------------------------------------


def _grams(c: _Ctx, low: float, high: float) -> str:
    return f"{c.rng.uniform(low, high):.2f}"


@_template("贩卖毒品罪")
def _drugs_single(c: _Ctx) -> tuple[str, int | None]:
    buyer = c.victim().removesuffix("某") + "某某"
    price = c.n(2, 12) * 100
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}通过微信与吸毒人员{buyer}联系后，"
        f"在{c.at(fictitious_compound(c.rng) + '门口')}，以人民币{price}元的价格"
        f"向{buyer}贩卖甲基苯丙胺（冰毒）{_grams(c, 0.2, 1.5)}克。"
        f"交易完成后，民警当场将{c.main}抓获，并从其随身包内查获甲基苯丙胺{_grams(c, 0.5, 6.0)}克。"
        f"经检验，查获物品中均检出甲基苯丙胺成分。"
        + c.closing(denial="辩称其只是帮朋友代购，自己没有从中获利")
    )
    return text, price


@_template("贩卖毒品罪")
def _drugs_repeated(c: _Ctx) -> tuple[str, int | None]:
    times = c.n(3, 9)
    price = times * c.n(2, 8) * 100
    text = (
        f"{c.period(c.n(1, 4))}，犯罪嫌疑人{c.main}先后{times}次"
        f"在{c.at(fictitious_venue(c.rng, '宾馆'))}等地，"
        f"向吸毒人员王某某、陈某某等人贩卖甲基苯丙胺共计{_grams(c, 2.0, 9.0)}克，"
        f"获取毒资人民币{price}元。"
        f"{c.later(c.n(2, 20))}，民警在{c.area}{c.road2}一出租房内将{c.main}抓获，"
        f"现场查获电子秤、吸管及甲基苯丙胺{_grams(c, 0.3, 4.0)}克。" + c.closing()
    )
    return text, price


# --- 容留他人吸毒罪 -------------------------------------------------------------


@_template("容留他人吸毒罪")
def _harbour_flat(c: _Ctx) -> tuple[str, int | None]:
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在其位于{c.at(fictitious_compound(c.rng))}的租住房内，"
        f"先后容留吸毒人员李某某、周某某吸食甲基苯丙胺。"
        f"民警根据群众举报至该处检查，当场查获吸毒工具及甲基苯丙胺{_grams(c, 0.1, 0.8)}克。"
        f"经尿液检测，上述人员甲基苯丙胺均呈阳性。" + c.closing()
    )
    return text, None


@_template("容留他人吸毒罪")
def _harbour_hotel(c: _Ctx) -> tuple[str, int | None]:
    times = c.n(2, 5)
    text = (
        f"{c.period(c.n(1, 3))}，犯罪嫌疑人{c.main}先后{times}次在{c.at(fictitious_venue(c.rng, '宾馆'))}"
        f"以其本人身份证开设的房间内，容留赵某某等人吸食甲基苯丙胺。"
        f"{c.on_date}，民警在该宾馆开展检查时将{c.main}等人当场查获。"
        f"经检测，在场人员尿检均呈甲基苯丙胺阳性。"
        + c.closing(denial="辩称房间系他人借用，其不知道他人在房间内吸毒")
    )
    return text, None


# --- 信用卡诈骗罪 ---------------------------------------------------------------


@_template("信用卡诈骗罪")
def _card_overdraft(c: _Ctx) -> tuple[str, int | None]:
    bank = c.pick("某股份制商业银行", "某国有商业银行", "某城市商业银行")
    amount = c.money(50000, 300000, round_to=1)
    text = (
        f"犯罪嫌疑人{c.main}于{c.period(c.n(12, 30)).removesuffix('间')}"
        f"持其本人在{bank}申领的信用卡进行透支消费和取现，"
        f"超过规定期限未归还。经发卡银行两次有效催收后，{c.main}超过三个月仍不归还，"
        f"截至案发，尚欠透支本金人民币{amount}元。"
        f"{c.main}案发时户籍登记在{c.at(fictitious_compound(c.rng))}，经发卡银行报案，公安机关立案侦查。"
        f"{c.later(c.n(5, 60))}，{c.main}被公安机关抓获。"
        + c.closing(denial="辩称其因生意失败确实无力还款，并非恶意透支", restitution=True)
    )
    return text, amount


@_template("信用卡诈骗罪")
def _card_stolen_use(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(6000, 60000, round_to=1)
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}在{c.at(fictitious_venue(c.rng, '超市'))}捡拾被害人{v}遗失的钱包后，"
        f"冒用钱包内的信用卡，在多家商户通过POS机刷卡消费购买金条、购物卡等物品，"
        f"共计人民币{amount}元。"
        f"{v}收到银行消费提醒后挂失并报警。" + c.caught() + c.closing(restitution=True)
    )
    return text, amount


# --- 妨害公务罪 -----------------------------------------------------------------


@_template("妨害公务罪")
def _obstruct_police(c: _Ctx) -> tuple[str, int | None]:
    text = (
        f"{c.when}，{c.county.police}{c.town.short}派出所民警接警后"
        f"至{c.at(fictitious_venue(c.rng, '饭店'))}处置纠纷时，"
        f"犯罪嫌疑人{c.main}酒后拒不配合民警依法询问，"
        f"并以推搡、拳打、脚踢等暴力方式阻碍民警执行职务，致一名民警手部软组织挫伤。"
        f"{c.main}随即被民警依法控制。" + c.closing(denial="辩称其当时喝醉了，不记得是否推打过民警")
    )
    return text, None


@_template("妨害公务罪")
def _obstruct_traffic(c: _Ctx) -> tuple[str, int | None]:
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}驾驶小型轿车行至{c.at('某交通执勤点')}时，"
        f"因拒绝接受交警依法检查，在民警上前示意其停车时突然加速驶离，将正在执法的民警刮倒在地。"
        f"经鉴定，该民警的损伤程度为轻微伤。" + c.caught() + c.closing()
    )
    return text, None


# --- 侵犯公民个人信息罪 ---------------------------------------------------------


@_template("侵犯公民个人信息罪")
def _pii_sell(c: _Ctx) -> tuple[str, int | None]:
    records = c.n(5100, 120000)
    profit = c.money(3000, 60000, round_to=10)
    text = (
        f"{c.period(c.n(2, 10))}，犯罪嫌疑人{c.main}在{c.at(fictitious_compound(c.rng))}住处，"
        f"通过网络聊天软件向他人非法购买、出售含有姓名、电话号码、住址的公民个人信息共计{records}条，"
        f"非法获利人民币{profit}元。"
        f"公安机关在侦办电信网络诈骗案件中发现上述信息被用于精准诈骗。" + c.caught() + c.closing()
    )
    return text, profit


@_template("侵犯公民个人信息罪")
def _pii_courier(c: _Ctx) -> tuple[str, int | None]:
    records = c.n(5000, 40000)
    profit = c.money(2000, 30000, round_to=10)
    text = (
        f"{c.period(c.n(1, 6))}，犯罪嫌疑人{c.main}利用其在{c.at('某快递网点')}担任分拣员的便利，"
        f"使用手机拍摄快递面单并整理成表格，出售给他人共计{records}条，非法获利人民币{profit}元。"
        f"经查，该批信息包含收件人姓名、电话及详细住址。"
        + c.caught()
        + c.closing(denial="辩称其以为对方只是用于推销，不知道违法")
    )
    return text, profit


# --- 抢劫罪 ---------------------------------------------------------------------


@_template("抢劫罪")
def _robbery_store(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(300, 6000, round_to=10)
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}头戴帽子、口罩，持水果刀闯入{c.at(fictitious_venue(c.rng, '便利店'))}，"
        f"以刀相威胁，逼迫店员{v}打开收银台，劫得现金人民币{amount}元后逃离。"
        f"民警通过视频追踪及轨迹分析锁定{c.main}。" + c.caught() + c.closing()
    )
    return text, amount


@_template("抢劫罪")
def _robbery_street(c: _Ctx) -> tuple[str, int | None]:
    v = c.victim()
    amount = c.money(800, 12000, round_to=10)
    text = (
        f"{c.when}，犯罪嫌疑人{c.names}在{c.at('一偏僻路段')}，"
        f"拦住下夜班步行回家的被害人{v}，采用言语威胁、拳打脚踢等方式，"
        f"强行劫走{v}的手机一部及现金，共计价值人民币{amount}元，致{v}轻微伤。"
        + c.caught()
        + c.closing(denial="辩称其只是向被害人借钱，没有使用暴力")
    )
    return text, amount


# --- 非法吸收公众存款罪 ---------------------------------------------------------


@_template("非法吸收公众存款罪")
def _deposits_wealth_firm(c: _Ctx) -> tuple[str, int | None]:
    investors = c.n(40, 600)
    amount = c.money(2000000, 80000000, round_to=10000)
    loss = c.money(amount // 5, amount // 2, round_to=10000)
    text = (
        f"{c.period(c.n(12, 40))}，犯罪嫌疑人{c.names}以某投资管理有限公司名义，"
        f"在{c.at(fictitious_venue(c.rng, '商业广场'))}写字楼设立门店，"
        f"通过发放传单、举办理财讲座等方式向社会公开宣传，承诺年化收益{c.n(8, 18)}%并保本付息，"
        f"向{investors}名投资人吸收资金共计人民币{amount}元。"
        f"截至案发，尚有人民币{loss}元未能兑付。"
        + c.caught()
        + c.closing(denial="辩称公司业务合法，其只是普通业务员")
    )
    return text, amount


@_template("非法吸收公众存款罪")
def _deposits_personal(c: _Ctx) -> tuple[str, int | None]:
    investors = c.n(30, 150)
    amount = c.money(1000000, 10000000, round_to=1000)
    text = (
        f"{c.period(c.n(18, 60))}，犯罪嫌疑人{c.main}"
        f"以经营{c.pick('纺织厂', '建材生意', '工程项目')}需要资金周转为由，"
        f"在{c.at('')}一带通过亲友介绍，以月息{c.n(1, 3)}分的高息向{investors}名社会不特定人员借款，"
        f"共计吸收资金人民币{amount}元，后因资金链断裂无法归还。"
        f"众多投资人集体报案。" + c.caught() + c.closing()
    )
    return text, amount


# --- 职务侵占罪 -----------------------------------------------------------------


@_template("职务侵占罪")
def _embezzle_warehouse(c: _Ctx) -> tuple[str, int | None]:
    amount = c.money(60000, 600000, round_to=10)
    text = (
        f"{c.period(c.n(3, 18))}，犯罪嫌疑人{c.main}"
        f"利用其担任{c.at('某电子科技有限公司')}仓库管理员的职务便利，"
        f"多次将公司仓库内的电子元器件私自带出并变卖，"
        f"侵占公司财物共计价值人民币{amount}元。"
        f"公司年终盘点发现库存短少后报警。" + c.caught() + c.closing(restitution=True)
    )
    return text, amount


@_template("职务侵占罪", payment=True)
def _embezzle_cashier(c: _Ctx) -> tuple[str, int | None]:
    amount = c.money(60000, 300000, round_to=1)
    text = (
        f"{c.period(c.n(3, 12))}，犯罪嫌疑人{c.main}"
        f"利用其在{c.at(fictitious_venue(c.rng, '超市'))}担任收银员的职务便利，"
        f"在顾客扫码付款时出示其个人微信、支付宝收款码，将应归入超市账户的货款"
        f"共计人民币{amount}元收入个人账户并占为己有。"
        f"超市负责人核对营业额时发现异常后报警。" + c.caught() + c.closing(restitution=True)
    )
    return text, amount


# --- 聚众斗殴罪 -----------------------------------------------------------------


@_template("聚众斗殴罪")
def _brawl_ktv(c: _Ctx) -> tuple[str, int | None]:
    text = (
        f"{c.when}，犯罪嫌疑人{c.main}因在{c.at(fictitious_venue(c.rng, 'KTV'))}内与他人发生口角，"
        f"遂电话纠集{c.others}等{c.n(5, 12)}人携带钢管、砍刀赶至现场，与对方人员互相殴斗，"
        f"造成双方多人受伤，其中一人经鉴定为轻伤二级。"
        f"民警接警后迅速到场处置，当场控制部分涉案人员。" + c.caught() + c.closing()
    )
    return text, None


@_template("聚众斗殴罪")
def _brawl_debt(c: _Ctx) -> tuple[str, int | None]:
    text = (
        f"{c.when}，犯罪嫌疑人{c.names}因债务纠纷，与对方约定在{c.at('某停车场')}“谈判”，"
        f"双方各纠集十余人持械到场后发生互殴，致沿街店铺玻璃及多辆车辆受损，严重扰乱社会秩序。"
        f"经鉴定，双方共有{c.n(2, 5)}人受轻微伤。"
        + c.caught()
        + c.closing(denial="辩称其系被对方殴打后被迫还手")
    )
    return text, None


# --- 组织卖淫罪 -----------------------------------------------------------------


@_template("组织卖淫罪")
def _prostitution_spa(c: _Ctx) -> tuple[str, int | None]:
    women = c.n(3, 12)
    profit = c.money(50000, 600000, round_to=100)
    text = (
        f"{c.period(c.n(4, 20))}，犯罪嫌疑人{c.names}在其经营的{c.at(fictitious_venue(c.rng, '足浴店'))}内，"
        f"招募{women}名女性从业人员，制定服务项目及价格，以“足浴”“按摩”为幌子组织上述人员从事卖淫活动，"
        f"非法获利人民币{profit}元。"
        f"{c.on_date}，公安机关对该店进行查处，当场查获卖淫嫖娼人员数名。"
        + c.closing(denial="辩称店内只提供正规足浴服务，卖淫系从业人员个人行为")
    )
    return text, profit


@_template("组织卖淫罪")
def _prostitution_online(c: _Ctx) -> tuple[str, int | None]:
    profit = c.money(30000, 300000, round_to=100)
    text = (
        f"{c.period(c.n(3, 12))}，犯罪嫌疑人{c.names}在{c.at(fictitious_compound(c.rng))}租赁多套房屋，"
        f"通过网络社交软件发布招嫖信息，安排{c.n(3, 8)}名女性在上述房屋内从事卖淫活动，"
        f"并负责接单、派单及收取嫖资，非法获利人民币{profit}元。"
        f"公安机关经网上巡查发现线索后立案侦查。" + c.caught() + c.closing()
    )
    return text, profit


# --- 拒不支付劳动报酬罪 ---------------------------------------------------------


@_template("拒不支付劳动报酬罪")
def _wages_abscond(c: _Ctx) -> tuple[str, int | None]:
    workers = c.n(10, 80)
    amount = c.money(100000, 1500000, round_to=100)
    text = (
        f"犯罪嫌疑人{c.main}系位于{c.at('某服装加工厂')}的实际经营人。"
        f"{c.period(c.n(3, 8))}，{c.main}以转移财产、逃匿等方法逃避支付{workers}名劳动者的劳动报酬，"
        f"共计人民币{amount}元。"
        f"经人力资源和社会保障部门依法下达限期整改指令书后，{c.main}仍拒不支付。"
        + c.caught()
        + c.closing(restitution=True)
    )
    return text, amount


@_template("拒不支付劳动报酬罪")
def _wages_subcontractor(c: _Ctx) -> tuple[str, int | None]:
    workers = c.n(15, 60)
    amount = c.money(80000, 800000, round_to=100)
    text = (
        f"犯罪嫌疑人{c.main}承包{c.at('某住宅项目')}的劳务分包工程。"
        f"工程完工并与总包方结算后，"
        f"{c.main}有能力支付而不支付{workers}名农民工的劳动报酬共计人民币{amount}元，"
        f"经人力资源和社会保障部门责令支付后仍不支付，并更换手机号码、躲避讨薪。"
        + c.caught()
        + c.closing(denial="辩称总包方尚欠其工程款，其并非有能力支付而不支付")
    )
    return text, amount


# --- entry point ----------------------------------------------------------------


def _title(charge: Charge, suspects: Sequence[str]) -> str:
    """Case title as 公安/检察 systems write it: "张伟盗窃案", "张伟等3人开设赌场案"."""
    lead = suspects[0] if len(suspects) == 1 else f"{suspects[0]}等{len(suspects)}人"
    return f"{lead}{charge.short}案"


def generate_facts(
    rng: random.Random,
    *,
    charge: Charge,
    suspects: Sequence[str],
    county: County,
    town: Town,
    occurred_at: datetime,
    variant: int | None = None,
    latest: datetime | None = None,
) -> CaseFacts:
    """Write a 案情 paragraph for ``charge`` set in ``town`` at ``occurred_at``.

    ``variant`` pins a template (modulo the number available) so tests and fixtures
    can exercise every pattern; by default one is drawn from ``rng``.  An aware
    ``occurred_at`` is rendered in Beijing time; a naive one is taken as already local.
    """
    if not suspects:
        raise ValueError("a case needs at least one suspect")
    templates = _TEMPLATES.get(charge.name)
    if not templates:
        raise KeyError(f"no fact templates for {charge.name}")
    index = rng.randrange(len(templates)) if variant is None else variant % len(templates)
    template = templates[index]
    road = fictitious_road(rng)
    road2 = fictitious_road(rng)
    while road2 == road:
        road2 = fictitious_road(rng)
    ctx = _Ctx(
        rng=rng,
        suspects=tuple(suspects),
        county=county,
        town=town,
        occurred_at=occurred_at.astimezone(_CST) if occurred_at.tzinfo else occurred_at,
        road=road,
        road2=road2,
        latest=latest.astimezone(_CST) if latest is not None and latest.tzinfo else latest,
    )
    body, amount = template.body(ctx)
    unnamed = [name for name in ctx.suspects if name not in body]
    if unnamed:
        # Templates narrate the principal; name accomplices so every suspect is in the text.
        body += f"犯罪嫌疑人{'、'.join(unnamed)}参与了上述部分犯罪事实。"
    body += ctx.ending
    return CaseFacts(
        charge=charge,
        title=_title(charge, suspects),
        facts="经依法侦查查明：" + body,
        amount_yuan=amount,
        place=ctx.place or f"{ctx.area}{road}",
        confessed=ctx.confessed,
        via_payment_platform=template.payment,
    )
