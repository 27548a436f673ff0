"""The NER model joined to the rules: names in running prose that no rule has evidence for are found, and model
spans that stand where drugs and anatomical words stand are vetoed."""

from __future__ import annotations

import pytest

from cmedins.deid import DeidConfig, deidentify_texts
from cmedins.deid.detect_ner import ner_person_spans, plausible_name

PROSE = [  # hand-written: a name with no title, label or demographic tail around it
    ("刘德明高血压病史十余年，规律服药。", "刘德明"),
    ("患者诉头痛，张建华陪同就诊。", "张建华"),
]
# the model's span is a character short of the name; the whole name must go, not just the model's part of it
CUT_SHORT = [("上级医师和光耀查房后同意上述处理。", "和"), ("情况说明：本人狄青山系患者狄大勇之兄。", "山"),
             ("患者次仁旺堆术后第1天，神志清。", "堆")]
NOT_NAMES = ["奥沙利铂(艾恒)150mg ivgtt d1", "替吉奥胶囊40mg po bid", "行多普勒超声检查。", "予安维汀+化疗。",
             "胃窦小弯侧见溃疡。", "予美多芭口服，墨菲征阴性。",
             "规律服用达喜、马丁灵，症状缓解。", "间断服用“奥美拉唑、施维舒”治疗。",  # a brand beside a drug
             "康复新两个月，达喜，马丁灵也吃过。"]


@pytest.mark.parametrize(("text", "name"), PROSE)
def test_the_model_adds_names_the_rules_miss(text: str, name: str) -> None:
    assert name in deidentify_texts([text], DeidConfig(ner=False))[0].text  # the rules alone leave it
    assert name not in deidentify_texts([text], DeidConfig(ner=True))[0].text


CUT_SHORT += [("周末张雨萌夫妇带孩子来复诊。", "萌")]


@pytest.mark.parametrize(("text", "rest"), CUT_SHORT)
def test_a_name_the_model_cuts_short_goes_whole(text: str, rest: str) -> None:
    out = deidentify_texts([text], DeidConfig(ner=True))[0].text
    assert "[姓名]" in out and rest not in out.replace("[姓名]", "")


@pytest.mark.parametrize("text", NOT_NAMES)
def test_drugs_eponyms_and_cut_words_are_vetoed(text: str) -> None:
    assert ner_person_spans([text]) == [[]]
    assert deidentify_texts([text], DeidConfig(ner=True))[0].text == text


# hand-written: a given name alone, which no rule and no name-shape check accepts, in a person's context
IN_CONTEXT = [("复核：婉婷　执行：思琪", ["婉婷", "思琪"]), ("我是晓光，上周来看过胃病。", ["晓光"])]
# context after the span, or the span opening a line as a speaker (hand-written)
IN_CONTEXT += [("护士长：今晚谁替班？\n思琪：我可以。", ["思琪"]), ("雨涵诉切口疼痛，予止痛处理。", ["雨涵"])]
# a word that jieba knows as a name, in a person's context; a nickname with 大
IN_CONTEXT += [("主持人：欢迎收看。\n白雪：谢谢，大家好。", ["白雪"])]
# a party or kin after the span, a shift or a verb of naming before it (hand-written)
IN_CONTEXT += [("配血：晓彤　发血：雨萱", ["晓彤", "雨萱"]), ("交：紫萱　接：梦琪", ["紫萱", "梦琪"])]  # field values
IN_CONTEXT += [("后来才听说，莉莉的外婆曾在这家医院做护工。", ["莉莉"]), ("病房里一个叫秋生的老人一直咳嗽。", ["秋生"])]
# names where a drug's context words stand for something else: an honour conferred, a pair of players
NOT_DRUG_CONTEXT = [("国家体育总局决定授予林子轩、何雨桐体育运动荣誉奖章。", ["林子轩", "何雨桐"]),
                    ("混双决赛中，何雨桐/林子轩组合以2比0获胜。", ["何雨桐", "林子轩"])]


@pytest.mark.parametrize(("text", "names"), NOT_DRUG_CONTEXT)
def test_conferring_and_a_pair_of_players_are_no_drug_context(text: str, names: list[str]) -> None:
    assert [text[k.start:k.end] for k in ner_person_spans([text])[0]] == names
    assert ner_person_spans(["予卡比多巴/左旋多巴口服。"]) == [[]]


@pytest.mark.parametrize(("text", "names"), IN_CONTEXT)
def test_a_model_span_in_a_persons_context_is_kept_without_a_surname(text: str, names: list[str]) -> None:
    assert not any(plausible_name(n) for n in names)
    assert [text[k.start:k.end] for k in ner_person_spans([text])[0]] == names


def test_a_patients_state_after_the_word_patient_is_no_name() -> None:
    text = "患者神志清，精神可，饮食睡眠可。"  # the model tags 神志清; 神志 is a dictionary word, not a name
    assert ner_person_spans([text]) == [[]]


def test_a_given_name_that_is_a_common_word_is_a_name_when_jieba_knows_it_as_one() -> None:
    import jieba

    jieba.initialize()  # the word frequencies load with the dictionary
    assert plausible_name("邢建国")  # 建国 (founding a state) is the given name of a generation; jieba tags it ns
    assert not plausible_name("李同意") and not plausible_name("王时间")  # an adverb, a noun: no given names


def test_plausible_name_needs_a_surname_and_no_common_word() -> None:
    assert plausible_name("刘德明") and plausible_name("欧阳明月")
    assert not plausible_name("多普勒")  # no surname
    assert not plausible_name("张某") and not plausible_name("高血压") and not plausible_name("GnRH")


def test_the_model_is_a_recognizer_in_the_presidio_registry() -> None:
    from cmedins.deid import build_analyzer

    text = "上午查房，刘德明高血压病史十余年，今日血压平稳。"
    found = build_analyzer(ner=True).analyze(text=text, language="zh")
    names = {(r.start, r.end): r.recognition_metadata["recognizer_name"] for r in found if r.entity_type == "PERSON"}
    assert names == {(5, 8): "ChineseNerPersonRecognizer"}
    assert not [r for r in build_analyzer().analyze(text=text, language="zh") if r.entity_type == "PERSON"]


def test_names_the_first_rules_missed_on_hand_written_notes() -> None:
    """Families found on the hand-written sets: padded, interpunct, nickname, weak surname, romanised names; and
    masked names with a common surname stay."""
    cases = [("神经外科李　伟主任连夜手术。", "李　伟"), ("陪护者为其弟扎西·多吉。", "扎西·多吉"),
             ("22床老王（王福顺），夜间安静。", "老王"), ("Attending: Qian Yu，已查看。", "Qian Yu"),
             ("报告：冷雪峰　审核：张明", "冷雪峰"), ("受理人严冬，联系电话见下。", "严冬")]
    outs = deidentify_texts([t for t, _ in cases], DeidConfig(ner=True))
    assert [name in out.text for (_, name), out in zip(cases, outs, strict=True)] == [False] * len(cases)
    assert deidentify_texts(["患者张某某诉头痛。"], DeidConfig(ner=True))[0].text == "患者张某某诉头痛。"


@pytest.mark.parametrize(("text", "span", "drug"), [
    ("予艾恒150毫克静滴", (1, 3), True), ("奥沙利铂(艾恒)200毫克", (5, 7), True), ("予艾恒0.5克口服", (1, 3), True),
    ("患者王建国，45岁", (2, 5), False), ("王建国13800138000", (0, 3), False),
])
def test_a_dose_in_chinese_units_marks_a_drug_not_a_name(text: str, span: tuple[int, int], drug: bool) -> None:
    from cmedins.deid.detect_ner import _drug_context

    assert _drug_context(text, *span) is drug


@pytest.mark.parametrize(("text", "name"), [
    ("患者Maria Fernanda Oliveira，女，23岁，巴西籍。", "Maria Fernanda Oliveira"),  # the model tags only Maria
    ("由柏林神经肌肉病中心Hans-Peter Krüger教授远程会诊。", "Hans-Peter Krüger"),  # the model tags only Krüger
    ("受检者：John O'Connell，男，36岁。", "John O'Connell"),
])
def test_a_latin_name_goes_whole(text: str, name: str) -> None:
    out = deidentify_texts([text], DeidConfig(ner=True))[0].text
    assert not any(word in out for word in name.replace("-", " ").split())


@pytest.mark.parametrize("text", ["伴Down综合征。", "John Cunningham 病毒感染。",
                                  "据Australian Department of Health统计。"])
def test_latin_eponyms_and_institutions_stay(text: str) -> None:
    assert deidentify_texts([text], DeidConfig(ner=True))[0].text == text


@pytest.mark.parametrize(("text", "name"), [("主持人：欢迎收看。\nKevin：谢谢邀请。", "Kevin"),
                                            ("我丈夫Kevin上周体检转氨酶偏高。", "Kevin")])
def test_one_latin_word_is_a_name_as_a_speaker_or_after_a_kinship_word(text: str, name: str) -> None:
    assert [text[k.start:k.end] for k in ner_person_spans([text])[0]] == [name]


def test_one_latin_word_after_a_profession_is_left_to_the_eponym_it_may_be() -> None:
    text = "瑞士医师Glanzmann于1918年首先报道本病。"  # the name stays in the disease's name elsewhere in the text
    assert ner_person_spans([text]) == [[]]


def test_a_transliterated_name_stretched_over_its_interpunct_stops_where_the_sentence_goes_on() -> None:
    text = "林晚第一次见到亚历山大·彼得罗夫是在莫斯科大学的图书馆。"
    assert "亚历山大·彼得罗夫" in [text[k.start:k.end] for k in ner_person_spans([text])[0]]
    assert "是在" in deidentify_texts([text], DeidConfig(ner=True))[0].text


def test_a_nickname_may_start_with_da() -> None:
    text = "邻居老孙和大刘用床单结成绳索。"
    assert "大刘" in [text[k.start:k.end] for k in ner_person_spans([text])[0]]


@pytest.mark.parametrize(("text", "name"), [
    ("陪床护士小花、护工老魏轮流照看", "小花"),  # a pet name that is a word (a small flower), after a person word
    ("值班护士小叶帮她量了血压", "小叶"),
])
def test_a_pet_name_right_after_a_person_word_is_a_name(text: str, name: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=True))[0]
    assert name not in res.text, res.text


def test_a_common_word_after_a_person_word_stays() -> None:
    text = "护士小心地给他换药，家属小声交谈"
    assert deidentify_texts([text], DeidConfig(ner=True))[0].text == text
