"""Forms of text that hide a name from word lists made for plain simplified prose: letter spacing (OCR, PDF
exports), traditional characters (Hong Kong, Macau, Taiwan notes) and table bars. Hand-written cases, rules only."""

from __future__ import annotations

import pytest

from cmedins.deid import DeidConfig, deidentify_texts
from cmedins.deid.text_norm import simplified, visible_view

RULES = DeidConfig(ner=False)


@pytest.mark.parametrize(("text", "name"), [
    ("姓 名 ： 诸 葛 晓 岚   性 别 ： 女", "诸 葛 晓 岚"),  # letter-spaced by OCR
    ("主治醫師：歐陽子軒　住院醫師：游家豪", "歐陽子軒"),  # traditional characters
    ("護理師簡郁雯在旁陪伴。", "簡郁雯"),
    ("|床号|姓名|诊断|\n|3|蒋文斌|肺炎|", "蒋文斌"),  # a table cell between bars
])
def test_a_name_in_these_forms_is_replaced(text: str, name: str) -> None:
    out = deidentify_texts([text], RULES)[0].text
    assert name not in out and "[姓名]" in out


@pytest.mark.parametrize("text", ["第四章 肾小管 疾病", "|检查项目|结果|\n|血常规|正常|\n|尿常规|阴性|",
                                  "發燒三天，頭痛，於門診就診。"])
def test_plain_words_in_these_forms_stay(text: str) -> None:
    assert deidentify_texts([text], RULES)[0].text == text


@pytest.mark.parametrize(("text", "gone"), [
    ("病歷號：58213　覆診：下週", "58213"),  # a label in traditional characters
    ("香港身份證號碼：Z765432(A)", "(A)"),  # with the card's check digit
    ("老太太今年九十六歲，耳聾。", "九十六"),  # an age over 89 in Chinese numerals and a traditional 歲
])
def test_numbers_and_ages_labelled_in_traditional_characters_go(text: str, gone: str) -> None:
    assert gone not in deidentify_texts([text], RULES)[0].text


def test_the_views_keep_positions() -> None:
    text = "醫師：黃國雄"
    assert simplified(text) == "医师：黄国雄" and len(simplified(text)) == len(text)
    view = visible_view("患 者 欧 阳 振 华 因 发 热")
    assert view.text == "患者欧阳振华因发热"
    assert [view.index[i] for i in (0, 2)] == [0, 4]  # each letter keeps its original position


def test_a_letter_spaced_date_and_record_number_go() -> None:
    out = deidentify_texts(["入 院 日 期 ： 2 0 2 1 - 0 7 - 1 9   住 院 号 ： K Q 3 3 0 5 8 1"], RULES)[0].text
    assert "0 7 - 1 9" not in out and "3 3 0 5 8 1" not in out and "2021" in out  # the year stays (year mode)
    out = deidentify_texts(["年龄:45 住院号:K Q 3 3 0 5 8 1"], RULES)[0].text  # a colon right before the run
    assert "3 3 0 5 8 1" not in out


@pytest.mark.parametrize(("text", "name", "kept"), [
    ("1. 郝思江　女　52岁", "郝思江", "女"),  # a three-character name, then a sex field: no padded 江女
    ("4. 司马林　男　67岁", "司马林", "男"),
])
def test_a_space_after_a_three_character_name_pads_nothing(text: str, name: str, kept: str) -> None:
    """A surname ending a longer Han run (思江 after 郝) starts no padded name: the whole name goes, the sex stays."""
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert name[0] not in res.text and f"　{kept}　" in res.text, res.text


@pytest.mark.parametrize("text", ["由病友蔺　强陪同来院", "受理人：服务台邝　敏", "肝病门诊裘　东教授查房"])
def test_a_padded_name_after_a_role_or_a_place_word_still_goes(text: str) -> None:
    """The padding check only refuses the last character of a three-character name standing alone."""
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    name = text.split("　")[0][-1] + text.split("　")[1][0]
    assert name[0] not in res.text and name[1] not in res.text, res.text
