"""Source adapters: the real public samples in ../shared/realdata load as published, the readers cope with how
files are really shipped (JSON Lines named .json, GB18030 CSV, broken lines), and the embedded generators write
correct, distinct rows in the same formats."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmedins.sources.adapt import load_source
from cmedins.sources.embedded import GENERATORS, generate_rows, write_embedded
from cmedins.sources.embedded_general import _PROGRAMS
from cmedins.sources.formats import AdaptError, adapt, clean_text
from cmedins.sources.spec import SourceSpec, SourceSpecError
from cmedins.stage import StageError


def _load(tmp: Path, **raw):
    return load_source(SourceSpec.from_dict({"name": "s", "group": "g", **raw}), tmp, seed=1)


def _roles(df) -> list[list[str]]:
    return [[m["role"] for m in msgs] for msgs in df["messages"].to_list()]


# --- the real samples -------------------------------------------------------------------------------------------

def test_cmtmedqa_dialogues_keep_every_turn_and_safety_rows_load(realdata: Path, tmp_path: Path) -> None:
    src = _load(tmp_path, path=str(realdata / "CMtMedQA_test" / "CMtMedQA_test.json"), format="cmtmedqa",
                group="dialogue")
    assert src.rows_read == 1144 and src.examples.height == 1144 and not src.rejects
    first = src.examples.row(0, named=True)
    assert first["original_id"] == "j4219" and first["category"] == "肿瘤科"
    assert first["user_turns"] == 4 and first["source_group"] == "dialogue_multi"  # 3 history pairs + the last turn
    assert first["messages"][-1]["content"].startswith("不客气")
    safety = src.examples.filter(src.examples["original_id"].is_null())
    assert safety.height == 144 and set(safety["source_group"]) == {"dialogue_single"}
    assert not any(m["content"] != m["content"].strip() for msgs in safety["messages"] for m in msgs)
    assert all(r == ["user", "assistant"] * (len(r) // 2) for r in _roles(src.examples))


def test_chatmed_files_and_the_test_wrapper(realdata: Path, tmp_path: Path) -> None:
    src = _load(tmp_path, path=str(realdata / "ChatMed_Consult" / "*.json*"), format="chatmed")
    assert src.rows_read == 2537 + 450 and src.examples.height == src.rows_read
    users = [msgs[0]["content"] for msgs in src.examples["messages"].to_list()]
    assert not any("<s>" in u or u.startswith("问：") or u.endswith("答：") for u in users)
    assert src.examples["file"].unique().sort().to_list() == ["ChatMed-Consult_test.json", "corpus_191_hpc.jsonl"]


def test_huatuo_list_fields(realdata: Path, tmp_path: Path) -> None:
    src = _load(tmp_path, path=str(realdata / "huatuo26M_test_zhongjing" / "huatuo26M_test.json"),
                format="huatuo26m")
    assert src.examples.height == 6000 and not src.rejects
    assert src.examples["original_id"].null_count() == 6000  # id "" everywhere: grouped by row instead
    assert src.examples["group_key"].n_unique() == 6000


def test_alpaca_firefly_and_belle_seed(realdata: Path, tmp_path: Path) -> None:
    alpaca = _load(tmp_path, path=str(realdata / "alpaca_zh_demo" / "alpaca_zh_demo.json"), format="alpaca")
    assert alpaca.examples.height == 1000
    firefly = _load(tmp_path, path=str(realdata / "Firefly_dummy_sft" / "dummy_data.jsonl"), format="firefly")
    assert firefly.examples.height == 33 and min(firefly.examples["user_turns"]) >= 2
    assert firefly.examples["original_id"][0] == "1" and firefly.examples["category"][0] == "Brainstorming"
    seed = _load(tmp_path, path=str(realdata / "BELLE_zh_seed_tasks" / "zh_seed_tasks.json"), format="self_instruct")
    assert seed.rows_read == 175 and seed.examples.height >= 175
    assert seed.examples["original_id"][0] == "seed_task_8#1" and seed.examples["group_key"][0] == "s:seed_task_8"


def test_sharegpt_tool_calls(realdata: Path, tmp_path: Path) -> None:
    src = _load(tmp_path, path=str(realdata / "glaive_toolcall_zh_demo" / "glaive_toolcall_zh_demo.json"),
                format="sharegpt")
    assert src.rows_read == 300
    # two published rows have an observation after a plain answer (no function call): refused with a reason
    assert Counter(r["reason"] for r in src.rejects) == {"bad_turns": 2}
    assert all("function call" in r["message"] and r["payload"] for r in src.rejects)
    with_tool = [r for r in _roles(src.examples) if "tool" in r]
    assert with_tool and all(r[r.index("tool") - 1] == "assistant" for r in with_tool)
    assert all(isinstance(json.loads(t), list) for t in src.examples["tools"].drop_nulls())


def test_belle_eval_by_category_with_field_renames(realdata: Path, tmp_path: Path) -> None:
    src = _load(tmp_path, path=str(realdata / "BELLE_eval_set" / "eval_set.json"), format="alpaca",
                fields={"instruction": "question", "output": "std_answer"}, category_field="class",
                group={"code": "general_code", "math": "general_cot", "*": "general_wiki"})
    groups = dict(src.examples.group_by("source_group").len().iter_rows())
    assert groups["general_code"] == 38 and groups["general_cot"] == 75
    reasons = Counter(r["reason"] for r in src.rejects)
    assert set(reasons) == {"empty_text"} and src.examples.height + reasons["empty_text"] == 1000
    assert all(r["field"] == "output" and "line" in r["message"] for r in src.rejects)


def test_alpaca_cot_unescapes_literal_newlines(realdata: Path, tmp_path: Path) -> None:
    src = _load(tmp_path, path=str(realdata / "AlpacaCoT_cot_en" / "aqua_train.json"), format="alpaca",
                unescape_newlines=True)
    assert src.examples.height == 2728
    texts = [m["content"] for msgs in src.examples["messages"].to_list() for m in msgs]
    assert not any("\\n" in t for t in texts) and sum("\n" in t for t in texts) > 2000
    tsv = _load(tmp_path, path=str(realdata / "AlpacaCoT_cot_en" / "aqua_train.head300.tsv"), format="alpaca",
                columns=["instruction", "letter", "output"], unescape_newlines=True)
    assert tsv.examples.height == 300


@pytest.mark.parametrize("folder, pattern, fmt", [
    ("CMtMedQA_test", "*.json", "cmtmedqa"), ("ChatMed_Consult", "corpus_191_hpc.jsonl", "chatmed"),
    ("huatuo26M_test_zhongjing", "*.json", "huatuo26m"), ("alpaca_zh_demo", "alpaca_zh_demo.json", "alpaca"),
    ("Firefly_dummy_sft", "*.jsonl", "firefly"), ("glaive_toolcall_zh_demo", "*.json", "sharegpt"),
    ("BELLE_zh_seed_tasks", "*.json", "self_instruct"),
])
def test_auto_format_reads_each_sample_like_its_adapter(realdata: Path, tmp_path: Path, folder: str, pattern: str,
                                                         fmt: str) -> None:
    path = str(realdata / folder / pattern)
    auto, explicit = _load(tmp_path, path=path, max_rows=1500), _load(tmp_path, path=path, format=fmt, max_rows=1500)
    assert auto.examples["messages"].to_list() == explicit.examples["messages"].to_list()
    assert auto.rows_read == min(1500, explicit.rows_read) and auto.examples.height > 0


# --- readers ----------------------------------------------------------------------------------------------------

def test_broken_jsonl_line_is_quarantined_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"query": "头疼怎么办", "response": "多休息"}\n{"query": "x", \n'
                    '{"query": "咳嗽", "response": "多喝水"}\n[1, 2]\n', encoding="utf-8")
    src = _load(tmp_path, path=str(path), format="chatmed")
    assert src.rows_read == 4 and src.examples.height == 2
    assert [(r["reason"], r["line"]) for r in src.rejects] == [("unreadable_row", 2), ("not_an_object", 4)]
    assert "头疼" not in json.dumps([r["message"] for r in src.rejects], ensure_ascii=False)


def test_gb18030_csv_with_history_as_json_and_parquet(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    history = json.dumps([["我发烧了", "多少度？"]], ensure_ascii=False).replace('"', '""')
    csv.write_bytes(f'instruction,output,history\n38度,"建议就医",\"{history}\"\n'.encode("gb18030"))
    src = _load(tmp_path, path=str(csv), format="alpaca", encoding="gb18030")
    assert src.examples["user_turns"].to_list() == [2]
    with pytest.raises(StageError, match="not valid utf-8"):
        _load(tmp_path, path=str(csv), format="alpaca")
    pq.write_table(pa.table({"messages": [[{"role": "user", "content": "你好"}, {"role": "assistant",
                                                                                "content": "你好！"}]]}),
                   tmp_path / "m.parquet")
    assert _load(tmp_path, path=str(tmp_path / "m.parquet")).examples.height == 1


def test_json_object_needs_json_key(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"data": [{"query": "q", "response": "r"}]}, ensure_ascii=False), encoding="utf-8")
    assert _load(tmp_path, path=str(path), json_key="data").examples.height == 1
    (tmp_path / "p.json").write_text('{"data": [\n{"query": "q", "response": "r"}]}', encoding="utf-8")
    with pytest.raises(StageError, match="json_key"):
        _load(tmp_path, path=str(tmp_path / "p.json"))


def test_missing_file_and_hub_without_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StageError, match="no file matches"):
        _load(tmp_path, path=str(tmp_path / "none-*.json"))
    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails as when the package is not installed
    with pytest.raises(StageError) as err:
        _load(tmp_path, hub="michaelwzhu/ChatMed_Consult_Dataset", format="chatmed")
    assert "pip install datasets" in str(err.value) and "\n" not in str(err.value)


# --- adapters and specs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, fmt, reason", [
    ({"messages": [{"role": "user", "content": "a"}]}, "auto", "bad_turns"),  # ends with the user
    ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                   {"role": "assistant", "content": "c"}]}, "auto", "bad_turns"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "  "}]}, "auto", "empty_text"),
    ({"conversations": [{"from": "alien", "value": "a"}]}, "auto", "bad_turns"),
    ({"instruction": "a"}, "alpaca", "missing_field"),
    ({"instruction": ["a", "b"], "output": ["c"]}, "auto", "bad_turns"),
    ({"instruction": "a", "output": {"text": "b"}}, "alpaca", "bad_type"),
    ({"foo": 1}, "auto", "unknown_format"),
])
def test_rows_that_cannot_be_conversations(raw: dict, fmt: str, reason: str) -> None:
    with pytest.raises(AdaptError) as err:
        adapt(raw, SourceSpec.from_dict({"name": "s", "group": "g", "path": "x.json", "format": fmt}), Counter())
    assert err.value.reason == reason


def test_system_prompt_and_cleaning() -> None:
    spec = SourceSpec.from_dict({"name": "s", "group": "g", "path": "x.json"})
    counts: Counter = Counter()
    (ex,) = adapt({"system": "你是医生", "instruction": "我的电话138\u200b0013\u200b8000\r\n", "output": "好"},
                  spec, counts)
    assert ex.messages == (("system", "你是医生"), ("user", "我的电话13800138000"), ("assistant", "好"))
    assert counts == {"invisible": 1, "line_break": 1}
    assert clean_text("a\x00b\ud800") == "ab\ufffd"


@pytest.mark.parametrize("raw, match", [
    ({"name": "s", "group": "g"}, "exactly one of path, hub or generate"),
    ({"name": "s", "group": "g", "path": "a", "hub": "b"}, "exactly one"),
    ({"name": "s", "group": "g", "path": "a", "colour": 1}, "unknown option"),
    ({"name": "s", "group": {"code": "general_code"}, "path": "a"}, "'\\*'"),
    ({"name": "s", "group": "g", "path": "a", "format": "xml"}, "format must be one of"),
    ({"name": "s", "group": "g", "generate": "poetry"}, "generate must be one of"),
    ({"name": "s", "group": "g", "generate": "cot", "format": "sharegpt"}, "writes format"),
    ({"name": "a:b", "group": "g", "path": "a"}, "without ':'"),
    ({"name": "s", "group": "g", "path": "a", "encoding": "klingon"}, "unknown encoding"),
    ({"name": "s", "group": "g", "path": "a", "identifiers": "ignore"}, "identifiers must be"),
])
def test_spec_errors_are_one_line(raw: dict, match: str) -> None:
    with pytest.raises(SourceSpecError, match=match) as err:
        SourceSpec.from_dict(raw)
    assert "\n" not in str(err.value)


# --- the embedded generators ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_deterministic_distinct_and_adapt_cleanly(tmp_path: Path, name: str) -> None:
    a = write_embedded(name, 150, 5, tmp_path / "a", name).read_bytes()
    b = write_embedded(name, 150, 5, tmp_path / "b", name).read_bytes()
    assert a == b and a != write_embedded(name, 150, 6, tmp_path / "c", name).read_bytes()
    src = _load(tmp_path, generate=name, rows=150)
    assert src.rows_read == 150 and not src.rejects
    texts = ["\x1e".join(m["content"] for m in msgs) for msgs in src.examples["messages"].to_list()]
    assert len(set(texts)) == len(texts)


def test_generated_programs_print_what_their_comments_say() -> None:
    for _task, fn, code, _why in _PROGRAMS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, {})  # noqa: S102 - our own fixed snippets
        expected = next(ln.split("# ", 1)[1] for ln in code.splitlines() if ln.startswith("print("))
        assert out.getvalue().strip() == expected, fn


def test_generated_arithmetic_is_right() -> None:
    ops = {"×": lambda a, b: a * b, "+": lambda a, b: a + b, "-": lambda a, b: a - b}
    checked = 0
    for row in generate_rows("cot", 400, 3):
        for a, op, b, c in re.findall(r"(?<![\d/.])(\d+)([×+\-])(\d+)=(\d+)(?![\d/x.])", row["output"]):
            assert ops[op](int(a), int(b)) == int(c), row["output"]
            checked += 1
    assert checked > 500


def test_generated_dialogues_plant_identifiers_and_long_consultations() -> None:
    rows = generate_rows("cmtmedqa", 600, 2)
    texts = [t for r in rows for pair in r["history"] for t in pair]
    assert any(re.search(r"1[3578]\d{9}", t) for t in texts) and any("患者姓名：" in t for t in texts)
    assert max(len(r["history"]) for r in rows) >= 14 and min(len(r["history"]) for r in rows) >= 1
