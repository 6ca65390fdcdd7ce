"""De-identification of judgments for the published view (xietong.library.deidentify)."""

from xietong.library.deidentify import Deidentified, deidentify, deidentify_many

# --- natural persons ---


def test_defendant_keeps_surname_and_two_character_given_name_becomes_mouMou():
    result = deidentify("被告人孙建国，男，1980年5月1日出生，汉族。")

    assert result == Deidentified(
        text="被告人孙某某，男，1980年5月1日出生，汉族。", replacements={"孙建国": "孙某某"}
    )


def test_single_character_given_name_becomes_single_mou():
    assert deidentify("被告人刘强驾驶车辆离开。").text == "被告人刘某驾驶车辆离开。"


def test_name_found_once_is_masked_everywhere_also_without_role_word():
    result = deidentify("被告人孙建国于2018年5月盗窃。孙建国到案后如实供述，孙建国的行为构成盗窃罪。")

    assert result.text == "被告人孙某某于2018年5月盗窃。孙某某到案后如实供述，孙某某的行为构成盗窃罪。"


def test_sections_of_one_judgment_share_one_mapping():
    facts = "被告人孙建国伙同被告人李四盗窃。"
    reasoning = "本院认为，孙建国、李四的行为均已构成盗窃罪。"
    result = "被告人孙建国犯盗窃罪，判处有期徒刑一年。"

    out = deidentify_many([facts, reasoning, result])

    assert [d.text for d in out] == [
        "被告人孙某某伙同被告人李某盗窃。",
        "本院认为，孙某某、李某的行为均已构成盗窃罪。",
        "被告人孙某某犯盗窃罪，判处有期徒刑一年。",
    ]
    assert all(d.replacements == {"孙建国": "孙某某", "李四": "李某"} for d in out)


def test_same_surname_collision_across_sections_is_resolved_for_the_whole_document():
    # Alone, each section would call its 孙 "孙某某"; together they are two people.
    out = deidentify_many(["被告人孙建国持刀。", "被害人孙建华受伤。"])

    assert [d.text for d in out] == ["被告人孙某甲持刀。", "被害人孙某乙受伤。"]


def test_two_people_with_the_same_surname_get_different_masks_in_order_of_appearance():
    result = deidentify("被告人孙建国伙同孙建华、李四盗窃。")

    assert result.text == "被告人孙某甲伙同孙某乙、李某盗窃。"
    assert result.replacements == {"孙建国": "孙某甲", "孙建华": "孙某乙", "李四": "李某"}


def test_suffix_counter_is_per_surname_so_no_mask_is_shared():
    result = deidentify("被告人孙军、孙兵、孙建国、孙建华。")

    assert result.text == "被告人孙某甲、孙某乙、孙某丙、孙某丁。"


def test_a_mask_the_source_already_used_is_not_given_to_a_new_person():
    result = deidentify("被害人孙某某报案称，被告人孙建国将其打伤。")

    assert result.text == "被害人孙某某报案称，被告人孙某甲将其打伤。"


def test_compound_surnames_are_kept_whole():
    result = deidentify("被害人欧阳明华陈述，证人司马光证实，被告人诸葛建军在场。")

    assert result.replacements == {"欧阳明华": "欧阳某某", "司马光": "司马某", "诸葛建军": "诸葛某某"}
    assert result.text == "被害人欧阳某某陈述，证人司马某证实，被告人诸葛某某在场。"


def test_names_already_masked_by_the_source_are_left_alone():
    text = "被告人孙某某、胡某某伙同魏某1、李甲、王××殴打被害人梁某，张某甲报警。"

    assert deidentify(text) == Deidentified(text=text, replacements={})


def test_list_after_role_word_masks_every_name_and_skips_masked_ones():
    result = deidentify("被告人张三、孙某某、王秀英和赵小龙于当晚窜至现场。")

    assert result.text == "被告人张某、孙某某、王某某和赵某某于当晚窜至现场。"


def test_accomplice_in_brackets_is_masked():
    result = deidentify(
        "被告人刘强伙同钱伟（另案处理）、张三、李四（均另案处理）盗窃。同案犯赵小龙（在逃）。"
    )

    assert (
        result.text == "被告人刘某伙同钱某（另案处理）、张某、李某（均另案处理）盗窃。同案犯赵某某（在逃）。"
    )


def test_relatives_after_role_and_kin_words_are_masked():
    result = deidentify("被害人之母李桂兰报案。被告人的妻子王秀英证实。其父周树人到场。")

    assert result.text == "被害人之母李某某报案。被告人的妻子王某某证实。其父周某某到场。"


def test_header_line_with_sex_marks_a_natural_person():
    result = deidentify("原告：陈建设，女，1965年11月12日出生。")

    assert result.text == "原告：陈某某，女，1965年11月12日出生。"


def test_lawyers_judges_and_clerks_keep_their_names_but_a_relative_defender_is_masked():
    text = (
        "辩护人张伟，江苏某某律师事务所律师。辩护人王强（系被告人之父）。\n"
        "辩护人张伟提出被告人系初犯。\n审判长　刘明\n人民陪审员　赵丽\n书记员　张丽"
    )

    result = deidentify(text)

    assert result.text == (
        "辩护人张伟，江苏某某律师事务所律师。辩护人王某（系被告人之父）。\n"
        "辩护人张伟提出被告人系初犯。\n审判长　刘明\n人民陪审员　赵丽\n书记员　张丽"
    )
    assert result.replacements == {"王强": "王某"}


def test_counsel_never_shown_to_be_a_lawyer_is_masked():
    assert deidentify("其辩护人冯木良辩护称被告人系从犯。").text == "其辩护人冯某某辩护称被告人系从犯。"


def test_known_party_names_are_masked_without_any_role_word():
    result = deidentify("周树人到达现场后报警。", names=["周树人"])

    assert result == Deidentified(text="周某某到达现场后报警。", replacements={"周树人": "周某某"})


def test_earlier_mapping_is_reused_and_its_masks_stay_reserved():
    first = deidentify("被告人孙建国盗窃。")

    later = deidentify("孙建国的供述与被害人孙建华的陈述一致。", mapping=first.replacements)

    assert later.text == "孙某某的供述与被害人孙某甲的陈述一致。"
    assert later.replacements == {"孙建国": "孙某某", "孙建华": "孙某甲"}


def test_bare_given_name_is_masked_as_its_person_when_it_is_not_a_common_word():
    result = deidentify("证人王秀英证实：当晚秀英在家。")

    assert result.text == "证人王某某证实：当晚王某某在家。"
    assert result.replacements == {"王秀英": "王某某"}


def test_bare_given_name_that_is_a_common_word_is_not_touched():
    # 建国 is also "founding of the state"; masking it would change the meaning of other sentences.
    assert deidentify("被告人孙建国称建国以来从未犯罪。").text == "被告人孙某某称建国以来从未犯罪。"


def test_words_after_role_words_that_are_not_names_stay():
    text = (
        "被告人陈述属实。被告人向法庭表示悔罪。被告人于2018年5月到案。被告人能积极退赃。证人证言证实。"
        "被告人两次盗窃自诉人玉米38460斤。解剖见死者全脑弥漫性出血。"
    )

    assert deidentify(text) == Deidentified(text=text, replacements={})


def test_company_names_and_organisations_are_not_persons():
    text = "被告单位苏州某某贸易有限公司及其直接负责的主管人员。被告苏州市姑苏区某某商行。"

    assert deidentify(text) == Deidentified(text=text, replacements={})


# --- numbers ---


def test_identity_numbers_keep_the_six_region_digits():
    result = deidentify("身份证号码32050219800501123X，旧证号320502800501123。")

    assert result.text == "身份证号码320502************，旧证号320502*********。"


def test_mobile_and_landline_numbers_keep_three_leading_digits():
    result = deidentify("联系电话13912345678、139-1234-5678，座机0512-66778899，(0512)66778899。")

    assert result.text == "联系电话139********、139-****-****，座机051*-********，(051*)********。"


def test_bank_cards_keep_the_last_four_digits():
    result = deidentify("银行卡号6222021234567890123，卡号6228 4804 0256 4890，账号622848198005011234。")

    assert result.text == ("银行卡号***************0123，卡号**** **** **** 4890，账号**************1234。")


def test_plates_keep_province_and_office():
    result = deidentify("驾驶苏E12345号小型轿车，另有沪A·12345、新能源车苏EF12345、货车鲁B1234挂。")

    assert result.text == "驾驶苏E*****号小型轿车，另有沪A·*****、新能源车苏E******、货车鲁B1234挂。"


def test_qq_wechat_and_email_are_masked():
    result = deidentify("QQ号123456789，微信号wxid_abc123，邮箱zhangsan@163.com。")

    assert result.text == "QQ号123******，微信号wxi********，邮箱z***@163.com。"


# --- addresses ---


def test_address_keeps_the_administrative_part_and_masks_street_and_numbers():
    result = deidentify("住苏州市姑苏区平江街道人民路100号3幢201室。")

    assert result.text == "住苏州市姑苏区平江街道某某路某号某幢某室。"
    assert result.replacements == {"人民路100号3幢201室": "某某路某号某幢某室"}


def test_village_address_keeps_the_village_and_masks_group_and_house_number():
    assert deidentify("住江苏省泗洪县双沟镇朱湖村3组15号。").text == "住江苏省泗洪县双沟镇朱湖村某组某号。"


def test_residential_estate_and_building_numbers_are_masked():
    result = deidentify("在吴中区金鸡湖花园12栋2单元1801室内。")

    assert result.text == "在吴中区某某花园某栋某单元某室内。"


def test_place_names_that_are_not_exact_addresses_stay():
    text = "在苏州市姑苏区人民路与干将路交叉口附近，后逃至平江街道。"

    assert deidentify(text) == Deidentified(text=text, replacements={})


# --- things that must not change ---


def test_case_numbers_articles_amounts_dates_and_weights_are_untouched():
    text = (
        "（2016）苏0508刑初123号。依照《中华人民共和国刑法》第二百六十四条、第六十七条第三款之规定，"
        "被告犯盗窃罪，判处有期徒刑三年，罚金人民币5000元，退赔人民币15000000000元。"
        "查获甲基苯丙胺12.5克。2018年5月15号案发。苏公（刑）诉字〔2016〕123号。"
    )

    assert deidentify(text) == Deidentified(text=text, replacements={})


def test_deidentifying_a_published_text_again_changes_nothing():
    original = "被告人孙建国，住苏州市姑苏区人民路100号，电话13912345678，驾驶苏E12345。被害人孙建华。"
    published = deidentify(original).text

    assert deidentify(published).text == published


def test_many_with_no_sections_returns_nothing():
    assert deidentify_many([]) == []


def test_a_name_jieba_glued_to_the_next_word_is_masked_as_the_same_person():
    # jieba reads 张超经电话 as 张超经 + 电话; 张超 alone elsewhere shows where the name ends.
    result = deidentify("被告人张超、钱浩结伙。被告人张超经电话通知到案，被告人钱浩劝其投案。")

    assert result.text == "被告人张某、钱某结伙。被告人张某经电话通知到案，被告人钱某劝其投案。"
    assert result.replacements == {"张超": "张某", "钱浩": "钱某"}


def test_company_after_huotong_is_not_a_person():
    text = "被告人罗长南伙同金伟房地产公司员工强占土地。"

    assert deidentify(text).text == "被告人罗某某伙同金伟房地产公司员工强占土地。"


# --- how it is found ---


def test_role_words_trie_finds_the_longest_word_as_a_plain_alternation_does() -> None:
    import re

    from xietong.library.deidentify import _literal_alternation

    # given words of which some begin others (其妻 / 其妻子, 被告人 / 被告)
    words = {"被告", "被告人", "原审被告人", "其妻", "其妻子", "其夫", "的朋友"}
    plain = re.compile("|".join(sorted(words, key=len, reverse=True)))
    trie = re.compile(_literal_alternation(words))
    text = "原审被告人张三与其妻子李四、其妻王五及被告赵六的朋友被告人孙七，其夫"

    # then the trie finds the same words at the same places
    assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert [m.group() for m in trie.finditer(text)][:3] == ["原审被告人", "其妻子", "其妻"]
