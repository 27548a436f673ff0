"""Decontamination against evaluation sets: the real Huatuo26M-test and CMtMedQA-test samples (skipped when
../shared/realdata is absent), the shipped demo set, and the default recipe's planted items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from test_clean_helpers import ctx, edit, task_rows

from cmedins.clean import demo_eval
from cmedins.clean.evalsets import read_eval_set
from cmedins.clean.plant import PREFIX, planted_positions
from cmedins.stage import StageError, get_stage

HUATUO = "huatuo26M_test_zhongjing/huatuo26M_test.json"
CMTMEDQA = "CMtMedQA_test/CMtMedQA_test.json"
CLINICAL = [
    ("患者信息：男，62岁\n主诉：胸闷伴喘息7年\n现病史：7年前无明显诱因出现喘息，于当地医院诊断为慢性阻塞性肺疾病，长期吸入噻托溴铵。",
     "诊断：1. 慢性阻塞性肺疾病急性加重（主要诊断）"),
    ("患者信息：女，23岁\n主诉：口吐白沫11个月\n现病史：11个月前饱餐后自觉口吐白沫，同时伴舌咬伤，上述症状反复发作。",
     "建议就诊科室：神经内科。\n理由：结合主诉及现病史，考虑癫痫可能。"),
    ("体格检查：体温36.7℃，脉搏96次/分，双肺呼吸音清，未闻及干湿性啰音；心律齐，各瓣膜听诊区未闻及病理性杂音。",
     "主体词：啰音；发生状态：否定；描述词：干湿性；解剖部位：双肺"),
]


def _clean(tmp_path: Path, rows: list[dict], eval_sets: list[dict], **options) -> tuple[dict[str, str], dict]:
    """{row id: quarantine message} of contaminated rows, and the stats."""
    stage = get_stage("clean")
    config = stage.make_config({"eval_sets": eval_sets, **options})
    table = task_rows([{**r, "id": f"r{i}"} for i, r in enumerate(rows)])
    out = stage.fn(table, config, ctx(tmp_path, state=stage.setup(config)))
    assert out.kept.num_rows + out.quarantined.num_rows == table.num_rows
    found = {q["key"]: q["message"] for q in out.quarantined.to_pylist() if q["reason"] == "contaminated"}
    return found, out.stats


def test_rows_overlapping_the_real_evaluation_sets_are_removed(tmp_path: Path, realdata: Path) -> None:
    huatuo = json.loads((realdata / HUATUO).read_text(encoding="utf-8"))
    cmt = json.loads((realdata / CMTMEDQA).read_text(encoding="utf-8"))
    long_q = next(x for x in huatuo if len(x["instruction"][0]) > 40)
    short_q = next(x for x in huatuo if 12 <= len(x["instruction"][0]) <= 18)
    dialogue = next(x for x in cmt if "history" in x and len(x["history"]) >= 3)
    safety = next(x for x in cmt if "instruct" in x)
    clean = [{"query": q, "answer": a} for q, a in CLINICAL]
    leaks = [
        {"query": long_q["instruction"][0], "answer": "建议到医院就诊。"},  # a question, verbatim
        {"query": "请问" + edit(short_q["instruction"][0], 0.06, 1), "answer": "注意休息。"},  # short, edited
        {"query": CLINICAL[0][0], "answer": huatuo[7]["output"][0]},  # an evaluation answer as the answer
        {"query": dialogue["history"][1][0], "answer": "好的。"},  # a turn inside a multi-turn dialogue
        {"query": "请问：" + safety["instruct"].strip(), "answer": "请及时就医。"},  # a safety item
        {"query": "病史：" + long_q["instruction"][0][:40] + "。查体无特殊。", "answer": "诊断：待查"},  # 40 inside
    ]
    sets = [{"name": "huatuo26M_test", "path": str(realdata / HUATUO)},
            {"name": "CMtMedQA_test", "path": str(realdata / CMTMEDQA)}]
    found, stats = _clean(tmp_path, clean + leaks, sets)
    assert sorted(found) == [f"r{i}" for i in range(len(clean), len(clean) + len(leaks))]
    assert stats["contamination:huatuo26M_test"] == 4 and stats["contamination:CMtMedQA_test"] == 2
    assert f"CMtMedQA_test item {dialogue['id']}" in found[f"r{len(clean) + 3}"]
    assert "question similarity" in found[f"r{len(clean) + 1}"]
    for message in found.values():
        assert long_q["instruction"][0][:8] not in message  # the item is named, never quoted


def test_real_evaluation_sets_read_into_questions_and_answers(realdata: Path) -> None:
    huatuo = read_eval_set("h", str(realdata / HUATUO))
    cmt = read_eval_set("c", str(realdata / CMTMEDQA))
    assert len(huatuo) == 6000 and all(len(it.questions) == 1 and len(it.answers) == 1 for it in huatuo)
    assert huatuo[5].item_id == "#5"  # Huatuo's ids are empty: positions name the items
    assert len(cmt) == 1144
    dialogues = [it for it in cmt if not it.item_id.startswith("#")]
    assert len(dialogues) == 1000 and sum(len(it.questions) for it in dialogues) > 3000  # every user turn


def test_the_demo_set_is_what_its_generator_writes_and_plants_exactly(tmp_path: Path) -> None:
    assert demo_eval.PATH.read_text(encoding="utf-8") == demo_eval.render()
    recipe = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    options = next(s["clean"] for s in recipe["stages"] if isinstance(s, dict) and "clean" in s)
    rows = [{"query": q + f"（第{i}次）", "answer": a} for i in range(10) for q, a in CLINICAL]
    found, stats = _clean(tmp_path, rows, options["eval_sets"], plant_eval=options["plant_eval"])
    planted = planted_positions(len(rows), options["plant_eval"], 20240521)
    assert sorted(found) == sorted(f"r{i}" for i in planted) and len(planted) == options["plant_eval"]
    assert stats["planted:demo_eval"] == stats["contamination:demo_eval"] == options["plant_eval"]
    assert all("planted by plant_eval" in m for m in found.values())
    # only the first batch is planted: a later batch is left alone
    stage = get_stage("clean")
    config = stage.make_config(options)
    later = stage.fn(task_rows(rows), config, ctx(tmp_path, row_offset=2000, state=stage.setup(config)))
    assert later.quarantined.num_rows == 0 and PREFIX not in "".join(later.kept.column("query").to_pylist())


def test_eval_set_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(StageError, match="no such file.*Hub"):
        read_eval_set("x", "Suprit/CMtMedQA")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(StageError, match="bad.json: not valid JSON"):
        read_eval_set("x", str(bad))
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"id": "1"}\n', encoding="utf-8")
    with pytest.raises(StageError, match="no item with a question or an answer"):
        read_eval_set("x", str(empty))
