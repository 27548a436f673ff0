"""The preference set: prompt sampling (train split only, one prompt per assistant turn), derived candidates, the
Label Studio round-trip with hand-written exports, agreement (raw and Cohen's kappa computed by hand), adjudication
and the Safety > Professionalism > Fluency decision."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from cmedins.contracts import load_contract
from cmedins.preference import agreement, candidates, labelstudio, prompts
from cmedins.preference.stage import PreferenceConfig, preference_stage
from cmedins.stage import StageContext, StageError


def _msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def sft_rows(n: int = 40) -> pa.Table:
    """Mixed rows: task rows (one turn), multi-turn dialogues (two assistant turns), general rows; every fifth
    row in validation."""
    rows = []
    for i in range(n):
        kind = ("cmedins_tasks", "dialogue_multi", "general_cot")[i % 3]
        if kind == "dialogue_multi":
            messages = [_msg("user", f"头痛{i}天怎么办？"), _msg("assistant", "多久了？有没有发热？"),
                        _msg("user", "没有发热。"), _msg("assistant", "建议到神经内科就诊，必要时做头颅CT。")]
        elif kind == "cmedins_tasks":
            messages = [_msg("user", f"请推荐就诊科室。\n主诉：胸痛{i}天。既往史：青霉素过敏。"),
                        _msg("assistant", "建议就诊科室：心血管内科。理由：胸痛，考虑心血管系统疾病。")]
        else:
            messages = [_msg("user", f"{i}+1等于几？"), _msg("assistant", f"{i + 1}。")]
        rows.append({"id": f"row{i:03d}", "split": "validation" if i % 5 == 0 else "train", "source": kind,
                     "source_group": kind, "task": "triage" if kind == "cmedins_tasks" else None,
                     "messages": messages, "tools": None, "group_key": f"g{i}", "record_key": f"r{i}",
                     "original_id": None, "licence": "x", "category": None, "num_turns": 1, "tokens": 10,
                     "piece": 0, "copy": 0, "deidentified": False})
    return pa.Table.from_pylist(rows, schema=load_contract("sft_row").schema)


def _frame(table: pa.Table) -> pl.DataFrame:
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df


def test_prompts_come_from_train_medical_rows_one_per_assistant_turn() -> None:
    sampled = prompts.in_distribution(_frame(sft_rows()), 1000, seed=1)
    ids = {p.split("#")[0] for p in sampled["prompt_id"]}
    validation = {f"row{i:03d}" for i in range(0, 40, 5)}
    assert ids and not ids & validation
    assert set(sampled["source"]) == {"cmedins_tasks", "dialogue_multi"}  # general rows are not judged
    second = sampled.filter(pl.col("prompt_id") == "row001#2").row(0, named=True)
    assert [m["role"] for m in second["prompt"]] == ["user", "assistant", "user"]  # the history is kept
    assert second["reference"].startswith("建议到神经内科") and second["turn"] == 2
    assert prompts.in_distribution(_frame(sft_rows()), 5, seed=1).equals(
        prompts.in_distribution(_frame(sft_rows()), 5, seed=1))
    assert prompts.in_distribution(_frame(sft_rows()), 5, seed=2)["prompt_id"].to_list() != \
        prompts.in_distribution(_frame(sft_rows()), 5, seed=1)["prompt_id"].to_list()


def test_derived_candidates_break_the_dimension_they_name() -> None:
    import random

    user = "主诉：咳嗽3天。过敏史：对青霉素过敏。"
    answer = "建议就诊科室：呼吸内科。理由：咳嗽，考虑呼吸系统疾病。"
    unsafe, kind = candidates.safety_violation(user, answer, random.Random(1))
    assert kind == "allergy" and "阿莫西林" in unsafe
    unsafe, kind = candidates.safety_violation("主诉：胸痛1小时。", answer, random.Random(1))
    assert kind == "red_flag" and ("无需就医" in unsafe or "不用去医院" in unsafe)
    wrong, kind = candidates.professionalism_violation(answer, random.Random(1))
    assert kind == "wrong_department" and "呼吸内科" not in wrong and wrong != answer
    broken, kind = candidates.fluency_violation(answer, random.Random(1))
    assert kind == "disfluent" and broken != answer and "。" not in broken
    assert candidates.truth("reference", "derived:safety:allergy") == {"safety": "A", "professionalism": "tie",
                                                                      "fluency": "tie"}
    assert candidates.truth("derived:fluency:disfluent", "reference")["fluency"] == "B"


def test_cohen_kappa_and_decision_by_hand() -> None:
    a = ["A", "A", "B", "tie", "A", "B"]
    b = ["A", "B", "B", "tie", "A", "A"]
    # p_o = 4/6; p_e = (3*3 + 2*2 + 1*1) / 36 = 14/36; kappa = (24/36 - 14/36) / (22/36) = 10/22
    assert agreement.cohen_kappa(a, b) == pytest.approx(10 / 22)
    assert agreement.cohen_kappa(["A", "A"], ["A", "A"]) is None  # chance agreement 1: undefined
    assert agreement.decide({"safety": "tie", "professionalism": "B", "fluency": "A"}) == ("B", "professionalism")
    assert agreement.decide({"safety": "A", "professionalism": "B", "fluency": "B"}) == ("A", "safety")
    assert agreement.decide(dict.fromkeys(("safety", "professionalism", "fluency"), "tie")) == ("tie", None)


def _annotation(who: object, labels: dict[str, str], cancelled: bool = False) -> dict:
    """One annotation as Label Studio exports it (choices by their displayed value)."""
    shown = {"A": "A 更好", "B": "B 更好", "tie": "一样"}
    return {"completed_by": who, "was_cancelled": cancelled, "lead_time": 12.5,
            "result": [{"from_name": d, "to_name": "prompt", "type": "choices", "value": {"choices": [shown[v]]}}
                       for d, v in labels.items()]}


def _labels(s: str, p: str, f: str) -> dict[str, str]:
    return {"safety": s, "professionalism": p, "fluency": f}


def test_label_studio_round_trip_with_disagreements_and_adjudication(tmp_path: Path) -> None:
    table = sft_rows()
    config = PreferenceConfig(in_distribution=6, out_of_distribution=0, annotators=2)
    first = preference_stage(table, config, StageContext(seed=3, workdir=tmp_path / "sim", secret=b"t"))
    assert first.kept.equals(table)  # the sft rows pass through
    tasks = json.loads((tmp_path / "sim" / "labelstudio" / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 6 and all(len(t["meta"]["annotators"]) == 2 for t in tasks)
    assert {"pair_id", "prompt", "answer_a", "answer_b", "criteria"} <= set(tasks[0]["data"])
    assert "<Choices name=\"safety\"" in (tmp_path / "sim" / "labelstudio" / "label_config.xml").read_text()
    pairs = [t["data"]["pair_id"] for t in tasks]

    # What two people answered in Label Studio (ids as numbers and as objects, one cancelled draft, one dimension
    # with an unknown choice), and the expert's round on the disputed pairs.
    ann1 = [_labels("A", "tie", "tie"), _labels("tie", "B", "A"), _labels("tie", "tie", "tie"),
            _labels("B", "tie", "tie"), _labels("A", "A", "A"), _labels("tie", "tie", "B")]
    ann2 = [_labels("A", "tie", "tie"), _labels("tie", "B", "tie"), _labels("tie", "tie", "tie"),
            _labels("A", "tie", "tie"), _labels("A", "B", "A"), _labels("tie", "tie", "A")]
    export = [{"id": i, "data": t["data"], "annotations": [
        _annotation(7, ann1[i]), _annotation({"id": 9, "email": "li@hospital.cn"}, ann2[i]),
        _annotation(7, _labels("B", "B", "B"), cancelled=True)]} for i, t in enumerate(tasks)]
    export[0]["annotations"][0]["result"].append({"from_name": "safety", "value": {"choices": ["???"]}})
    expert = [{"id": 1, "data": {"pair_id": pairs[3]}, "annotations": [_annotation(1, _labels("B", "A", "A"))]}]
    (tmp_path / "export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "expert.json").write_text(json.dumps(expert, ensure_ascii=False), encoding="utf-8")

    labels, skipped = labelstudio.read_export(tmp_path / "export.json")
    assert skipped == {"cancelled": 6, "unknown_choice": 1, "no_pair_id": 0}
    assert set(labels["annotator"]) == {"7", "li@hospital.cn"}
    # pairs 0..5 decisions: 1:(A,safety) 2:(A,safety) | 1:(B,prof) 2:(B,prof) | tie tie | 1:B 2:A (disputed) |
    # 1:(A,safety) 2:(A,safety) | 1:(B,fluency) 2:(A,fluency) (disputed)
    results = {o.pair_id: o for o in agreement.outcomes(labels)}
    assert agreement.adjudication_queue(list(results.values())) == sorted([pairs[3], pairs[5]])
    assert results[pairs[2]].dropped == "tie"
    assert results[pairs[1]].agreement == pytest.approx(2 / 3)

    table_k = agreement.agreement_table(labels).filter(pl.col("dimension") == "safety").row(0, named=True)
    # safety: 1 = [A, tie, tie, B, A, tie], 2 = [A, tie, tie, A, A, tie]: p_o = 5/6,
    # p_e = (A 2*3 + tie 3*3 + B 1*0) / 36 = 15/36, kappa = (30/36 - 15/36) / (21/36) = 15/21
    assert table_k["pairs"] == 6 and table_k["agreement"] == pytest.approx(5 / 6)
    assert table_k["kappa"] == pytest.approx(15 / 21)

    final = PreferenceConfig(in_distribution=6, out_of_distribution=0, annotators=2,
                             annotations=[str(tmp_path / "export.json")], adjudications=[str(tmp_path / "expert.json")])
    out = preference_stage(table, final, StageContext(seed=3, workdir=tmp_path / "real", secret=b"t"))
    dpo = pl.read_parquet(tmp_path / "real" / "dpo.parquet")
    assert dpo.columns == load_contract("dpo_row").names
    assert sorted(dpo["id"]) == sorted([pairs[0], pairs[1], pairs[3], pairs[4]])  # tie dropped, pair 5 disputed
    assert out.stats["pairs_dropped:tie"] == 1 and out.stats["pairs_dropped:disputed"] == 1
    by_id = {r["id"]: r for r in dpo.iter_rows(named=True)}
    adjudicated = by_id[pairs[3]]
    assert adjudicated["adjudicated"] and adjudicated["deciding_dimension"] == "safety"
    task = tasks[3]["data"]
    assert adjudicated["chosen"][0]["content"] == task["answer_b"]  # the expert said B on safety
    assert by_id[pairs[1]]["chosen"][0]["content"] == task_answer(tasks[1], "B")
    assert by_id[pairs[1]]["deciding_dimension"] == "professionalism"
    assert not any(dpo["simulated"])
    assert all(r[-1]["role"] == "user" for r in dpo["prompt"].to_list())


def task_answer(task: dict, side: str) -> str:
    return task["data"]["answer_a" if side == "A" else "answer_b"]


def test_simulated_demo_and_bad_exports(tmp_path: Path) -> None:
    out = preference_stage(sft_rows(90), PreferenceConfig(in_distribution=30, out_of_distribution=0, error_rate=0.2),
                           StageContext(seed=4, workdir=tmp_path / "a", secret=b"t"))
    dpo = pl.read_parquet(tmp_path / "a" / "dpo.parquet")
    assert dpo.height + sum(v for k, v in out.stats.items() if k.startswith("pairs_dropped:")) == out.stats["pairs"]
    assert all(dpo["simulated"]) and set(dpo["split"]) <= {"train", "validation"}
    again = preference_stage(sft_rows(90), PreferenceConfig(in_distribution=30, out_of_distribution=0,
                                                           error_rate=0.2),
                             StageContext(seed=4, workdir=tmp_path / "b", secret=b"t"))
    assert (tmp_path / "a" / "dpo.parquet").read_bytes() == (tmp_path / "b" / "dpo.parquet").read_bytes()
    assert again.stats == out.stats
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    bad = PreferenceConfig(in_distribution=5, out_of_distribution=0, annotations=[str(tmp_path / "broken.json")])
    with pytest.raises(StageError, match=r"broken.json: not a Label Studio JSON export"):
        preference_stage(sft_rows(), bad, StageContext(seed=4, workdir=tmp_path / "c", secret=b"t"))
    with pytest.raises(ValueError, match="only judge derived candidates"):
        PreferenceConfig(candidates="file", candidates_file="x.jsonl")


def test_command_line_agreement_and_queue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cmedins.preference.__main__ import main

    tasks = [{"data": {"pair_id": p, "prompt": "患者：胸痛", "answer_a": "a", "answer_b": "b"}} for p in ("p1", "p2")]
    export = [{"data": {"pair_id": "p1"}, "annotations": [_annotation(1, _labels("A", "tie", "tie")),
                                                          _annotation(2, _labels("A", "B", "tie"))]},
              {"data": {"pair_id": "p2"}, "annotations": [_annotation(1, _labels("tie", "A", "tie")),
                                                          _annotation(2, _labels("tie", "tie", "B"))]}]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks), encoding="utf-8")
    (tmp_path / "export.json").write_text(json.dumps(export), encoding="utf-8")
    assert main(["agreement", str(tmp_path / "export.json")]) == 0
    out = capsys.readouterr().out
    assert "1 / 2" in out and "pairs 2: decided 1, ties 0, to adjudicate 1" in out
    assert main(["queue", "--tasks", str(tmp_path / "tasks.json"), "--out", str(tmp_path / "adj.json"),
                 str(tmp_path / "export.json")]) == 0
    assert [t["data"]["pair_id"] for t in json.loads((tmp_path / "adj.json").read_text())] == ["p2"]
    assert main(["agreement", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_generate_candidates_with_a_local_model(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    tiny = pytest.importorskip("train.tiny")
    from cmedins.preference.generate import Sampling, generate

    model = tiny.write_tiny(tmp_path / "tiny")
    sampled = prompts.in_distribution(_frame(sft_rows()), 3, seed=1)
    sampled.write_parquet(tmp_path / "prompts.parquet")
    n = generate(tmp_path / "prompts.parquet", str(model), tmp_path / "cands.jsonl",
                 Sampling(num=2, batch_size=2, max_new_tokens=8))
    rows = [json.loads(line) for line in (tmp_path / "cands.jsonl").read_text(encoding="utf-8").splitlines()]
    assert n == len(rows) == 6 and {r["prompt_id"] for r in rows} == set(sampled["prompt_id"])
    assert {r["generator"] for r in rows} == {"model:tiny#1", "model:tiny#2"}
    loaded = candidates.from_file(tmp_path / "cands.jsonl", "cands")
    assert loaded.height == 6 and loaded.columns == ["prompt_id", "answer", "generator"]
