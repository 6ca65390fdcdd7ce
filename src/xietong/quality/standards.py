"""评查标准: the checklists a reviewer scores a case against, one per kind of case (F16).

Each item names what is checked, the norm it comes from and the points a defect costs by its class
(瑕疵 / 不规范 / 错误). A case starts from 100 and loses the points of each defect found; the reviewer
may adjust the result within ``MAX_ADJUSTMENT`` with a written reason. The grade bands follow the
four grades of case quality review in practice (优质/合格/瑕疵/不合格); the bands are ours.

Pure module: no Django import, so the catalogue can be tested and printed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """Defect class (问题性质)."""

    FLAW = "flaw"
    IRREGULAR = "irregular"
    ERROR = "error"

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


SEVERITY_LABELS: dict[Severity, str] = {
    Severity.FLAW: "瑕疵",
    Severity.IRREGULAR: "不规范",
    Severity.ERROR: "错误",
}
SEVERITY_CHOICES = [(s.value, s.label) for s in Severity]

FULL_SCORE = 100
MAX_ADJUSTMENT = 10  # a reviewer's correction of the computed score, either way, with a reason


@dataclass(frozen=True)
class Item:
    """One line of a checklist. ``points`` is what one defect costs: (瑕疵, 不规范, 错误)."""

    code: str
    text: str
    citation: str
    points: tuple[int, int, int] = (1, 3, 10)
    topic: str = ""  # what machine pre-screening findings of this kind attach to

    def points_for(self, severity: Severity | str) -> int:
        return self.points[list(Severity).index(Severity(severity))]


@dataclass(frozen=True)
class Checklist:
    code: str
    name: str
    applies_to: str
    items: tuple[Item, ...]

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    def for_topic(self, topic: str) -> Item | None:
        """The item a machine finding of ``topic`` is filed under (the specific one before 通用)."""
        return next((i for i in self.items if i.topic == topic), None)


# Items every checklist carries (通用). Their topics are those machine pre-screening produces.
COMMON: tuple[Item, ...] = (
    Item(
        "TY-01",
        "诉讼行为依法制作相应法律文书，并经审批、签发、盖章",
        "刑事诉讼法第3条第2款；各诉讼行为所依条文（见程序表）",
        topic="instrument",
    ),
    Item(
        "TY-02",
        "法律文书落款日期与办案进程一致，不倒签、不补签",
        "刑事诉讼法第53条",
        points=(2, 5, 10),
        topic="date",
    ),
    Item(
        "TY-03",
        "卷宗材料完整、扫描清晰，无空白页、缺页、错页",
        "刑事诉讼法第162条第1款（连同案卷材料、证据一并移送）",
        points=(1, 2, 5),
        topic="scan",
    ),
    Item(
        "TY-04",
        "讯问、询问笔录经被讯问（询问）人核对，并逐页签名、捺印",
        "刑事诉讼法第122条",
        points=(2, 5, 10),
        topic="signature",
    ),
    Item(
        "TY-05",
        "在法定办案期限内办结，延长期限依法审批",
        "刑事诉讼法第105条及各期限条文",
        points=(2, 5, 10),
        topic="deadline",
    ),
)

INVESTIGATION = Checklist(
    code="investigation",
    name="侦查环节评查标准",
    applies_to="公安机关办理的刑事案件（侦查环节）",
    items=(
        Item(
            "ZC-01",
            "立案有事实依据，经县级以上公安机关负责人批准",
            "刑事诉讼法第112条；公安机关办理刑事案件程序规定第178条",
        ),
        Item("ZC-02", "拘留出示拘留证，24小时内送看守所羁押并通知家属", "刑事诉讼法第85条"),
        Item("ZC-03", "逮捕出示逮捕证，24小时内通知被逮捕人家属", "刑事诉讼法第93条"),
        Item("ZC-04", "讯问由二名以上侦查人员进行，送押后在看守所内讯问", "刑事诉讼法第118条"),
        Item("ZC-05", "讯问时告知诉讼权利及如实供述从宽、认罪认罚的规定", "刑事诉讼法第120条第2款"),
        Item(
            "ZC-06",
            "依照法定程序收集证据，无应当排除的非法证据",
            "刑事诉讼法第52条、第56条",
            points=(2, 5, 15),
        ),
        Item(
            "ZC-07",
            "侦查终结事实清楚、证据确实充分，起诉意见书写明认罪情况",
            "刑事诉讼法第162条",
            points=(2, 5, 15),
        ),
        Item(
            "ZC-08",
            "补充侦查按提纲完成，避免多次退回补充侦查",
            "刑事诉讼法第175条第2款、第3款",
            topic="supplementary",
        ),
        *COMMON,
    ),
)

PROSECUTION = Checklist(
    code="prosecution",
    name="公诉案件评查标准",
    applies_to="人民检察院提起公诉或审查起诉中的案件",
    items=(
        Item(
            "GS-01",
            "审查起诉时讯问犯罪嫌疑人，听取辩护人或值班律师、被害人意见并记录在案",
            "刑事诉讼法第173条",
        ),
        Item(
            "GS-02",
            "认罪认罚具结书在辩护人或者值班律师在场的情况下签署",
            "刑事诉讼法第174条",
        ),
        Item(
            "GS-03",
            "退回补充侦查确有必要、提纲明确，以二次为限",
            "刑事诉讼法第175条第2款、第3款",
            topic="supplementary",
        ),
        Item(
            "GS-04", "起诉的案件犯罪事实已经查清，证据确实、充分", "刑事诉讼法第176条第1款", points=(2, 5, 15)
        ),
        Item("GS-05", "认罪认罚案件提出明确的量刑建议", "刑事诉讼法第176条第2款"),
        Item(
            "GS-06", "应当排除的非法证据依法排除，不作为起诉决定的依据", "刑事诉讼法第56条", points=(2, 5, 15)
        ),
        *COMMON,
    ),
)

NON_PROSECUTION = Checklist(
    code="non_prosecution",
    name="不起诉案件评查标准",
    applies_to="人民检察院决定不起诉的案件",
    items=(
        Item("BQ-01", "不起诉符合法定情形，理由充分", "刑事诉讼法第177条", points=(2, 5, 15)),
        Item("BQ-02", "不起诉决定公开宣布，送达被不起诉人及其所在单位；在押的立即释放", "刑事诉讼法第178条"),
        Item("BQ-03", "不起诉决定书送达移送起诉的公安机关", "刑事诉讼法第179条"),
        Item("BQ-04", "不起诉决定书送达被害人，并告知申诉权利", "刑事诉讼法第180条"),
        Item(
            "BQ-05",
            "退回补充侦查确有必要、提纲明确，以二次为限",
            "刑事诉讼法第175条第2款、第3款",
            topic="supplementary",
        ),
        *COMMON,
    ),
)

TRIAL = Checklist(
    code="trial",
    name="刑事审判案件评查标准",
    applies_to="人民法院审理的刑事案件",
    items=(
        Item(
            "SP-01",
            "判决根据已经查明的事实、证据和法律作出，事实清楚、证据确实充分",
            "刑事诉讼法第200条",
            points=(2, 5, 15),
        ),
        Item("SP-02", "认罪认罚案件依法采纳量刑建议，不采纳的说明理由", "刑事诉讼法第201条"),
        Item("SP-03", "判决书依法宣告、送达当事人和提起公诉的人民检察院", "刑事诉讼法第202条"),
        Item("SP-04", "在法定审理期限内审结，延长依法批准", "刑事诉讼法第208条"),
        *COMMON,
    ),
)

CHECKLISTS: dict[str, Checklist] = {c.code: c for c in (INVESTIGATION, PROSECUTION, NON_PROSECUTION, TRIAL)}


def checklist_for(*, agency: str, stage: str) -> Checklist:
    """The checklist for a case reviewed as work of a unit of ``agency``: a police unit's work is
    the investigation; a procuratorate's is a 不起诉 case when it ended so, otherwise a 公诉 case; a
    court's is the trial. Units of other agencies are not reviewed (the campaign refuses them)."""
    if agency == "police":
        return INVESTIGATION
    if agency == "court":
        return TRIAL
    if stage == "not_prosecuted":
        return NON_PROSECUTION
    return PROSECUTION


def score(deductions: list[int], adjustment: int = 0) -> int:
    """100 minus the points of every defect, plus the reviewer's adjustment, kept within 0–100."""
    return max(0, min(FULL_SCORE, FULL_SCORE - sum(deductions) + adjustment))


def grade(value: int, *, has_error: bool) -> str:
    """优质/合格/瑕疵/不合格. A case with an 错误 defect is at best a 瑕疵案件."""
    if value < 60:
        return "不合格案件"
    if has_error or value < 80:
        return "瑕疵案件"
    if value < 95:
        return "合格案件"
    return "优质案件"
