"""Print generated records readably, identifiers highlighted, so a person can judge whether they read like EMRs."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from cmedins.contracts import SECTION_LABELS, TEXT_FIELDS
from cmedins.synth.chunk import build_chunk
from cmedins.synth.generate import CHUNK_SIZE


def show(records: int, seed: int, console: Console | None = None, highlight: bool = True) -> None:
    """The first `records` rows that `generate(seed=seed)` writes (for records <= CHUNK_SIZE)."""
    console = console or Console()
    res = build_chunk(seed, 0, CHUNK_SIZE, CHUNK_SIZE, 0)
    spans: dict[tuple[str, str], list[dict]] = {}
    cols = res.gt["pii_spans"]
    for rid, field, start, end in zip(cols["record_id"], cols["field"], cols["start"], cols["end"], strict=True):
        spans.setdefault((rid, field), []).append({"start": start, "end": end})
    for r in res.records[:records]:
        console.rule(
            f"{r['record_id']}  {r['hospital']} {r['department']} {r['visit_type']}  {r['admission_date']}"
            f"{' → ' + str(r['discharge_date']) if r['discharge_date'] else ''}"
        )
        console.print(
            f"姓名 {r['patient_name']}  性别 {r['patient_sex']}  出生 {r['patient_birth_date']}  "
            f"身份证 {r['patient_id_number']}  电话 {r['patient_phone']}  患者ID {r['patient_id']}"
        )
        for f in TEXT_FIELDS:
            if not r[f]:
                continue
            t = Text(f"【{SECTION_LABELS[f]}】", style="bold")
            body = Text(r[f])
            if highlight:
                for s in spans.get((r["record_id"], f), []):
                    body.stylize("bold red", s["start"], s["end"])
            console.print(t + body)
        dx = "；".join(f"{d['text']} [{d['icd10_code']} {d['icd10_name']}]" for d in r["diagnoses"])
        console.print(Text("【诊断】", style="bold") + Text(dx))
        meds = "；".join(f"{m['drug']} {m['dose']} {m['route']} {m['frequency']}" for m in r["medications"])
        console.print(Text("【医嘱】", style="bold") + Text(meds))
        labs = "；".join(f"{x['item']} {x['value']}{x['unit']}({x['reference_range']}){x['flag']}" for x in r["labs"])
        if labs:
            console.print(Text("【检验】", style="bold") + Text(labs))
        console.print(
            Text(f"【事件】{len(r['events'])} 个，例：", style="dim")
            + Text(
                "；".join(
                    f"{e['subject']}/{','.join(e['descriptors'])}/{','.join(e['anatomy'])}/{e['status']}"
                    for e in r["events"][:6]
                ),
                style="dim",
            )
        )
