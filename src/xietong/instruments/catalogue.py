"""The catalogue of legal instruments (文书) the platform drafts, seals and serves (F5).

One row per instrument of ``domain/procedure.md`` §3 that an agency on the platform issues: its
title, issuing agency, the word of its 文号, who receives it, the articles it rests on, the body text
drafted from case data (a Django template the handler edits while the draft is open) and the
statutory service clock that its service stops. Pure data: no database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

POLICE, PROCURATORATE, COURT, JUSTICE = "police", "procuratorate", "court", "justice"

_CPL = "《中华人民共和国刑事诉讼法》"


@dataclass(frozen=True)
class Kind:
    title: str
    agency: str
    word: str  # the kind's word in the 文号: 提捕 → 姑苏公(刑)提捕字〔2026〕12号
    articles: tuple[str, ...]
    body: str  # Django template source: the paragraphs of the body, one per line
    serve_to: str | None = (
        None  # the case's unit that receives it electronically: police/procuratorate/court/execution
    )
    to_person: str = ""  # a person served on paper with a 送达回证 (e.g. 被拘留人家属)
    service_rule: str | None = None  # the clock (cases.deadlines) that its service stops
    closing: str = ""  # 此致 line before the 落款, e.g. 「此致\n苏州市姑苏区人民检察院」
    uploadable: bool = False  # the court may seal its own document (from its trial system) instead
    to_corrections: bool = False  # also served on the corrections unit supervising the persons (F7)

    @property
    def recipient_label(self) -> str:
        if self.serve_to:
            return _TARGET_LABEL[self.serve_to]
        return self.to_person or "附卷"


_TARGET_LABEL = {
    POLICE: "公安机关",
    PROCURATORATE: "人民检察院",
    COURT: "人民法院",
    "execution": "执行机关",
}

# Body templates see: case, parties (the persons concerned), names, charge, unit, recipient (name of
# the receiving unit or person), today (成文日期 as 2026年11月28日), facts, verdict_text, reason.
_NAMED = "犯罪嫌疑人{{ names }}"
_PERSONS = "{% for p in persons %}{{ p }}\n{% endfor %}"

KINDS: dict[str, Kind] = {
    k.title: k
    for k in [
        Kind(
            "立案决定书",
            POLICE,
            "立",
            ("公安机关办理刑事案件程序规定第178条",),
            "根据" + _CPL + "第一百一十二条之规定，决定对{{ case.title }}立案侦查。\n简要案情：{{ facts }}",
        ),
        Kind(
            "不予立案通知书",
            POLICE,
            "不立",
            ("公安机关办理刑事案件程序规定第178条第2款",),
            "{{ recipient }}：\n你（单位）于____年__月__日提出控告的{{ case.title }}一案，我局经审查认为没有犯罪事实"
            "（或者犯罪事实显著轻微，不需要追究刑事责任），根据"
            + _CPL
            + "第一百一十二条之规定，决定不予立案。\n"
            "如不服本决定，可以在收到本通知书之日起七日以内向我局申请复议。",
            to_person="控告人",
        ),
        Kind(
            "拘留证",
            POLICE,
            "拘",
            (f"{_CPL}第82条", f"{_CPL}第85条", "公安机关办理刑事案件程序规定第125条"),
            "根据"
            + _CPL
            + "第八十二条之规定，兹决定对涉嫌{{ charge }}的"
            + _NAMED
            + "执行拘留，送看守所羁押。\n"
            + _PERSONS,
            to_person="被拘留人",
        ),
        Kind(
            "拘留通知书",
            POLICE,
            "拘通",
            (f"{_CPL}第85条第2款", "公安机关办理刑事案件程序规定第127条"),
            "{{ names }}的家属：\n根据"
            + _CPL
            + "第八十二条之规定，我局已于{{ today }}将涉嫌{{ charge }}的{{ names }}"
            "刑事拘留，现羁押在苏州市看守所。\n特此通知。",
            to_person="被拘留人家属",
            service_rule="detention_family_notice",
        ),
        Kind(
            "释放通知书",
            POLICE,
            "释通",
            (f"{_CPL}第86条", "公安机关办理刑事案件程序规定第128条"),
            "苏州市看守所：\n因不应当追究刑事责任（或者需要变更强制措施），根据"
            + _CPL
            + "第八十六条之规定，请将"
            + _NAMED
            + "立即释放。",
            to_person="看守所",
        ),
        Kind(
            "释放证明书",
            POLICE,
            "释证",
            (f"{_CPL}第86条", "公安机关办理刑事案件程序规定第128条"),
            "兹证明{{ names }}（涉嫌{{ charge }}）经我局决定，已于{{ today }}释放。\n" + _PERSONS,
            to_person="被释放人",
        ),
        Kind(
            "提请批准逮捕书",
            POLICE,
            "提捕",
            (f"{_CPL}第87条", f"{_CPL}第91条", "公安机关办理刑事案件程序规定第137条"),
            _NAMED + "涉嫌{{ charge }}一案，由我局立案侦查。\n" + _PERSONS + "经依法侦查查明：{{ facts }}\n"
            "认定上述事实的证据有：讯问笔录、询问笔录、现场勘验检查笔录、鉴定意见等，已随案移送。\n"
            "综上所述，"
            + _NAMED
            + "的行为已涉嫌{{ charge }}，可能判处徒刑以上刑罚，采取取保候审尚不足以防止发生社会危险性，"
            "根据" + _CPL + "第八十一条、第八十七条之规定，特提请批准逮捕。",
            serve_to=PROCURATORATE,
            closing="此致\n{{ recipient }}",
        ),
        Kind(
            "批准逮捕决定书",
            PROCURATORATE,
            "批捕",
            (f"{_CPL}第90条", "人民检察院刑事诉讼规则第284条"),
            "{{ recipient }}：\n你局以{{ request_number }}提请批准逮捕书提请批准逮捕"
            + _NAMED
            + "一案，经本院审查认为，"
            "该犯罪嫌疑人涉嫌{{ charge }}，有证据证明有犯罪事实，可能判处徒刑以上刑罚，采取取保候审尚不足以防止发生社会危险性，"
            "符合"
            + _CPL
            + "第八十一条规定的逮捕条件。根据"
            + _CPL
            + "第九十条之规定，决定批准逮捕"
            + _NAMED
            + "。\n"
            "请依法立即执行，并将执行情况在三日以内通知本院。",
            serve_to=POLICE,
        ),
        Kind(
            "不批准逮捕决定书",
            PROCURATORATE,
            "不捕",
            (f"{_CPL}第90条", "人民检察院刑事诉讼规则第285条"),
            "{{ recipient }}：\n你局提请批准逮捕"
            + _NAMED
            + "一案，经本院审查认为：{{ reason|default:'现有证据不足以证明其有逮捕必要' }}。"
            "根据" + _CPL + "第九十条之规定，决定不批准逮捕" + _NAMED + "。\n"
            "请依法立即执行，并将执行情况在三日以内通知本院。",
            serve_to=POLICE,
        ),
        Kind(
            "逮捕证",
            POLICE,
            "捕",
            (f"{_CPL}第93条", "公安机关办理刑事案件程序规定第142条"),
            "根据" + _CPL + "第八十条之规定，经{{ case.procuratorate_unit.name|default:'人民检察院' }}批准，"
            "兹派我局侦查人员对涉嫌{{ charge }}的" + _NAMED + "执行逮捕，送看守所羁押。\n" + _PERSONS,
            to_person="被逮捕人",
        ),
        Kind(
            "逮捕通知书",
            POLICE,
            "捕通",
            (f"{_CPL}第93条第2款", "公安机关办理刑事案件程序规定第145条"),
            "{{ names }}的家属：\n经{{ case.procuratorate_unit.name|default:'人民检察院' }}批准，我局已于{{ today }}"
            "将涉嫌{{ charge }}的{{ names }}逮捕，现羁押在苏州市看守所。\n特此通知。",
            to_person="被逮捕人家属",
            service_rule="arrest_family_notice",
        ),
        Kind(
            "执行回执",
            POLICE,
            "执回",
            ("公安机关办理刑事案件程序规定第142条", "人民检察院刑事诉讼规则第286条"),
            "{{ recipient }}：\n你院批准逮捕"
            + _NAMED
            + "的决定书已收到，我局已于{{ today }}执行完毕。\n特此回执。",
            serve_to=PROCURATORATE,
            service_rule="arrest_receipt",
        ),
        Kind(
            "提请批准延长侦查羁押期限意见书",
            POLICE,
            "提延",
            (f"{_CPL}第156条", "公安机关办理刑事案件程序规定第148条"),
            _NAMED
            + "涉嫌{{ charge }}一案，因案情复杂、期限届满不能终结，根据"
            + _CPL
            + "第一百五十六条之规定，提请批准延长侦查羁押期限一个月。",
            serve_to=PROCURATORATE,
            closing="此致\n{{ recipient }}",
        ),
        Kind(
            "批准延长侦查羁押期限决定书",
            PROCURATORATE,
            "批延",
            (f"{_CPL}第156条", "人民检察院刑事诉讼规则第313条"),
            "{{ recipient }}：\n你局提请批准延长"
            + _NAMED
            + "侦查羁押期限一案，经审查，根据"
            + _CPL
            + "第一百五十六条之规定，决定批准延长侦查羁押期限一个月。",
            serve_to=POLICE,
        ),
        Kind(
            "取保候审决定书",
            POLICE,
            "取保",
            (f"{_CPL}第67条", "公安机关办理刑事案件程序规定第83条"),
            "因"
            + _NAMED
            + "涉嫌{{ charge }}，根据"
            + _CPL
            + "第六十七条之规定，决定对其取保候审，期限自{{ today }}起算。\n"
            + _PERSONS
            + "被取保候审人应当遵守"
            + _CPL
            + "第七十一条的规定。",
            to_person="被取保候审人",
        ),
        Kind(
            "执行取保候审通知书",
            PROCURATORATE,
            "执保",
            ("人民检察院刑事诉讼规则第95条", "公安机关办理刑事案件程序规定第92条"),
            "{{ recipient }}：\n本院决定对" + _NAMED + "取保候审，请你局依法执行。",
            serve_to=POLICE,
        ),
        Kind(
            "监视居住决定书",
            POLICE,
            "监居",
            (f"{_CPL}第74条", "公安机关办理刑事案件程序规定第110条"),
            "因"
            + _NAMED
            + "涉嫌{{ charge }}，根据"
            + _CPL
            + "第七十四条之规定，决定对其监视居住，期限自{{ today }}起算。\n"
            + _PERSONS,
            to_person="被监视居住人",
        ),
        Kind(
            "起诉意见书",
            POLICE,
            "诉",
            (f"{_CPL}第162条", "公安机关办理刑事案件程序规定第289条"),
            _NAMED
            + "涉嫌{{ charge }}一案，由我局立案侦查，现已侦查终结。\n"
            + _PERSONS
            + "经依法侦查查明：{{ facts }}\n"
            "认定上述事实的证据如下：讯问笔录、询问笔录、鉴定意见、书证、物证照片等，已随案移送。\n"
            "综上所述，" + _NAMED + "的行为已触犯《中华人民共和国刑法》，涉嫌{{ charge }}。"
            "依照" + _CPL + "第一百六十二条之规定，现将此案移送审查起诉。",
            serve_to=PROCURATORATE,
            closing="此致\n{{ recipient }}",
        ),
        Kind(
            "撤销案件决定书",
            POLICE,
            "撤",
            (f"{_CPL}第163条", "公安机关办理刑事案件程序规定第186条"),
            "我局办理的{{ case.title }}，因{{ reason|default:'发现不应对犯罪嫌疑人追究刑事责任' }}，"
            "根据" + _CPL + "第一百六十三条之规定，决定撤销此案。",
        ),
        Kind(
            "补充侦查提纲",
            PROCURATORATE,
            "补提",
            (f"{_CPL}第175条", "人民检察院刑事诉讼规则第342条"),
            "{{ recipient }}：\n你局移送审查起诉的"
            + _NAMED
            + "涉嫌{{ charge }}一案，经本院审查，需要补充侦查以下事项：\n"
            "{{ reason|default:'一、进一步查明作案时间、地点及赃物去向；二、补充相关证人证言；三、补充鉴定意见。' }}\n"
            "请在一个月以内补充侦查完毕，移送本院。",
            serve_to=POLICE,
            closing="",
        ),
        Kind(
            "退回补充侦查决定书",
            PROCURATORATE,
            "退查",
            (f"{_CPL}第175条第2款", "人民检察院刑事诉讼规则第342条"),
            "{{ recipient }}：\n你局移送审查起诉的"
            + _NAMED
            + "涉嫌{{ charge }}一案，经本院审查认为犯罪事实不清、证据不足，"
            "根据" + _CPL + "第一百七十五条第二款之规定，决定退回你局补充侦查。补充侦查事项见补充侦查提纲。",
            serve_to=POLICE,
        ),
        Kind(
            "补充侦查报告书",
            POLICE,
            "补报",
            ("公安机关办理刑事案件程序规定第296条",),
            _NAMED
            + "涉嫌{{ charge }}一案，我局已按补充侦查提纲的要求补充侦查完毕，现将补充侦查情况报告如下：\n"
            "{{ reason|default:'已补充证人证言二份、鉴定意见一份，查明赃物去向。' }}\n现重新移送审查起诉。",
            serve_to=PROCURATORATE,
            closing="此致\n{{ recipient }}",
        ),
        Kind(
            "起诉书",
            PROCURATORATE,
            "刑诉",
            (f"{_CPL}第176条", "人民检察院刑事诉讼规则第358条"),
            "被告人"
            + _PERSONS
            + "本案由{{ case.police_unit.name }}侦查终结，以被告人{{ names }}涉嫌{{ charge }}，"
            "移送本院审查起诉。本院依法讯问了被告人，听取了辩护人、被害人的意见，审查了全部案件材料。\n"
            "经依法审查查明：{{ facts }}\n"
            "本院认为，被告人{{ names }}的行为触犯了《中华人民共和国刑法》，犯罪事实清楚，证据确实、充分，"
            "应当以{{ charge }}追究其刑事责任。根据" + _CPL + "第一百七十六条之规定，提起公诉，请依法判处。",
            serve_to=COURT,
            closing="此致\n{{ recipient }}",
        ),
        Kind(
            "量刑建议书",
            PROCURATORATE,
            "量建",
            ("人民检察院刑事诉讼规则第364条",),
            "{{ recipient }}：\n本院以{{ charge }}对被告人{{ names }}提起公诉，根据其犯罪事实、情节和认罪认罚情况，"
            "建议判处{{ reason|default:'有期徒刑一年至一年六个月，并处罚金' }}。",
            serve_to=COURT,
        ),
        Kind(
            "不起诉决定书",
            PROCURATORATE,
            "不诉",
            (f"{_CPL}第177条", "人民检察院刑事诉讼规则第370条"),
            "被不起诉人"
            + _PERSONS
            + "本案由{{ case.police_unit.name }}侦查终结，以被不起诉人{{ names }}涉嫌{{ charge }}，"
            "移送本院审查起诉。\n经本院依法审查查明：{{ facts }}\n"
            "本院认为，{{ reason|default:'被不起诉人犯罪情节轻微，依照刑法规定不需要判处刑罚' }}。根据"
            + _CPL
            + "第一百七十七条第二款之规定，决定对{{ names }}不起诉。\n"
            "被害人如不服本决定，可以自收到本决定书后七日以内向上一级人民检察院申诉。",
            serve_to=POLICE,
        ),
        Kind(
            "纠正违法通知书",
            PROCURATORATE,
            "纠违",
            ("人民检察院刑事诉讼规则第564条",),
            "{{ recipient }}：\n本院在办理{{ case.title }}中发现：{{ reason|default:'存在超期羁押情形' }}。"
            "根据有关法律规定，请予以纠正，并将纠正情况书面告知本院。",
            serve_to=POLICE,
        ),
        Kind(
            "抗诉书",
            PROCURATORATE,
            "刑抗",
            (f"{_CPL}第228条", "人民检察院刑事诉讼规则第585条"),
            "{{ case.court_unit.name|default:'人民法院' }}以被告人{{ names }}犯{{ charge }}作出的一审判决，本院认为"
            "{{ reason|default:'量刑明显不当' }}。根据"
            + _CPL
            + "第二百二十八条之规定，提出抗诉，请依法判处。",
            serve_to=COURT,
            closing="此致\n{{ recipient }}",
        ),
        Kind(
            "传票",
            COURT,
            "传",
            (f"{_CPL}第187条第3款",),
            "被告人{{ names }}：\n本院受理的{{ case.title }}定于____年__月__日__时在本院第__法庭公开开庭审理，"
            "请准时到庭。",
            to_person="被告人",
        ),
        Kind(
            "出庭通知书",
            COURT,
            "出通",
            (f"{_CPL}第187条第3款",),
            "{{ recipient }}：\n本院受理的被告人{{ names }}{{ charge }}一案，定于____年__月__日开庭审理，"
            "请派员出庭支持公诉。",
            serve_to=PROCURATORATE,
        ),
        Kind(
            "刑事判决书",
            COURT,
            "刑初",
            (f"{_CPL}第200条", f"{_CPL}第202条"),
            "公诉机关{{ case.procuratorate_unit.name|default:'人民检察院' }}。\n被告人"
            + _PERSONS
            + "{{ case.procuratorate_unit.name|default:'公诉机关' }}以被告人{{ names }}犯{{ charge }}，向本院提起公诉。"
            "本院依法组成合议庭，公开开庭审理了本案。\n经审理查明：{{ facts }}\n"
            "本院认为，{{ verdict_reason }}依照《中华人民共和国刑法》有关规定，判决如下：\n{{ verdict_text }}\n"
            "如不服本判决，可在接到判决书的第二日起十日内，通过本院或者直接向苏州市中级人民法院提出上诉。",
            serve_to=PROCURATORATE,
            service_rule="judgment_service_in_court",
            uploadable=True,
        ),
        Kind(
            "刑事裁定书",
            COURT,
            "刑终",
            (f"{_CPL}第236条",),
            "上诉人（原审被告人）{{ names }}犯{{ charge }}一案，不服{{ case.court_unit.name|default:'原审人民法院' }}"
            "的刑事判决，提出上诉。本院依法组成合议庭审理了本案，现已审理终结。\n"
            "本院认为，原判认定事实清楚，证据确实、充分，定罪准确，量刑适当，审判程序合法。"
            "依照"
            + _CPL
            + "第二百三十六条第一款第（一）项之规定，裁定如下：\n驳回上诉，维持原判。\n本裁定为终审裁定。",
            serve_to=PROCURATORATE,
            uploadable=True,
        ),
        Kind(
            "发回重审裁定书",
            COURT,
            "刑终",
            (f"{_CPL}第236条第1款第3项",),
            "上诉人（原审被告人）{{ names }}犯{{ charge }}一案，本院审理认为，原判决{{ reason|default:'事实不清、证据不足' }}。"
            "依照" + _CPL + "第二百三十六条第一款第（三）项之规定，裁定如下：\n"
            "一、撤销原判决；\n二、发回原审人民法院重新审判。\n本裁定为终审裁定。",
            serve_to=PROCURATORATE,
            uploadable=True,
        ),
        Kind(
            "上诉状",
            COURT,
            "上诉登",
            (f"{_CPL}第227条", f"{_CPL}第231条"),
            "上诉人{{ names }}不服{{ case.court_unit.name|default:'人民法院' }}的刑事判决，于{{ today }}提出上诉。"
            "上诉理由：{{ reason|default:'原判量刑过重' }}。\n本院已登记收到上诉状，依法将副本送交同级人民检察院和对方当事人。",
            serve_to=PROCURATORATE,
        ),
        Kind(
            "执行通知书",
            COURT,
            "执通",
            (f"{_CPL}第264条", "最高人民法院关于适用《刑事诉讼法》的解释第511条"),
            "{{ recipient }}：\n本院审理的被告人{{ names }}犯{{ charge }}一案，判决已经发生法律效力。判决如下：\n{{ verdict_text }}\n"
            "根据" + _CPL + "第二百六十四条之规定，现将该罪犯交付执行。随附判决书、起诉书副本、结案登记表。",
            serve_to="execution",
            service_rule="execution_documents",
        ),
        Kind(
            "结案登记表",
            COURT,
            "结登",
            ("最高人民法院关于适用《刑事诉讼法》的解释第511条",),
            "案件：{{ case.title }}（{{ case.number }}）\n被告人：{{ names }}\n罪名：{{ charge }}\n裁判结果：{{ verdict_text }}\n"
            "生效日期：{{ today }}\n执行机关：{{ recipient }}",
            serve_to="execution",
        ),
        Kind(
            "假释证明书",
            JUSTICE,
            "假证",
            ("中华人民共和国监狱法第33条", "社区矫正法第21条"),
            "兹证明罪犯{{ names }}，因{{ charge }}经{{ case.court_unit.name|default:'人民法院' }}判处{{ verdict_text }}，"
            "经人民法院裁定假释，于{{ today }}予以假释。假释考验期内依法实行社区矫正，应当在十日内到执行地社区矫正机构报到。",
            to_person="被假释罪犯",
            to_corrections=True,
        ),
        Kind(
            "社区矫正报到通知书",
            JUSTICE,
            "矫通",
            ("社区矫正法第21条", "社区矫正法第22条"),
            "社区矫正对象{{ names }}：\n你因{{ charge }}被判处{{ verdict_text }}，依法实行社区矫正。请自判决生效之日起十日内"
            "到{{ unit.name }}报到，接受社区矫正。",
            to_person="社区矫正对象",
        ),
        Kind(
            "解除社区矫正证明书",
            JUSTICE,
            "解矫",
            ("社区矫正法第44条",),
            "兹证明社区矫正对象{{ names }}（因{{ charge }}被判处{{ verdict_text }}）矫正期满，于{{ today }}依法解除社区矫正。",
            to_person="社区矫正对象",
        ),
        Kind(
            "调查评估意见书",
            JUSTICE,
            "调评",
            ("社区矫正法第18条",),
            "{{ recipient }}：\n受你单位委托，我局对{{ names }}是否适合社区矫正进行了调查评估。经调查，"
            "{{ reason|default:'被告人居住地固定，家庭和社区支持条件良好，适宜社区矫正' }}。",
            serve_to=COURT,
        ),
        # ---- the other instruments of procedure.md §3 (drafted by hand from the case page)
        Kind(
            "受案登记表",
            POLICE,
            "受",
            ("公安机关办理刑事案件程序规定第171条",),
            "案件来源：报案\n简要案情：{{ facts }}\n涉案人员：{{ names }}\n受案意见：经审查，属于本局管辖，予以受案。",
        ),
        Kind(
            "受案回执",
            POLICE,
            "受回",
            ("公安机关办理刑事案件程序规定第171条",),
            "报案人：\n你（单位）于{{ today }}报称的{{ case.title }}一案，我局已受理。你可通过本回执上的文号查询案件进展。",
            to_person="报案人",
        ),
        Kind(
            "移送案件通知书",
            POLICE,
            "移",
            ("公安机关办理刑事案件程序规定第175条",),
            "{{ recipient }}：\n我局受理的{{ case.title }}，经审查不属于我局管辖，根据《公安机关办理刑事案件程序规定》第一百七十五条之规定，"
            "现移送你单位处理。",
            to_person="有管辖权的机关",
        ),
        Kind(
            "通知立案书",
            PROCURATORATE,
            "通立",
            ("人民检察院刑事诉讼规则第563条", f"{_CPL}第113条"),
            "{{ recipient }}：\n本院经审查认为，{{ case.title }}{{ reason|default:'有犯罪事实需要追究刑事责任' }}，你局不立案的理由不能成立。"
            "根据"
            + _CPL
            + "第一百一十三条之规定，请你局在收到本通知书后十五日以内立案，并将立案决定书复印件送达本院。",
            serve_to=POLICE,
        ),
        Kind(
            "通知撤销案件书",
            PROCURATORATE,
            "通撤",
            ("人民检察院刑事诉讼规则第563条",),
            "{{ recipient }}：\n本院经审查认为，你局立案侦查的{{ case.title }}{{ reason|default:'不应当立案' }}，请你局撤销案件，并将撤销案件决定书复印件送达本院。",
            serve_to=POLICE,
        ),
        Kind(
            "呈请拘留报告书",
            POLICE,
            "呈拘",
            (f"{_CPL}第82条", "公安机关办理刑事案件程序规定第125条"),
            _NAMED
            + "涉嫌{{ charge }}，有"
            + _CPL
            + "第八十二条规定的情形，需要先行拘留。\n简要案情：{{ facts }}\n妥否，请批示。",
        ),
        Kind(
            "听取犯罪嫌疑人意见书",
            PROCURATORATE,
            "听意",
            ("人民检察院刑事诉讼规则第280条",),
            "犯罪嫌疑人{{ names }}：\n{{ case.police_unit.name }}提请批准逮捕你一案，本院正在审查。你可以书面提出意见，"
            "对是否构成犯罪、是否有逮捕必要等陈述理由。",
            to_person="犯罪嫌疑人",
        ),
        Kind(
            "要求复议意见书",
            POLICE,
            "复议",
            ("公安机关办理刑事案件程序规定第141条", f"{_CPL}第92条"),
            "{{ recipient }}：\n你院对"
            + _NAMED
            + "作出的不批准逮捕决定，我局认为有错误，理由如下：{{ reason|default:'现有证据足以证明其有逮捕必要' }}。"
            "根据" + _CPL + "第九十二条之规定，要求复议。",
            serve_to=PROCURATORATE,
        ),
        Kind(
            "复议决定书",
            PROCURATORATE,
            "复决",
            ("人民检察院刑事诉讼规则第290条",),
            "{{ recipient }}：\n你局对本院不批准逮捕"
            + _NAMED
            + "的决定要求复议，本院经另行指派检察官审查，决定：{{ reason|default:'维持原不批准逮捕决定' }}。",
            serve_to=POLICE,
        ),
        Kind(
            "提请复核意见书",
            POLICE,
            "复核",
            ("公安机关办理刑事案件程序规定第141条",),
            "{{ case.procuratorate_unit.name|default:'人民检察院' }}维持不批准逮捕"
            + _NAMED
            + "的复议决定，我局仍认为有错误，"
            "理由：{{ reason|default:'（复核理由）' }}。现提请上一级人民检察院复核。",
            to_person="上一级人民检察院",
        ),
        Kind(
            "变更羁押期限通知书",
            POLICE,
            "变羁",
            ("公安机关办理刑事案件程序规定第151条", f"{_CPL}第160条"),
            "苏州市看守所：\n在侦查期间，发现"
            + _NAMED
            + "{{ reason|default:'另有重要罪行' }}，根据"
            + _CPL
            + "第一百六十条之规定，其侦查羁押期限自发现之日起重新计算。",
            to_person="看守所",
        ),
        Kind(
            "羁押期限即将届满通知书",
            POLICE,
            "届满",
            ("人民检察院刑事诉讼规则第615条",),
            "{{ recipient }}：\n犯罪嫌疑人{{ names }}（涉嫌{{ charge }}）的羁押期限即将届满，请依法及时办理。",
            serve_to=POLICE,
        ),
        Kind(
            "解除取保候审决定书",
            POLICE,
            "解保",
            (f"{_CPL}第79条", "公安机关办理刑事案件程序规定第108条"),
            "因{{ reason|default:'取保候审期限届满' }}，根据"
            + _CPL
            + "第七十九条之规定，决定解除对"
            + _NAMED
            + "的取保候审。",
            to_person="被取保候审人",
        ),
        Kind(
            "没收保证金决定书",
            POLICE,
            "没保",
            (f"{_CPL}第71条", "公安机关办理刑事案件程序规定第97条"),
            "被取保候审人{{ names }}在取保候审期间{{ reason|default:'未经批准离开所居住的市、县' }}，违反"
            + _CPL
            + "第七十一条的规定，决定没收其保证金。如不服本决定，可以在收到本决定书后五日以内申请复议。",
            to_person="被取保候审人",
        ),
        Kind(
            "解除监视居住决定书",
            POLICE,
            "解居",
            (f"{_CPL}第79条", "公安机关办理刑事案件程序规定第123条"),
            "因{{ reason|default:'监视居住期限届满' }}，根据"
            + _CPL
            + "第七十九条之规定，决定解除对"
            + _NAMED
            + "的监视居住。",
            to_person="被监视居住人",
        ),
        Kind(
            "认罪认罚具结书",
            PROCURATORATE,
            "具结",
            (f"{_CPL}第174条", "人民检察院刑事诉讼规则第272条"),
            "犯罪嫌疑人{{ names }}：本人已阅读《认罪认罚从宽制度告知书》，自愿如实供述涉嫌{{ charge }}的犯罪事实，"
            "对指控的犯罪事实没有异议，同意检察机关的量刑建议（{{ reason|default:'量刑建议' }}）及适用程序。\n"
            "犯罪嫌疑人签名：　　　　辩护人（值班律师）签名：",
            to_person="犯罪嫌疑人",
        ),
        Kind(
            "检察意见书",
            PROCURATORATE,
            "检意",
            (f"{_CPL}第177条第3款", "人民检察院刑事诉讼规则第373条"),
            "（行政主管机关）：\n本院对{{ names }}涉嫌{{ charge }}一案决定不起诉，但其行为需要给予行政处罚。"
            "根据"
            + _CPL
            + "第一百七十七条第三款之规定，提出检察意见：{{ reason|default:'建议依法给予行政处罚' }}。",
            to_person="行政主管机关",
        ),
        Kind(
            "复查决定书",
            PROCURATORATE,
            "复查",
            ("人民检察院刑事诉讼规则第385条",),
            "本院对{{ names }}不起诉一案，经复查认为：{{ reason|default:'原不起诉决定正确' }}，决定维持原不起诉决定。",
            to_person="申诉人",
        ),
        Kind(
            "执行通知书回执",
            POLICE,
            "执通回",
            ("最高人民法院关于适用《刑事诉讼法》的解释第513条",),
            "{{ recipient }}：\n你院交付执行的罪犯{{ names }}（犯{{ charge }}）已于{{ today }}收押。\n特此回执。",
            serve_to=COURT,
        ),
        Kind(
            "收监通知书",
            JUSTICE,
            "收监",
            ("中华人民共和国监狱法第20条",),
            "{{ names }}的家属：\n罪犯{{ names }}因{{ charge }}经人民法院判处{{ verdict_text }}，已于{{ today }}收监执行。\n特此通知。",
            to_person="罪犯家属",
        ),
        Kind(
            "暂予监外执行决定书",
            COURT,
            "监外",
            (f"{_CPL}第265条", "最高人民法院关于适用《刑事诉讼法》的解释第515条"),
            "罪犯{{ names }}因{{ charge }}被判处{{ verdict_text }}，因{{ reason|default:'患有严重疾病需要保外就医' }}，"
            "根据"
            + _CPL
            + "第二百六十五条之规定，决定对其暂予监外执行，交由执行地社区矫正机构实行社区矫正。",
            serve_to="execution",
            to_corrections=True,
        ),
        Kind(
            "假释建议书",
            JUSTICE,
            "假建",
            (f"{_CPL}第273条", "中华人民共和国监狱法第32条"),
            "{{ recipient }}：\n罪犯{{ names }}因{{ charge }}被判处{{ verdict_text }}，服刑期间{{ reason|default:'认真遵守监规，接受教育改造，确有悔改表现' }}，"
            "没有再犯罪的危险，根据" + _CPL + "第二百七十三条之规定，建议对其裁定假释。",
            serve_to=COURT,
        ),
        Kind(
            "减刑建议书",
            JUSTICE,
            "减建",
            (f"{_CPL}第273条", "中华人民共和国监狱法第30条"),
            "{{ recipient }}：\n罪犯{{ names }}因{{ charge }}被判处{{ verdict_text }}，服刑期间{{ reason|default:'确有悔改表现' }}，"
            "根据" + _CPL + "第二百七十三条之规定，建议对其减刑。",
            serve_to=COURT,
        ),
        Kind(
            "撤销缓刑建议书",
            JUSTICE,
            "撤缓",
            ("社区矫正法第46条", "最高人民法院关于适用《刑事诉讼法》的解释第543条"),
            "{{ recipient }}：\n社区矫正对象{{ names }}在缓刑考验期内{{ reason|default:'违反监督管理规定，情节严重' }}，"
            "根据《中华人民共和国社区矫正法》第四十六条之规定，建议撤销缓刑，执行原判刑罚。",
            serve_to=COURT,
        ),
        Kind(
            "释放在押被告人通知书",
            COURT,
            "释通",
            (f"{_CPL}第260条", "最高人民法院关于适用《刑事诉讼法》的解释第170条"),
            "看守所：\n本院审理的被告人{{ names }}{{ charge }}一案，已于{{ today }}宣告判决"
            "（{{ verdict_text }}）。根据" + _CPL + "第二百六十条之规定，请将被告人{{ names }}立即释放。",
            to_person="看守所",
        ),
        Kind(
            "刑满释放证明书",
            JUSTICE,
            "释证",
            ("中华人民共和国监狱法第35条", f"{_CPL}第264条第5款"),
            "兹证明罪犯{{ names }}，因{{ charge }}经人民法院判处{{ verdict_text }}，刑期已满，于{{ today }}依法释放。\n"
            + _PERSONS,
            to_person="被释放人",
        ),
        Kind(
            "假释裁定书",
            COURT,
            "刑更",
            (f"{_CPL}第273条", "中华人民共和国刑法第81条", "最高人民法院关于适用《刑事诉讼法》的解释第539条"),
            "罪犯{{ names }}因{{ charge }}被判处{{ verdict_text }}。执行机关提出假释建议，本院经审理认为，"
            "该犯{{ reason|default:'在执行期间认真遵守监规，接受教育改造，确有悔改表现，没有再犯罪的危险' }}。"
            "依照《中华人民共和国刑法》第八十一条、第八十三条之规定，裁定如下：\n对罪犯{{ names }}予以假释，"
            "假释考验期限为没有执行完毕的刑期。\n本裁定送达后即发生法律效力。",
            serve_to="execution",
            to_corrections=True,
        ),
        Kind(
            "撤销缓刑裁定书",
            COURT,
            "刑更",
            (
                "社区矫正法第48条",
                "中华人民共和国刑法第77条",
                "最高人民法院关于适用《刑事诉讼法》的解释第543条",
            ),
            "社区矫正对象{{ names }}因{{ charge }}被判处{{ verdict_text }}。社区矫正机构提出撤销建议，本院经审查认为，"
            "该犯{{ reason|default:'在考验期限内违反监督管理规定，情节严重' }}。依照《中华人民共和国刑法》第七十七条、"
            "第八十六条之规定，裁定如下：\n撤销缓刑（假释），收监执行。\n本裁定一经作出，立即生效。",
            serve_to="execution",
            to_corrections=True,
        ),
        Kind(
            "收监执行决定书",
            COURT,
            "刑更",
            (f"{_CPL}第268条", "社区矫正法第49条", "最高人民法院关于适用《刑事诉讼法》的解释第517条"),
            "罪犯{{ names }}因{{ charge }}被判处{{ verdict_text }}，暂予监外执行期间"
            "{{ reason|default:'暂予监外执行的情形消失，且刑期未满' }}。根据"
            + _CPL
            + "第二百六十八条之规定，"
            "决定对罪犯{{ names }}收监执行。",
            serve_to="execution",
            to_corrections=True,
        ),
        Kind(
            "收监执行建议书",
            JUSTICE,
            "收建",
            ("社区矫正法第49条",),
            "{{ recipient }}：\n暂予监外执行的社区矫正对象{{ names }}{{ reason|default:'暂予监外执行的情形消失且刑期未满' }}，"
            "根据《中华人民共和国社区矫正法》第四十九条之规定，建议对其收监执行。",
            serve_to=COURT,
        ),
    ]
}


def kind(title: str) -> Kind | None:
    return KINDS.get(title)


def kinds_for_agency(agency: str) -> list[Kind]:
    return [k for k in KINDS.values() if k.agency == agency]
