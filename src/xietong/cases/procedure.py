"""The criminal procedure as one declarative table (F2).

Every state change of a case is one ``Action`` row: the stage it may be taken in, the agency and duties
that may take it, the approval it needs, the instrument it issues, where the file goes next, and the
statutory clocks it starts and stops. ``cases.services.case_act`` is the only code that applies a row.
Sources: ``domain/procedure.md`` §4.2 (transition table) and the articles cited on each row.

Pure module: no Django import, so it can be tested and rendered (docs, UI help) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Stage(StrEnum):
    INVESTIGATION = "investigation"
    ARREST_REVIEW = "arrest_review"
    PROSECUTION_REVIEW = "prosecution_review"
    SUPPLEMENTARY = "supplementary"
    FIRST_INSTANCE = "first_instance"
    APPEAL_PERIOD = "appeal_period"
    SECOND_INSTANCE = "second_instance"
    EFFECTIVE = "effective"
    EXECUTION = "execution"
    WITHDRAWN = "withdrawn"
    NOT_PROSECUTED = "not_prosecuted"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]

    @property
    def agency(self) -> str | None:
        """The agency that holds the case in this stage (None once it has ended)."""
        return STAGE_AGENCY[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.INVESTIGATION: "侦查",
    Stage.ARREST_REVIEW: "审查逮捕",
    Stage.PROSECUTION_REVIEW: "审查起诉",
    Stage.SUPPLEMENTARY: "退回补充侦查",
    Stage.FIRST_INSTANCE: "一审",
    Stage.APPEAL_PERIOD: "上诉抗诉期",
    Stage.SECOND_INSTANCE: "二审",
    Stage.EFFECTIVE: "判决生效",
    Stage.EXECUTION: "交付执行",
    Stage.WITHDRAWN: "撤销案件",
    Stage.NOT_PROSECUTED: "不起诉",
    Stage.CLOSED: "结案",
}

STAGE_AGENCY: dict[Stage, str | None] = {
    Stage.INVESTIGATION: "police",
    Stage.ARREST_REVIEW: "procuratorate",
    Stage.PROSECUTION_REVIEW: "procuratorate",
    Stage.SUPPLEMENTARY: "police",
    Stage.FIRST_INSTANCE: "court",
    Stage.APPEAL_PERIOD: "court",
    Stage.SECOND_INSTANCE: "court",
    Stage.EFFECTIVE: "court",
    Stage.EXECUTION: None,  # the receiving execution body (corrections or police/prison) holds it
    Stage.WITHDRAWN: None,
    Stage.NOT_PROSECUTED: None,
    Stage.CLOSED: None,
}

TERMINAL_STAGES = frozenset({Stage.WITHDRAWN, Stage.NOT_PROSECUTED, Stage.CLOSED})
# Stages in which the case is in the hands of the execution body; the case file is concluded.
CONCLUDED_STAGES = TERMINAL_STAGES | {Stage.EXECUTION}
ALL_STAGES = frozenset(Stage)


class Custody(StrEnum):
    """Per-person coercive measure (强制措施) or execution status."""

    NONE = "none"
    DETAINED = "detained"
    ARRESTED = "arrested"
    BAIL = "bail"
    SURVEILLANCE = "surveillance"
    RELEASED = "released"
    SERVING = "serving"

    @property
    def label(self) -> str:
        return CUSTODY_LABELS[self]

    @property
    def in_custody(self) -> bool:
        """在押: the holiday roll-over of 刑诉法第105条 does not apply."""
        return self in {Custody.DETAINED, Custody.ARRESTED}


CUSTODY_LABELS: dict[Custody, str] = {
    Custody.NONE: "未采取强制措施",
    Custody.DETAINED: "刑事拘留",
    Custody.ARRESTED: "逮捕",
    Custody.BAIL: "取保候审",
    Custody.SURVEILLANCE: "监视居住",
    Custody.RELEASED: "释放",
    Custody.SERVING: "交付执行",
}


class Target(StrEnum):
    """Where a transfer sends the file. Resolved to a unit by ``cases.routing``."""

    PROCURATORATE = "procuratorate"  # 同级人民检察院
    COURT = "court"  # 同级人民法院
    UPPER_COURT = "upper_court"  # 上一级人民法院 (二审)
    ORIGINAL_COURT = "original_court"  # 原审法院 (发回重审)
    POLICE = "police"  # 原侦查机关
    EXECUTION = "execution"  # 社区矫正机构 or 公安机关 (监禁刑), by the sentence


class When(StrEnum):
    ACT = "act"  # at the moment of the act
    ACCEPT = "accept"  # when the receiving unit accepts the transfer (收到)


@dataclass(frozen=True)
class ClockStart:
    rule: str
    per_party: bool = False
    when: When = When.ACT
    condition: str | None = None  # name of a predicate in cases.clock_conditions


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    stages: frozenset[Stage]
    agency: str
    duties: frozenset[str]
    articles: tuple[str, ...]
    to_stage: Stage | None = None
    instrument: str | None = None
    approval: bool = False  # needs 负责人/检察长/院长 approval (a LEADER or DEPT_HEAD of the unit)
    transfer_to: Target | None = None  # the file goes to another unit's inbox, to accept or return
    hand_back: Target | None = None  # the decision returns the file to that unit without an inbox step
    per_party: bool = False  # the act concerns selected suspects
    custody_from: frozenset[Custody] = frozenset()
    custody_to: Custody | None = None
    starts: tuple[ClockStart, ...] = ()
    stops: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()  # names of checks in cases.guards, beyond stage/agency/duty
    needs_reason: bool = False
    options: tuple[str, ...] = ()  # extra input the act takes (e.g. "procedure", "verdict")
    creates: bool = False  # 立案 creates the case
    unit_kinds: frozenset[str] = frozenset()  # when set, only units of these kinds (e.g. 司法所) act
    help: str = ""

    @property
    def ends_case(self) -> bool:
        return self.to_stage in TERMINAL_STAGES


HANDLER = "handler"
LEADERS = frozenset({"dept_head", "leader"})
HANDLERS = frozenset({HANDLER}) | LEADERS
COURT_STAFF = HANDLERS | {"clerk"}
CORRECTIONS_STAFF = HANDLERS | {"corrections_officer"}

INVESTIGATING = frozenset({Stage.INVESTIGATION, Stage.SUPPLEMENTARY})
_ALL_PRE_TRIAL = frozenset(
    {Stage.INVESTIGATION, Stage.ARREST_REVIEW, Stage.PROSECUTION_REVIEW, Stage.SUPPLEMENTARY}
)
_CUSTODY_CLOCKS = ("bail_max", "residential_surveillance_max")
# Closed when the file leaves the police; a clock stopped this way (not by its own act) stays visible
# to supervision as "ended by transfer", so an unnotified family is not forgotten.
_POLICE_24H_CLOCKS = (
    "detention_to_jail",
    "detention_family_notice",
    "detention_interrogation",
    "arrest_family_notice",
    "arrest_interrogation",
    "arrest_receipt",
)


def _actions() -> tuple[Action, ...]:
    return (
        Action(
            code="register",
            label="立案",
            stages=frozenset(),
            to_stage=Stage.INVESTIGATION,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="立案决定书",
            creates=True,
            articles=("刑事诉讼法第112条", "公安机关办理刑事案件程序规定第178条"),
            help="经县级以上公安机关负责人批准，制作立案决定书。",
        ),
        Action(
            code="detain",
            label="刑事拘留",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="拘留证",
            per_party=True,
            custody_from=frozenset({Custody.NONE, Custody.BAIL, Custody.SURVEILLANCE, Custody.RELEASED}),
            custody_to=Custody.DETAINED,
            starts=(
                ClockStart("detention_to_jail", per_party=True),
                ClockStart("detention_family_notice", per_party=True),
                ClockStart("detention_interrogation", per_party=True),
                ClockStart("arrest_request", per_party=True),
            ),
            stops=_CUSTODY_CLOCKS,
            articles=("刑事诉讼法第82条", "刑事诉讼法第85条", "公安机关办理刑事案件程序规定第125条"),
            help="出示拘留证；24小时内送看守所、通知家属、讯问；3日内提请批准逮捕（刑诉法91）。",
        ),
        Action(
            code="bail",
            label="取保候审",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="取保候审决定书",
            per_party=True,
            custody_from=frozenset({Custody.NONE, Custody.DETAINED, Custody.SURVEILLANCE, Custody.RELEASED}),
            custody_to=Custody.BAIL,
            starts=(ClockStart("bail_max", per_party=True),),
            stops=(
                "arrest_request",
                "arrest_request_extended",
                "arrest_request_roaming",
                "residential_surveillance_max",
            ),
            articles=("刑事诉讼法第67条", "刑事诉讼法第79条", "公安机关办理刑事案件程序规定第107条"),
        ),
        Action(
            code="surveil",
            label="监视居住",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="监视居住决定书",
            per_party=True,
            custody_from=frozenset({Custody.NONE, Custody.DETAINED, Custody.BAIL, Custody.RELEASED}),
            custody_to=Custody.SURVEILLANCE,
            starts=(ClockStart("residential_surveillance_max", per_party=True),),
            stops=("arrest_request", "arrest_request_extended", "arrest_request_roaming", "bail_max"),
            articles=("刑事诉讼法第74条", "刑事诉讼法第79条", "公安机关办理刑事案件程序规定第122条"),
        ),
        Action(
            code="release",
            label="释放",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="释放证明书",
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.ARRESTED, Custody.BAIL, Custody.SURVEILLANCE}),
            custody_to=Custody.RELEASED,
            stops=(
                "arrest_request",
                "arrest_request_extended",
                "arrest_request_roaming",
                "investigation_custody",
                *_CUSTODY_CLOCKS,
            ),
            needs_reason=True,
            articles=("刑事诉讼法第86条", "公安机关办理刑事案件程序规定第128条"),
        ),
        Action(
            code="deliver_to_jail",
            label="送看守所羁押",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.ARRESTED}),
            stops=("detention_to_jail",),
            articles=("刑事诉讼法第85条第2款", "刑事诉讼法第93条"),
            help="拘留后应当立即将被拘留人送看守所羁押，至迟不得超过二十四小时。",
        ),
        Action(
            code="notify_detention",
            label="通知家属（拘留）",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            instrument="拘留通知书",
            per_party=True,
            custody_from=frozenset({Custody.DETAINED}),
            stops=("detention_family_notice",),
            articles=("刑事诉讼法第85条第2款", "公安机关办理刑事案件程序规定第127条"),
            help="除无法通知等情形外，应当在拘留后二十四小时以内通知被拘留人的家属。",
        ),
        Action(
            code="notify_arrest",
            label="通知家属（逮捕）",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            instrument="逮捕通知书",
            per_party=True,
            custody_from=frozenset({Custody.ARRESTED}),
            stops=("arrest_family_notice",),
            articles=("刑事诉讼法第93条第2款", "公安机关办理刑事案件程序规定第145条"),
        ),
        Action(
            code="interrogate",
            label="讯问",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.ARRESTED}),
            stops=("detention_interrogation", "arrest_interrogation"),
            articles=("刑事诉讼法第86条", "刑事诉讼法第94条"),
            help="拘留、逮捕后应当在二十四小时以内进行讯问。",
        ),
        Action(
            code="return_arrest_receipt",
            label="送达逮捕执行回执",
            stages=INVESTIGATING,
            agency="police",
            duties=HANDLERS,
            instrument="执行回执",
            stops=("arrest_receipt",),
            articles=("公安机关办理刑事案件程序规定第142条", "人民检察院刑事诉讼规则第286条"),
            help="执行逮捕后三日以内将执行回执送达作出批准决定的人民检察院。",
        ),
        Action(
            code="request_arrest",
            label="提请批准逮捕",
            stages=frozenset({Stage.INVESTIGATION}),
            to_stage=Stage.ARREST_REVIEW,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="提请批准逮捕书",
            transfer_to=Target.PROCURATORATE,
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.BAIL, Custody.SURVEILLANCE, Custody.NONE}),
            stops=("arrest_request", "arrest_request_extended", "arrest_request_roaming"),
            starts=(
                ClockStart("arrest_review_detained", when=When.ACCEPT, condition="any_selected_detained"),
                ClockStart(
                    "arrest_review_not_detained", when=When.ACCEPT, condition="none_selected_detained"
                ),
            ),
            articles=("刑事诉讼法第87条", "刑事诉讼法第91条", "公安机关办理刑事案件程序规定第137条"),
            help="连同案卷材料、证据移送同级人民检察院审查批准。",
        ),
        Action(
            code="approve_arrest",
            label="批准逮捕",
            stages=frozenset({Stage.ARREST_REVIEW}),
            to_stage=Stage.INVESTIGATION,
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="批准逮捕决定书",
            hand_back=Target.POLICE,
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.BAIL, Custody.SURVEILLANCE, Custody.NONE}),
            custody_to=Custody.ARRESTED,
            stops=(
                "arrest_review_detained",
                "arrest_review_not_detained",
                "arrest_review_not_detained_complex",
                *_CUSTODY_CLOCKS,
            ),
            starts=(
                ClockStart("arrest_family_notice", per_party=True),
                ClockStart("arrest_interrogation", per_party=True),
                ClockStart("arrest_receipt"),
                ClockStart("investigation_custody", per_party=True),
            ),
            guards=("arrest_request_pending_for_selected",),
            articles=("刑事诉讼法第89条", "刑事诉讼法第90条", "人民检察院刑事诉讼规则第282条"),
            help="检察长决定；公安机关立即执行，执行后3日内送回执。",
        ),
        Action(
            code="deny_arrest",
            label="不批准逮捕",
            stages=frozenset({Stage.ARREST_REVIEW}),
            to_stage=Stage.INVESTIGATION,
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="不批准逮捕决定书",
            hand_back=Target.POLICE,
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.BAIL, Custody.SURVEILLANCE, Custody.NONE}),
            custody_to=Custody.RELEASED,
            stops=(
                "arrest_review_detained",
                "arrest_review_not_detained",
                "arrest_review_not_detained_complex",
            ),
            guards=("arrest_request_pending_for_selected",),
            needs_reason=True,
            articles=("刑事诉讼法第90条", "刑事诉讼法第91条第3款", "人民检察院刑事诉讼规则第285条"),
            help="说明理由；公安机关接到通知后立即释放，需要继续侦查的可取保候审或监视居住。",
        ),
        Action(
            code="extend_custody",
            label="批准延长侦查羁押期限",
            stages=frozenset({Stage.INVESTIGATION}),
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="批准延长侦查羁押期限决定书",
            per_party=True,
            custody_from=frozenset({Custody.ARRESTED}),
            stops=("investigation_custody",),
            guards=("custody_extension_allowed",),
            articles=(
                "刑事诉讼法第156条",
                "刑事诉讼法第158条",
                "刑事诉讼法第159条",
                "人民检察院刑事诉讼规则第309条至第313条",
            ),
            help="侦查羁押期限二个月；案情复杂的经上一级检察院批准延长一个月，再经省级检察院批准可延长二个月、"
            "再延长二个月（至多七个月）。超过法定羁押期限提请延长的，不予受理。",
        ),
        Action(
            code="transfer_for_prosecution",
            label="移送审查起诉",
            stages=frozenset({Stage.INVESTIGATION}),
            to_stage=Stage.PROSECUTION_REVIEW,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="起诉意见书",
            transfer_to=Target.PROCURATORATE,
            stops=(
                "investigation_custody",
                "investigation_custody_ext1",
                "investigation_custody_ext2",
                "investigation_custody_ext3",
                "arrest_request",
                "arrest_request_extended",
                *_CUSTODY_CLOCKS,
                *_POLICE_24H_CLOCKS,
            ),
            starts=(
                ClockStart("prosecution_review", when=When.ACCEPT, condition="not_fast_track"),
                ClockStart("prosecution_review_fast", when=When.ACCEPT, condition="fast_track"),
            ),
            articles=("刑事诉讼法第162条", "公安机关办理刑事案件程序规定第289条"),
            help="侦查终结，制作起诉意见书，连同案卷材料、证据一并移送同级人民检察院。",
        ),
        Action(
            code="withdraw",
            label="撤销案件",
            stages=INVESTIGATING,
            to_stage=Stage.WITHDRAWN,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="撤销案件决定书",
            needs_reason=True,
            articles=("刑事诉讼法第163条", "公安机关办理刑事案件程序规定第186条"),
            help="发现不应对犯罪嫌疑人追究刑事责任的，撤销案件；在押的立即释放。",
        ),
        Action(
            code="return_for_supplementary",
            label="退回补充侦查",
            stages=frozenset({Stage.PROSECUTION_REVIEW}),
            to_stage=Stage.SUPPLEMENTARY,
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="补充侦查提纲",
            hand_back=Target.POLICE,
            stops=(
                "prosecution_review",
                "prosecution_review_extended",
                "prosecution_review_fast",
                "prosecution_review_fast_over_1y",
            ),
            starts=(ClockStart("supplementary_investigation"),),
            guards=("supplementary_under_limit",),
            needs_reason=True,
            articles=("刑事诉讼法第175条第2款", "刑事诉讼法第175条第3款", "人民检察院刑事诉讼规则第346条"),
            help="每次一个月以内补充侦查完毕，以二次为限；重新移送后审查起诉期限重新计算。",
        ),
        Action(
            code="resubmit",
            label="补充侦查完毕重新移送",
            stages=frozenset({Stage.SUPPLEMENTARY}),
            to_stage=Stage.PROSECUTION_REVIEW,
            agency="police",
            duties=HANDLERS,
            approval=True,
            instrument="补充侦查报告书",
            transfer_to=Target.PROCURATORATE,
            stops=("supplementary_investigation",),
            starts=(
                ClockStart("prosecution_review", when=When.ACCEPT, condition="not_fast_track"),
                ClockStart("prosecution_review_fast", when=When.ACCEPT, condition="fast_track"),
            ),
            articles=("刑事诉讼法第175条第3款", "公安机关办理刑事案件程序规定第296条"),
        ),
        Action(
            code="not_prosecute",
            label="不起诉",
            stages=frozenset({Stage.PROSECUTION_REVIEW}),
            to_stage=Stage.NOT_PROSECUTED,
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="不起诉决定书",
            stops=(
                "prosecution_review",
                "prosecution_review_extended",
                "prosecution_review_fast",
                "prosecution_review_fast_over_1y",
            ),
            needs_reason=True,
            articles=("刑事诉讼法第175条第4款", "刑事诉讼法第177条", "刑事诉讼法第178条"),
            help="公开宣布即生效；被不起诉人在押的立即释放。",
        ),
        Action(
            code="indict",
            label="提起公诉",
            stages=frozenset({Stage.PROSECUTION_REVIEW}),
            to_stage=Stage.FIRST_INSTANCE,
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="起诉书",
            transfer_to=Target.COURT,
            stops=(
                "prosecution_review",
                "prosecution_review_extended",
                "prosecution_review_fast",
                "prosecution_review_fast_over_1y",
            ),
            starts=(
                ClockStart("first_instance", when=When.ACCEPT, condition="procedure_ordinary"),
                ClockStart("summary_trial", when=When.ACCEPT, condition="procedure_summary"),
                ClockStart("fast_track_trial", when=When.ACCEPT, condition="procedure_fast"),
            ),
            articles=("刑事诉讼法第176条", "人民检察院刑事诉讼规则第358条"),
            help="起诉书连同案卷材料、证据移送人民法院；认罪认罚的随案移送具结书、量刑建议。",
        ),
        Action(
            code="pronounce",
            label="一审宣判",
            stages=frozenset({Stage.FIRST_INSTANCE}),
            to_stage=Stage.APPEAL_PERIOD,
            agency="court",
            duties=COURT_STAFF,
            instrument="刑事判决书",
            stops=(
                "first_instance",
                "first_instance_max",
                "first_instance_extended",
                "summary_trial",
                "summary_trial_over_3y",
                "fast_track_trial",
                "fast_track_trial_over_1y",
            ),
            starts=(ClockStart("judgment_service_in_court"), ClockStart("appeal_judgment")),
            options=("verdict",),
            guards=("verdict_given",),
            articles=("刑事诉讼法第200条", "刑事诉讼法第202条", "刑事诉讼法第230条"),
            help="当庭宣判的5日内送达判决书；上诉、抗诉期限10日，自接到判决书的第二日起算。",
        ),
        Action(
            code="serve_judgment",
            label="送达判决书",
            stages=frozenset({Stage.APPEAL_PERIOD}),
            agency="court",
            duties=COURT_STAFF,
            stops=("judgment_service_in_court",),
            articles=("刑事诉讼法第202条第2款",),
            help="当庭宣告判决的，应当在五日以内将判决书送达当事人和提起公诉的人民检察院。",
        ),
        Action(
            code="appeal",
            label="被告人上诉",
            stages=frozenset({Stage.APPEAL_PERIOD}),
            to_stage=Stage.SECOND_INSTANCE,
            agency="court",
            duties=COURT_STAFF,
            instrument="上诉状",
            transfer_to=Target.UPPER_COURT,
            stops=("appeal_judgment", "appeal_ruling"),
            starts=(ClockStart("second_instance", when=When.ACCEPT),),
            guards=("within_appeal_period",),
            articles=("刑事诉讼法第227条", "刑事诉讼法第230条", "刑事诉讼法第231条"),
            help="登记被告人的上诉；上诉期满后3日内将上诉状连同案卷、证据移送上一级人民法院。",
        ),
        Action(
            code="protest",
            label="抗诉",
            stages=frozenset({Stage.APPEAL_PERIOD}),
            to_stage=Stage.SECOND_INSTANCE,
            agency="procuratorate",
            duties=HANDLERS,
            approval=True,
            instrument="抗诉书",
            transfer_to=Target.UPPER_COURT,
            stops=("appeal_judgment", "appeal_ruling"),
            starts=(ClockStart("second_instance", when=When.ACCEPT),),
            guards=("within_appeal_period", "prosecuted_this_case"),
            needs_reason=True,
            articles=("刑事诉讼法第228条", "刑事诉讼法第232条", "人民检察院刑事诉讼规则第585条"),
        ),
        Action(
            code="judgment_effective",
            label="判决生效",
            stages=frozenset({Stage.APPEAL_PERIOD}),
            to_stage=Stage.EFFECTIVE,
            agency="court",
            duties=COURT_STAFF,
            stops=("appeal_judgment", "appeal_ruling", "judgment_service_in_court"),
            starts=(
                ClockStart("execution_documents", condition="custodial_sentence"),
                ClockStart("corrections_notice", condition="community_sentence"),
                ClockStart("corrections_documents", condition="community_sentence"),
                ClockStart("corrections_report", condition="community_sentence"),
            ),
            guards=("appeal_period_expired",),
            articles=("刑事诉讼法第259条",),
            help="上诉、抗诉期满未上诉、抗诉的，判决发生法律效力。",
        ),
        Action(
            code="decide_appeal",
            label="二审裁判（终审）",
            stages=frozenset({Stage.SECOND_INSTANCE}),
            to_stage=Stage.EFFECTIVE,
            agency="court",
            duties=COURT_STAFF,
            instrument="刑事裁定书",
            stops=("second_instance", "second_instance_extended"),
            starts=(
                ClockStart("execution_documents", condition="custodial_sentence"),
                ClockStart("corrections_notice", condition="community_sentence"),
                ClockStart("corrections_documents", condition="community_sentence"),
                ClockStart("corrections_report", condition="community_sentence"),
            ),
            options=("verdict",),
            guards=("holds_case",),
            articles=("刑事诉讼法第236条", "刑事诉讼法第244条"),
            help="维持原判以裁定驳回上诉或抗诉；改判的以判决。第二审的判决、裁定是终审的判决、裁定。",
        ),
        Action(
            code="remand",
            label="发回重审",
            stages=frozenset({Stage.SECOND_INSTANCE}),
            to_stage=Stage.FIRST_INSTANCE,
            agency="court",
            duties=COURT_STAFF,
            instrument="发回重审裁定书",
            transfer_to=Target.ORIGINAL_COURT,
            stops=("second_instance", "second_instance_extended"),
            starts=(ClockStart("first_instance", when=When.ACCEPT),),
            guards=("holds_case", "remand_under_limit"),
            needs_reason=True,
            articles=("刑事诉讼法第236条第2款", "刑事诉讼法第239条"),
            help="原判决事实不清或证据不足的，发回原审人民法院重新审判，以一次为限；审限自收到发回案件之日起重新计算。",
        ),
        Action(
            code="deliver_for_execution",
            label="交付执行",
            stages=frozenset({Stage.EFFECTIVE}),
            to_stage=Stage.EXECUTION,
            agency="court",
            duties=COURT_STAFF,
            instrument="执行通知书",
            transfer_to=Target.EXECUTION,
            stops=("execution_documents", "corrections_documents", "corrections_notice"),
            guards=("holds_case", "punishment_to_execute"),
            articles=(
                "刑事诉讼法第264条",
                "最高人民法院关于适用《刑事诉讼法》的解释第511条",
                "社区矫正法第20条",
            ),
            help="判决生效后10日内将判决书、执行通知书、结案登记表送达执行机关；管制、缓刑的送达社区矫正机构。",
        ),
        Action(
            code="offender_report",
            label="社区矫正对象报到",
            stages=frozenset({Stage.EFFECTIVE, Stage.EXECUTION}),
            agency="justice",
            duties=CORRECTIONS_STAFF,
            per_party=True,
            unit_kinds=frozenset({"corrections", "justice_office"}),
            stops=("corrections_report",),
            guards=("may_register_report",),
            articles=("社区矫正法第21条第1款", "社区矫正法第22条"),
            help="社区矫正对象自判决、裁定生效之日起十日内到执行地社区矫正机构报到。",
        ),
        Action(
            code="release_defendant",
            label="释放在押被告人",
            stages=frozenset(
                {Stage.FIRST_INSTANCE, Stage.APPEAL_PERIOD, Stage.SECOND_INSTANCE, Stage.EFFECTIVE}
            ),
            agency="court",
            duties=COURT_STAFF,
            instrument="释放在押被告人通知书",
            per_party=True,
            custody_from=frozenset({Custody.DETAINED, Custody.ARRESTED}),
            custody_to=Custody.RELEASED,
            guards=("holds_case",),
            articles=("刑事诉讼法第260条", "最高人民法院关于适用《刑事诉讼法》的解释第170条"),
            help="宣告无罪、免除刑事处罚、判处管制、宣告缓刑、单处附加刑或刑期已满的，在押被告人应当立即释放。",
        ),
        Action(
            code="close",
            label="结案（无需执行）",
            stages=frozenset({Stage.EFFECTIVE}),
            to_stage=Stage.CLOSED,
            agency="court",
            duties=COURT_STAFF,
            guards=("holds_case", "nothing_to_execute"),
            articles=("刑事诉讼法第260条",),
            help="宣告无罪、免除刑事处罚的判决生效后结案。",
        ),
    )


ACTIONS: dict[str, Action] = {a.code: a for a in _actions()}

# Inbox operations on a pending transfer; they are not procedure steps of their own.
ACCEPT = "accept"
RETURN = "return"
INBOX_LABELS = {ACCEPT: "受理", RETURN: "退回"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of a judgment, as far as procedure needs it (sentence maths comes later)."""

    guilty: bool
    penalty: str  # "none" | "fine" | "control" (管制) | "criminal_detention" (拘役) | "fixed_term" | "life"
    months: int = 0
    probation_months: int = 0  # 缓刑考验期, 0 = no probation
    charges: tuple[str, ...] = field(default_factory=tuple)
    prohibitions: str = ""  # 禁止令 (刑法第38条第2款、第72条第2款), for 管制 and 缓刑

    @property
    def community(self) -> bool:
        """管制 and 缓刑 are executed by community corrections (社区矫正法第2条)."""
        return self.guilty and (self.penalty == "control" or self.probation_months > 0)

    @property
    def custodial(self) -> bool:
        return (
            self.guilty
            and self.penalty in {"criminal_detention", "fixed_term", "life"}
            and not self.community
        )


PENALTY_LABELS = {
    "none": "免予刑事处罚",
    "fine": "单处罚金",
    "control": "管制",
    "criminal_detention": "拘役",
    "fixed_term": "有期徒刑",
    "life": "无期徒刑",
}

TRIAL_PROCEDURES = {"ordinary": "普通程序", "summary": "简易程序", "fast": "速裁程序"}


def actions_for_stage(stage: Stage | None) -> list[Action]:
    """Actions that the table allows in ``stage`` (None = before the case exists)."""
    if stage is None:
        return [a for a in ACTIONS.values() if a.creates]
    return [a for a in ACTIONS.values() if stage in a.stages]
