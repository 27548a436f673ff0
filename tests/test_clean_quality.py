"""The `clean` stage's quality filters: each problem gets its own reason code, good rows pass, and every row is
either kept or quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_clean_helpers import ctx, task_rows

from cmedins.clean.config import CleanConfig
from cmedins.clean.quality import longest_runs
from cmedins.clean.tokens import approx_tokens, approx_tokens_column
from cmedins.stage import get_stage

GOOD_Q = "主诉：反复上腹痛2年，加重3天。现病史：患者2年前无明显诱因出现上腹部隐痛，餐后加重，伴反酸、嗳气。"
GOOD_A = "诊断：1. 慢性胃炎；2. 胃食管反流病。"


def _run(tmp_path: Path, rows: list[dict], **options) -> tuple[list[str | None], dict]:
    """Per input row, the quarantine reason (None when kept), and the stats."""
    stage = get_stage("clean")
    table = task_rows([{**r, "id": f"r{i}"} for i, r in enumerate(rows)])
    out = stage.fn(table, stage.make_config(options), ctx(tmp_path))
    assert out.kept.num_rows + out.quarantined.num_rows == table.num_rows
    reasons = {q["key"]: q["reason"] for q in out.quarantined.to_pylist()}
    for q in out.quarantined.to_pylist():
        assert q["stage"] == "clean" and q["row"] == int(q["key"][1:]) + 1 and q["key"] in q["message"]
        assert GOOD_Q[:6] not in q["message"]  # counts and ids, never the text
    return [reasons.get(f"r{i}") for i in range(len(rows))], out.stats


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"query": GOOD_Q, "answer": GOOD_A}, None),
        ({"query": "[姓名]，[电话]。", "answer": GOOD_A}, "placeholder_only"),
        ({"query": GOOD_Q, "answer": "[姓名-3F2A] [医院]"}, "placeholder_only"),
        ({"query": "痛", "answer": GOOD_A}, "too_short"),
        ({"query": GOOD_Q, "answer": "。"}, "too_short"),
        ({"query": GOOD_Q * 100, "answer": GOOD_A}, "too_long"),
        ({"query": GOOD_Q + "啊啊啊啊啊啊啊啊啊啊", "answer": GOOD_A}, "repeated_chars"),
        ({"query": GOOD_Q, "answer": "好的，好的，好的，好的，好的，好的。"}, "repeated_chars"),
        ({"query": GOOD_Q, "answer": GOOD_Q + "。"}, "answer_copies_query"),
        ({"query": GOOD_Q, "answer": GOOD_A, "instruction": "Please give the diagnosis for this record."},
         "wrong_language"),
        ({"query": GOOD_Q, "answer": GOOD_A, "instruction": "请给出诊断。", "language": "en"}, "wrong_language"),
        ({"query": GOOD_Q, "answer": "Diagnosis: chronic gastritis and reflux disease."}, "wrong_language"),
    ],
)
def test_each_filter_has_its_reason(tmp_path: Path, row: dict, reason: str | None) -> None:
    reasons, stats = _run(tmp_path, [row])
    assert reasons == [reason]
    if reason:
        assert stats[f"quarantined:{reason}"] == 1


def test_things_that_look_bad_but_are_not(tmp_path: Path) -> None:
    rows = [
        {"query": "血小板计数 1000000/μl，复查 1111111 号", "answer": "诊断：血小板增多症——待排。……"},  # digits, dashes
        {"query": "癫痫大发作", "answer": "标准名称：癫痫，ICD-10编码：G40.901"},  # short query, coded answer
        {"query": "头晕1天", "answer": "诊断：COPD（主要诊断）", "instruction": "Give the diagnosis.",
         "language": "en"},  # English template, Chinese answer with an abbreviation
        {"query": GOOD_Q, "answer": "主诉反复上腹痛2年，诊断慢性胃炎"},  # an answer quoting part of the query
        {"query": "[姓名]，男，45岁，头痛3天", "answer": GOOD_A},  # placeholders among content
        {"query": "1. IgAN？", "answer": "IgAN？ → IgA肾病（ICD-10：N02.801）"},  # codes and abbreviations
    ]
    reasons, _ = _run(tmp_path, rows)
    assert reasons == [None] * len(rows)


def test_first_failing_check_wins_and_accounting_holds(tmp_path: Path) -> None:
    rows = [{"query": GOOD_Q, "answer": GOOD_A}] * 5 + [{"query": "[姓名]", "answer": "啊" * 20}]
    reasons, stats = _run(tmp_path, rows)
    assert reasons == [None] * 5 + ["placeholder_only"]
    assert sum(v for k, v in stats.items() if k.startswith("quarantined:")) == 1


def test_runs_and_tokens_are_counted_as_documented() -> None:
    runs = longest_runs(["啊啊啊", "好的好的好的x", "1000000", "abab", ""])
    assert runs[0, 0] == 3 and runs[1, 1] == 3 and runs[2, 0] == 1 and runs[3, 1] == 2 and runs[4].max() == 1
    assert approx_tokens(["你好"]) == 2 + 4 and approx_tokens(["abcdef"]) == 2 + 4
    table = task_rows([{"query": "头痛" * k, "answer": "诊断：偏头痛 migraine"} for k in range(1, 6)]).slice(2, 3)
    expected = [approx_tokens([m["content"] for m in msgs]) for msgs in table.column("messages").to_pylist()]
    assert approx_tokens_column(table.column("messages")).tolist() == expected  # a sliced batch too


def test_clean_config_is_checked() -> None:
    with pytest.raises(ValueError, match="plant_eval"):
        CleanConfig(plant_eval=3)
    with pytest.raises(ValueError, match="name and a path"):
        CleanConfig(eval_sets=[{"name": "x"}])
    with pytest.raises(ValueError, match="transformers|tokenizer"):
        from cmedins.clean.tokens import token_counter

        token_counter("/nonexistent/tokenizer")
