"""Fast deid checks written to kill surviving mutants (benchmarks/mutation.py): the per-patient date shift's range
and the typing of masked numbers (the placeholder a reader sees)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmedins.deid.anonymize import date_offset
from cmedins.deid.detect import candidate_spans
from cmedins.stage import StageContext, StageOutput


@pytest.mark.parametrize("max_days", [1, 5, 180])
def test_date_shift_is_never_zero_and_covers_both_signs_within_max(max_days: int) -> None:
    shifts = {date_offset(b"k" * 32, f"patient-{i}", max_days) for i in range(600)}
    assert 0 not in shifts
    assert min(shifts) >= -max_days and max(shifts) <= max_days
    assert min(shifts) < 0 < max(shifts)
    if max_days <= 5:  # every allowed value is reachable
        assert shifts == set(range(-max_days, 0)) | set(range(1, max_days + 1))
    assert date_offset(b"k" * 32, "patient-1", max_days) == date_offset(b"k" * 32, "patient-1", max_days)


@pytest.mark.parametrize("text, etype", [
    ("138****5678", "PHONE"),
    ("238****5678", "MEDICAL_RECORD_NO"),  # 11 digits not starting with 1: not a mobile number
    ("1234****5678", "MEDICAL_RECORD_NO"),
    ("110101********1234", "ID_NUMBER"),
    ("110101*****1234", "ID_NUMBER"),  # 15-character (old) ID
])
def test_masked_numbers_are_typed_by_length_and_prefix(text: str, etype: str) -> None:
    spans = [s for s in candidate_spans(f"联系：{text}，已核对。") if s.source == "masked_number"]
    assert [(s.entity_type, s.end - s.start) for s in spans] == [(etype, len(text))]


def test_a_record_number_at_the_start_of_a_text_is_found_whatever_ends_the_text() -> None:
    """The record's own phone at position 0 is found even when the text ends in an ASCII letter or digit (the left
    boundary check must not look at the last character); inside a longer number it is not the record's value."""
    from cmedins.deid.record_aware import DigitTerm

    term = DigitTerm("13812345678")
    assert term.find("138-1234-5678 电话 A9") == [(0, 13)]
    assert term.find("13812345678已核对，编号9") == [(0, 11)]
    assert term.find("电话：13812345678") == [(3, 14)]
    assert term.find("913812345678 x") == [] and term.find("138123456789") == []


def test_resolve_keeps_every_character_of_overlapping_spans_covered_once() -> None:
    """A lower-scored span clipped on its right by a stronger one keeps its free run; the bookkeeping of taken
    characters must not shift, or a third span loses a character (left unredacted) or overlaps the strong one."""
    from cmedins.deid.spans import Span, resolve

    spans = [Span(5, 10, "PHONE", 0.9, "a"), Span(2, 7, "NAME", 0.8, "b"), Span(10, 13, "ADDRESS", 0.7, "c"),
             Span(4, 6, "DATE", 0.6, "d")]
    kept = resolve(spans)
    covered = [i for s in kept for i in range(s.start, s.end)]
    assert sorted(covered) == list(range(2, 13))  # every character once: no gap, no overlap
    assert {(s.start, s.end, s.entity_type) for s in kept} == {(2, 5, "NAME"), (5, 10, "PHONE"), (10, 13, "ADDRESS")}


def test_luhn_needs_twelve_digits_at_least() -> None:
    """Bank and insurance card numbers have 12+ digits: a shorter number passing the Luhn sum is no card."""
    from cmedins.deid.checksums import luhn_valid

    assert luhn_valid("123456789015")  # 12 digits, check digit right
    assert not luhn_valid("123456789016")
    assert not luhn_valid("12345678903")  # 11 digits whose Luhn sum is 0 mod 10


def _stage_rows(tmp_path: Path, rows: list[dict], row_offset: int = 0) -> StageOutput:
    from test_deid_stage import SECRET, _table

    from cmedins.deid.config import DeidConfig
    from cmedins.deid.stage import deid_stage

    return deid_stage(_table(rows), DeidConfig(), StageContext(seed=1, workdir=tmp_path, secret=SECRET,
                                                               row_offset=row_offset))


def test_an_event_that_cannot_be_placed_does_not_drop_the_events_after_it(tmp_path: Path) -> None:
    from test_deid_stage import _record

    good = _record(1)["events"][0]
    lost = {**good, "sentence": "这一句不在原文里"}
    elsewhere = {**good, "section": "not_a_section"}
    empty = {**good, "sentence": ""}
    out = _stage_rows(tmp_path, [_record(1, events=[lost, elsewhere, empty, good])])
    events = out.kept.to_pylist()[0]["events"]
    assert [e["sentence"] for e in events][0] == ""  # an empty sentence passes through as it is
    assert len(events) == 2 and "钱" not in events[1]["sentence"] and events[1]["sentence"]
    assert out.stats["events_dropped_not_in_section"] == 2


def test_a_quarantined_row_is_named_by_its_row_in_the_whole_table(tmp_path: Path) -> None:
    from datetime import date

    from test_deid_stage import _record

    out = _stage_rows(tmp_path, [_record(1), _record(2, patient_birth_date=date(2030, 1, 1))], row_offset=10)
    q = out.quarantined.to_pylist()[0]
    assert q["row"] == 12 and "records row 12 field patient_birth_date" in q["message"]


def test_map_span_follows_every_replacement_before_and_inside_the_range() -> None:
    """Each sentence of the input maps onto the same sentence of the output, whatever the replacements before it
    (placeholders longer and shorter than what they replace) and inside it."""
    from cmedins.deid import DeidConfig, deidentify_texts

    sentences = ["患者张建国于2023年3月2日入院。", "电话13800138000，邮箱zhang@example.com。", "复诊。",
                 "联系人李四，住址北京市海淀区中关村大街1号。", "无。"]
    text = "".join(sentences)
    res = deidentify_texts([text], DeidConfig())[0]
    assert len(res.entities) >= 5
    out_sentences = [s + "。" for s in res.text.split("。")[:-1]]
    pos = 0
    for raw, expected in zip(sentences, out_sentences, strict=True):
        a, b = res.map_span(pos, pos + len(raw))
        assert res.text[a:b] == expected
        pos += len(raw)


@pytest.mark.parametrize("name", ["张建国", "张伟", "欧阳明辉"])
def test_a_name_found_with_its_label_is_removed_bare_in_the_same_group(name: str) -> None:
    from cmedins.deid import DeidConfig, deidentify_texts

    texts = [f"患者：{name}，男，45岁。", f"今日{name}情况稳定。"]
    assert name in deidentify_texts(texts[1:], DeidConfig())[0].text  # alone, nothing says it is a name
    assert all(name not in r.text for r in deidentify_texts(texts, DeidConfig(), groups=[0, 0]))


@pytest.mark.parametrize(("numeral", "value"), [("7", 7), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20),
                                                ("二十五", 25), ("三十一", 31)])
def test_chinese_numerals_of_months_and_days(numeral: str, value: int) -> None:
    from cmedins.deid.detect_dates import _cn_int

    assert _cn_int(numeral) == value


@pytest.mark.parametrize(("item", "name"), [
    ("王谦退", True), ("王谦跟", False),  # 跟 (-2.98) is below the per-character floor (-2.5), 退 (-2.49) is not
    ("王拧", True), ("王泵", False),  # mean given-name score +0.25 passes, -0.30 does not
    ("冷静", True), ("公安", False),  # a word under 2,000 in jieba's dictionary may be a name; a commoner one not
    ("护士长", False), ("高血压", False),  # a role, a protected medical word
])
def test_a_list_item_is_a_name_by_the_documented_thresholds(item: str, name: bool) -> None:
    from cmedins.deid.detect_lists import sibling_name

    assert sibling_name(item) is name


def test_a_list_whose_found_name_is_its_last_item_gives_the_items_before() -> None:
    from cmedins.deid import DeidConfig, deidentify_texts

    text = "会诊记录\n冉思远、甘露、蔺志强医生\n同意手术。"
    res = deidentify_texts([text], DeidConfig())[0]
    assert res.text == "会诊记录\n[姓名]、[姓名]、[姓名]\n同意手术。"


@pytest.mark.parametrize(("text", "kept"), [("Admitted on January 5, 2023.", "2023-01"),
                                            ("Seen on 5 February 2023.", "2023-02"),
                                            ("Seen on Dec 5, 2023.", "2023-12")])
def test_english_month_names_keep_their_own_month(text: str, kept: str) -> None:
    from cmedins.deid import DeidConfig, deidentify_texts

    assert kept in deidentify_texts([text], DeidConfig(date_mode="year_month"))[0].text


def test_padded_names_are_the_surname_and_the_character_after_the_closed_space() -> None:
    from cmedins.deid.text_norm import visible_view

    view = visible_view("患者：李　伟，男")
    assert view.text == "患者：李伟，男" and [(s.start, s.end) for s in view.padded_names()] == [(3, 5)]
    assert visible_view("主任：冷　月华").padded == ()  # 月华 is a word: no padded name (and no crash reading it)
    assert visible_view("正常　建议复查").padded == ()


@pytest.mark.parametrize(("text", "name"), [("姓名：宁 书，女，45岁", "宁 书"), ("姓名：宁　书，女", "宁　书")])
def test_a_name_with_a_space_inside_is_taken_whole_after_its_label(text: str, name: str) -> None:
    from cmedins.deid.detect_names import detect_names

    assert (name, "label_surname") in {(text[s.start:s.end], s.source) for s in detect_names(text)}


def test_a_weak_surname_before_mou_and_a_place_is_a_preposition() -> None:
    from cmedins.deid.detect_names import detect_names

    assert detect_names("患者于某医院就诊。") == []
    assert [s.source for s in detect_names("同事于某陪同就诊。")][:1] == ["label_mou"]


@pytest.mark.parametrize(("text", "kept"), [
    ("一九四八年八月五日", "1948年8月"), ("二〇一六年七月二日", "2016年7月"),
    ("二零零三年十二月三十一日", "2003年12月"), ("一九五五年五月九日", "1955年5月"),
])
def test_every_chinese_digit_of_a_year_reads_as_its_value(text: str, kept: str) -> None:
    from cmedins.deid import DeidConfig, deidentify_texts

    assert deidentify_texts([text], DeidConfig(date_mode="year_month"))[0].text == kept


def test_a_given_name_with_a_mildly_unusual_character_becomes_a_group_term() -> None:
    """Kills the given-name character floor in `given_name_terms` (detect.py, `< -1.0`): 宇 of 宇航 scores about
    -0.9, above the floor, so a group that names 滕宇航 also searches for 宇航; 一 of 一鸣 (-1.6) is below it."""
    from cmedins.deid.detect import given_name_terms
    from cmedins.deid.spans import Span

    texts = ["患者滕宇航，男，12岁。", "患者甘一鸣，男，9岁。"]
    spans = [[Span(2, 5, "PERSON", 0.9, "label_surname")], [Span(2, 5, "PERSON", 0.9, "label_surname")]]
    assert [value for _, value, _ in given_name_terms(texts, spans)] == ["宇航"]


def test_an_unpadded_two_digit_year_date_after_yu_is_a_date() -> None:
    """Kills the look-back window of the unpadded `yy-m-d` date (detect_dates.py, `m.start() - 6`): 于 before 23-3-4
    puts it in a date's place even when nothing after it (复诊, 入院 …) does; after a lab name it is a range."""
    from cmedins.deid.detect_dates import detect_dates

    text = "患者于23-3-4在外院行胃镜检查。"
    assert [(text[s.start:s.end], s.entity_type) for s in detect_dates(text)] == [("23-3-4", "DATE")]
    assert detect_dates("复查血钾12-3-4。") == []


@pytest.mark.parametrize(("text", "name"), [("配偶秦有患高血压十余年。", "秦有"),
                                            ("配偶东郭有患糖尿病，已控制。", "东郭有")])
def test_a_one_character_given_name_after_a_kinship_word_before_huan(text: str, name: str) -> None:
    """Kills the one-character given name of a kinship slot (detect_names.py `_name_end`: the character after the
    given name, `gap + 1`, and `n_given = 1`): 有 is a stop elsewhere, but 配偶秦有患… names 秦有."""
    from cmedins.deid.detect_names import detect_names

    assert (name, "label_surname") in {(text[s.start:s.end], s.source) for s in detect_names(text)}


@pytest.mark.parametrize("text", ["内科门诊 男 45岁", "专家门诊 男 58岁，主诉头痛。", "急诊留观 男 70岁"])
def test_a_space_led_demographic_tail_needs_a_surname_before_it(text: str) -> None:
    """Kills the space test of the demographic rule (detect_names.py, `m.group(0)[:1].isspace()`): before
    ` 男 45岁` only a surname-first run is a name; a clinic or a ward status is not."""
    from cmedins.deid.detect_names import detect_names

    assert detect_names(text) == []
    named = "张伟 男 65岁"
    assert ("张伟", "demographic") in {(named[s.start:s.end], s.source) for s in detect_names(named)}


def test_the_last_code_point_of_the_han_block_is_han_after_a_name() -> None:
    """Kills `"\\u4e00" <= nxt <= "\\u9fff"` -> `<` in `_reads_as_name` (detect_names.py): U+9FFF (鿿, assigned in
    Unicode 14) after a candidate reads as any other Han character does, not as a delimiter closing a name."""
    from cmedins.deid.detect_names import detect_names

    found = {c: [(s.start, s.end, s.source) for s in detect_names(f"患者王峰垚{c}头痛。")] for c in "\u9fff丂龥"}
    assert found["\u9fff"] == found["丂"] == found["龥"]


def test_the_last_code_point_of_the_han_block_is_part_of_an_institution_name() -> None:
    """Kills `<= "\\u9fff"` -> `<` in `_name_before` (detect_places.py): the walk back over a hospital's name takes
    U+9FFF (the CJK block's last code point) as a Han character, as it takes 滨."""
    from cmedins.deid.detect_places import detect_institutions

    for c in ("滨", "\u9fff"):
        text = f"外院：转入{c}城医院治疗。"
        assert (f"{c}城医院", "HOSPITAL") in {(text[s.start:s.end], s.entity_type) for s in detect_institutions(text)}


def test_an_unlabelled_address_scores_by_its_strong_components() -> None:
    """Kills the address score rule (detect_places.py, `labelled or n_strong >= 2`): an address with one strong
    ending (路) and no label scores 0.7, one with three (省, 市, 路) 0.85; with threshold 0.8 only the second is
    redacted."""
    from cmedins.deid import DeidConfig, deidentify_texts
    from cmedins.deid.detect_places import detect_addresses

    one, three = "患者于金水区文化路附近摔倒。", "河南省郑州市文化路发生车祸。"
    assert [(one[s.start:s.end], s.score) for s in detect_addresses(one) if s.source == "address"] == \
        [("金水区文化路", 0.7)]
    assert [(three[s.start:s.end], s.score) for s in detect_addresses(three) if s.source == "address"] == \
        [("河南省郑州市文化路", 0.85)]
    out = [r.text for r in deidentify_texts([one, three], DeidConfig(threshold=0.8, ner=False))]
    assert out == [one, "[地址]发生车祸。"]


def test_the_ner_recognizer_is_registered_only_when_asked_for() -> None:
    """Kills `if ner:` -> `if not ner:` in `build_recognizers` (recognizers.py): the learned NER joins the presidio
    recognizers only with ner=True (building the list loads no model)."""
    from cmedins.deid.recognizers import build_recognizers

    assert "ChineseNerPersonRecognizer" not in [r.name for r in build_recognizers()]
    assert "ChineseNerPersonRecognizer" in [r.name for r in build_recognizers(ner=True)]


def test_a_birth_year_after_2100_is_not_plausible() -> None:
    """Kills `1880 <= y <= 2100` -> `!= 2100` in `plausible_birth` (checksums.py): both ends of the range are
    allowed, a year past either end is not, whatever the date."""
    from cmedins.deid.checksums import plausible_birth

    assert plausible_birth("18800101") and plausible_birth("21001231")
    assert not plausible_birth("18791231") and not plausible_birth("21010101") and not plausible_birth("29990615")


def test_a_table_whose_last_column_holds_the_names_gives_its_other_names() -> None:
    """Kills the end of a line's last cell in `_cells` (detect_lists.py, `pos + length`): with no closing `|` the
    names are the last cells of their lines, and a column holding a found name still gives its other names."""
    from cmedins.deid import DeidConfig, deidentify_texts

    text = "08:10|血糖|7.2|龚晓东\n08:25|血压|132/80|和煦\n09:00|血糖|6.1|卢平安"
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    persons = {text[e.start:e.end]: e.source for e in res.entities if e.entity_type == "PERSON"}
    assert persons.get("和煦") == "name_list", persons


@pytest.mark.parametrize("text", [
    "08:10 | 龚晓东 | 血糖 | 7.2\n08:25 | 和煦 | 血压 | 132/80\n09:00 | 卢平安 | 血糖 | 6.1",
    "时间\t护士\t项目\n08:10\t龚晓东\t血糖\n08:25\t 和煦\t血压",
])
def test_the_cells_of_a_table_are_read_without_the_spaces_around_them(text: str) -> None:
    """Kills the left trim of a table cell in `_cells` (detect_lists.py, `while s < e and text[s].isspace()`):
    `| 和煦 |` is the cell 和煦, so the name column still reads as one."""
    from cmedins.deid import DeidConfig, deidentify_texts

    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    persons = {text[e.start:e.end]: e.source for e in res.entities if e.entity_type == "PERSON"}
    assert persons.get("和煦") == "name_list", persons


@pytest.mark.parametrize(("text", "name"), [("姓名：张伟民族：汉族", "张伟"), ("患者王芳电话13800000000。", "王芳"),
                                            ("家属：陈刚联系电话：13800000000", "陈刚")])
def test_a_given_name_ends_where_a_field_word_starts(text: str, name: str) -> None:
    """Kills the field-word stop at the second given character in `_given_chars` (detect_names.py,
    `text[i + n:i + n + 2]`): in 张伟民族 the name is 张伟, 民族 is the next field, not a third character."""
    from cmedins.deid.detect_names import detect_names

    assert {text[s.start:s.end] for s in detect_names(text)} == {name}


def test_a_name_whose_last_character_makes_a_common_word_with_the_verb_is_no_clause_name() -> None:
    """Kills the look-ahead window of `_clause_name` (detect_names.py, `text[s:e + 2]`): 石传 before 来 opens no
    name, 传来 is a common word; a name that makes no word with its verb (张三诉) stays."""
    from cmedins.deid.detect_names import detect_names

    assert detect_names("石传来消息，家属到院。") == []
    assert detect_names("王亲近头痛。") == []
    named = "张三诉头痛。"
    assert [(named[s.start:s.end], s.source) for s in detect_names(named)] == [("张三", "clause_start")]


@pytest.mark.parametrize("text", ["母亲曾经陪护。", "母亲常常陪护。", "母亲夏天陪护。"])
def test_a_time_word_or_adverb_after_a_kinship_word_is_no_name(text: str) -> None:
    """Kills the whole-candidate branch of `_phrase_after_slot` (detect_names.py, `len(word) >= e - s`): after
    母亲, 曾经/常常/夏天 are an adverb or a time word that starts with a surname character, not a name."""
    from cmedins.deid.detect_names import detect_names

    assert detect_names(text) == []


def test_a_weak_surname_name_at_the_end_of_a_marked_role_slot_is_closed_by_the_end() -> None:
    """Kills `after == ""` -> `after < ""` in `_weak_name_len` (detect_names.py): the end of the text closes the
    slot (上级医师 于建设 as the last words of a note), so 建设, a common word, is still the given name."""
    from cmedins.deid.detect_names import detect_names

    text = "查房：上级医师 于建设"
    assert (text[-3:], "label_weak") in {(text[s.start:s.end], s.source) for s in detect_names(text)}


@pytest.mark.parametrize("text", ["配偶秦有好转。", "母亲王有糖尿病。", "母亲王经常头痛。"])
def test_a_one_character_kin_name_needs_what_follows_a_relatives_name(text: str) -> None:
    """Kills `text[cs + n_sur + gap + 1:cs + n_sur + gap + 2]` -> `cs - n_sur` in `_name_end` (detect_names.py):
    a one-character given name after a kinship word needs 患/体健/陪同… after it (配偶秦有患…); before 好转, 糖尿病
    or 常头痛 the surname character and the next one are no name."""
    from cmedins.deid.detect_names import detect_names

    assert detect_names(text) == []


@pytest.mark.parametrize(("text", "name"), [("受理人严冬，已办结。", "严冬"), ("收款人高明。", "高明"),
                                            ("检验者高明，", "高明")])
def test_a_name_that_is_a_word_after_a_three_character_functionary_role(text: str, name: str) -> None:
    """Kills `role[-1]` -> `role[+1]` in `role_noun` (detect_names.py): the role's last character (人, 者) makes it
    a functionary's role, so a name that is also a word (严冬, 高明) closed by punctuation is taken."""
    from cmedins.deid.detect_names import detect_names

    assert (name, "role_noun") in {(text[s.start:s.end], s.source) for s in detect_names(text)}


def test_the_nlp_engine_calls_only_punctuation_punct() -> None:
    """Kills `bool(word) and all(...)` -> `or` in `JiebaNlpEngine.is_punct` (nlp_engine.py): presidio asks the
    engine whether a token is punctuation; a word is not, nor is the empty string."""
    from cmedins.deid.nlp_engine import JiebaNlpEngine

    engine = JiebaNlpEngine()
    assert engine.is_punct("，", "zh") and engine.is_punct("。）", "zh")
    assert not engine.is_punct("张三", "zh") and not engine.is_punct("", "zh") and not engine.is_punct("a,", "zh")


def test_a_clipped_span_marks_exactly_its_free_run_as_taken() -> None:
    """Kills `prev + 1 - run_start` -> `prev - 1 - run_start` in `resolve` (spans.py): the free run kept of a clipped
    span is marked taken character for character, so a weaker span inside the stronger one is still refused."""
    from cmedins.deid.spans import Span, resolve

    kept = resolve([Span(5, 10, "PHONE", 0.9, "a"), Span(2, 7, "NAME", 0.8, "b"), Span(8, 10, "DATE", 0.5, "c")])
    assert [(s.start, s.end, s.entity_type) for s in kept] == [(2, 5, "NAME"), (5, 10, "PHONE")]


def test_an_event_sentence_later_in_its_section_maps_onto_its_deidentified_text(tmp_path: Path) -> None:
    """Kills `i + len(sentence)` -> `i ^ len(sentence)` in the deid stage's event mapping (stage.py): an event whose
    sentence is the second of its section gets that sentence's de-identified text, placeholders included."""
    from test_deid_stage import _record

    row = _record(1)
    second = "多多自述夜间加重，由其子钱小宝陪同来青山湖第二人民医院就诊。"
    assert row["present_illness"].endswith(second) and row["present_illness"] != second
    out = _stage_rows(tmp_path, [_record(1, events=[{**row["events"][0], "sentence": second}])]).kept.to_pylist()[0]
    sentence = out["events"][0]["sentence"]
    assert out["present_illness"].endswith(sentence)
    assert sentence.endswith("陪同来[医院]就诊。") and sentence.startswith("[姓名]自述") and "钱" not in sentence


def test_a_quarantined_rows_payload_has_its_keys_sorted(tmp_path: Path) -> None:
    """The quarantine payload is the row as JSON with sorted keys, so two builds write the same bytes whatever
    order a reader gives the columns in (a fresh seed-8 mutant, sort_keys=False, survived every other test)."""
    import json
    from datetime import date

    from test_deid_stage import _record

    out = _stage_rows(tmp_path, [_record(1, patient_birth_date=date(2030, 1, 1))])
    payload = out.quarantined.to_pylist()[0]["payload"]
    keys = list(json.loads(payload))
    assert keys == sorted(keys) and len(keys) > 5
