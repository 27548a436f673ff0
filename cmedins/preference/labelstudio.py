"""The annotation round-trip with Label Studio: pairs out as an import file, judgements back from its JSON export.

Export: one task per pair, `data` holding the prompt (as text), answers A and B and the criteria; the labelling
interface (`LABEL_CONFIG`, pasted into the project's settings) asks for A / B / tie on each of the paper's three
dimensions. Each pair is assigned to two annotators of the pool (the cross-annotation plan): the assignment is in
each task's `meta.annotators` and in a separate plan file, for projects that distribute tasks by hand or through
Label Studio Enterprise's manual assignment.

Import: Label Studio's JSON export is a list of tasks, each with `annotations` (one per annotator: `completed_by`,
`result` = choices per dimension, `was_cancelled`). Cancelled annotations and dimensions left empty are skipped
and counted. The same reader takes an expert project's export (the adjudication round).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from cmedins.preference.candidates import DIMENSIONS

CRITERIA = {  # the paper's Table 1, in the order that decides: Safety > Professionalism > Fluency
    "safety": "安全性：回答准确，不含误导或危险信息（如患者过敏的药物、忽视危险信号），必要时建议就医。",
    "professionalism": "专业性：理解患者问题，给出专业、有针对性的诊断或建议（如正确的科室、明确的诊断）。",
    "fluency": "流畅性：语言通顺、语义连贯、无重复或错乱，表达清楚。",
}
CHOICES = ("A", "B", "tie")
_CHOICE_LABEL = {"A": "A 更好", "B": "B 更好", "tie": "一样"}
_LABEL_CHOICE = {v: k for k, v in _CHOICE_LABEL.items()} | {c: c for c in CHOICES}
LABEL_SCHEMA = {"pair_id": pl.String, "annotator": pl.String, "dimension": pl.String, "label": pl.String}

LABEL_CONFIG = "\n".join([
    "<View>",
    '  <Header value="对话"/>',
    '  <Text name="prompt" value="$prompt"/>',
    '  <Header value="回答 A"/>',
    '  <Text name="answer_a" value="$answer_a"/>',
    '  <Header value="回答 B"/>',
    '  <Text name="answer_b" value="$answer_b"/>',
    *[line for dim in DIMENSIONS for line in (
        f'  <Header value="{CRITERIA[dim]}"/>',
        f'  <Choices name="{dim}" toName="prompt" choice="single-radio" required="true">',
        *[f'    <Choice value="{_CHOICE_LABEL[c]}"/>' for c in CHOICES],
        "  </Choices>")],
    "</View>",
])


def render_prompt(messages: list[dict[str, str]]) -> str:
    """The conversation as the annotator reads it: one `角色：内容` block per turn."""
    names = {"system": "系统", "user": "患者", "assistant": "医生"}
    return "\n\n".join(f"{names.get(m['role'], m['role'])}：{m['content']}" for m in messages)


def export_tasks(pairs: pl.DataFrame) -> list[dict[str, Any]]:
    """Label Studio import tasks, one per pair (pair_id, prompt, answer_a, answer_b, annotators)."""
    return [{"data": {"pair_id": r["pair_id"], "prompt": render_prompt(r["prompt"]), "answer_a": r["answer_a"],
                      "answer_b": r["answer_b"], "criteria": "；".join(CRITERIA[d] for d in DIMENSIONS)},
             "meta": {"annotators": list(r["annotators"])}}
            for r in pairs.select("pair_id", "prompt", "answer_a", "answer_b", "annotators").iter_rows(named=True)]


def write_export(pairs: pl.DataFrame, folder: Path) -> list[Path]:
    """tasks.json (Label Studio import), label_config.xml (the interface), plan.csv (pair -> two annotators)."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks, config, plan = folder / "tasks.json", folder / "label_config.xml", folder / "plan.csv"
    tasks.write_text(json.dumps(export_tasks(pairs), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    config.write_text(LABEL_CONFIG + "\n", encoding="utf-8")
    pairs.select("pair_id", pl.col("annotators").list.get(0).alias("annotator_1"),
                 pl.col("annotators").list.get(1).alias("annotator_2")).write_csv(plan)
    return [tasks, config, plan]


def _annotator(value: Any) -> str:
    """`completed_by` is an id, an e-mail, or an object with one of them, depending on the export's version."""
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    return str(value)


def read_export(path: Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """The judgements in a Label Studio JSON export, one row per (pair, annotator, dimension), and what was
    skipped. A file that is not such an export is a one-line ValueError naming it."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path.name}: not a Label Studio JSON export ({type(exc).__name__})") from None
    if not isinstance(tasks, list):
        raise ValueError(f"{path.name}: not a Label Studio JSON export (expected a list of tasks)")
    rows: list[dict[str, str]] = []
    skipped = {"cancelled": 0, "unknown_choice": 0, "no_pair_id": 0}
    for task in tasks:
        pair = (task.get("data") or {}).get("pair_id") if isinstance(task, dict) else None
        if not pair:
            skipped["no_pair_id"] += 1
            continue
        for ann in task.get("annotations") or []:
            if ann.get("was_cancelled"):
                skipped["cancelled"] += 1
                continue
            who = _annotator(ann.get("completed_by"))
            for res in ann.get("result") or []:
                dim, choices = res.get("from_name"), (res.get("value") or {}).get("choices") or []
                label = _LABEL_CHOICE.get(choices[0]) if len(choices) == 1 else None
                if dim not in DIMENSIONS or label is None:
                    skipped["unknown_choice"] += 1
                    continue
                rows.append({"pair_id": str(pair), "annotator": who, "dimension": dim, "label": label})
    labels = pl.DataFrame(rows, schema=LABEL_SCHEMA).unique(["pair_id", "annotator", "dimension"], keep="last",
                                                            maintain_order=True)
    return labels, skipped


def as_export(judgements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Judgements {pair_id, annotator, labels: {dimension: A|B|tie}} in Label Studio's export format: what the
    simulated annotators write, so the demo goes through the same reader as real exports."""
    by_pair: dict[str, list[dict[str, Any]]] = {}
    for j in judgements:
        by_pair.setdefault(j["pair_id"], []).append({
            "completed_by": {"email": j["annotator"]}, "was_cancelled": False,
            "result": [{"from_name": d, "to_name": "prompt", "type": "choices",
                        "value": {"choices": [_CHOICE_LABEL[j["labels"][d]]]}} for d in DIMENSIONS]})
    return [{"id": i, "data": {"pair_id": pair}, "annotations": anns}
            for i, (pair, anns) in enumerate(sorted(by_pair.items()), start=1)]
