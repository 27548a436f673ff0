"""Audit the instruction rows of a build the way a model trainer would, independently of the builder's own checks.

    python benchmarks/tasks_audit.py BUILD_DIR [--json figures.json]
    python benchmarks/tasks_audit.py BUILD_DIR --baseline OLD_BUILD_DIR     # two columns side by side

Reads the task rows of the build (`BUILD_DIR/work/tasks/kept.parquet`, the `tasks` stage's own output, else
`BUILD_DIR/output/tasks.parquet`) and, for the figures that need the source record, the de-identified records in
`BUILD_DIR/work/deid/kept.parquet` (joined on `source_record_hash`). It deliberately imports nothing from
`cmedins.tasks`: its word lists, fact patterns and allergy classes are its own, written separately, so that a rule
the builder gets wrong is not silently shared by the audit. Prints counts and rates only.

Figures (targets of issue 11 in brackets):
- diagnosis: rows whose primary diagnosis (its wording, any part of it, its ICD name or a common abbreviation) can
  be read in the query [<= 2 %]; rows where every listed diagnosis can; rows with an admitting-diagnosis phrase.
- triage: rows whose answer names a diagnosis that the query quotes; rows whose query names the department.
- summary: rows whose answer states a fact missing from the query [<= 1 %], by kind (number with unit, year or
  date, department, drug, diagnosis).
- placeholders (`[日期]`, `[姓名]`...) in answers [0].
- medication: rows prescribing a drug of a class the query says the patient is allergic to [0]; cross-reactive
  class (penicillin <-> cephalosporin, aspirin -> other NSAIDs) counted apart.
- variety: templates and distinct instructions, queries and answers per task, top normalised query share, extra
  exact duplicate rows (same task, instruction, query and answer), distinct first answer lines.
- patient_key: share of rows carrying one.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

# the de-identifier's typed placeholders (listed here, not imported: the audit shares no code with the builder)
PLACEHOLDER = re.compile(r"\[(?:姓名|身份证号|电话|病案号|医保号|银行卡号|邮箱|IP地址|网址|车牌号|护照号|"
                         r"社交账号|地址|单位|医院|出生日期|日期)\]")
ADMITTING = re.compile(r"(?:以|拟|诊断为|诊断|考虑|印象)[“\"]([^”\"]{2,40})[”\"]")
# abbreviations and everyday names a query may use instead of the diagnosis' wording (the audit's own list)
ABBREVIATIONS = {
    "2型糖尿病": ["T2DM", "2型DM", "二型糖尿病"],
    "冠状动脉粥样硬化性心脏病": ["冠心病", "CHD"],
    "慢性阻塞性肺疾病": ["COPD", "慢阻肺"],
    "高血压": ["高血压病", "HTN"],
    "慢性肾脏病": ["CKD"],
    "心房颤动": ["房颤", "AF"],
    "急性心肌梗死": ["AMI", "心梗"],
    "胃食管反流病": ["GERD", "反流性食管炎"],
    "类风湿关节炎": ["RA"],
    "系统性红斑狼疮": ["SLE"],
    "脑梗死": ["脑梗塞", "脑梗"],
    "社区获得性肺炎": ["CAP"],
}
UNIT = (r"(?:mmHg|mmol/L|μmol/L|umol/L|mg/dL|mg/L|g/L|U/L|IU/L|ng/mL|pg/mL|ng/L|×10\^?9/L|×10\^?12/L|"
        r"mg|g|ml|mL|μg|ug|U|IU|次/分|bpm|℃|%|岁|cm|mm|kg|L)")
NUMBER_UNIT = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*{UNIT}")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2}月\d{1,2}日)")
PUNCT = re.compile(r"[\s，。；：、,.;:！？!?（）()“”\"'《》\[\]【】]")
NEGATION = re.compile(r"(否认|无|未发现|没有|不详)[^，。；;,]*过敏")
# allergy class -> (words of the allergy statement, drug name patterns of the same class, cross-reactive patterns)
ALLERGY = {
    "penicillin": (r"青霉素|阿莫西林|氨苄西林|哌拉西林", r"西林|青霉素", r"头孢"),
    "cephalosporin": (r"头孢", r"头孢", r"西林|青霉素"),
    "sulfonamide": (r"磺胺", r"磺胺", r"$^"),
    "aspirin_nsaid": (r"阿司匹林|布洛芬|解热镇痛|非甾体", r"阿司匹林",
                      r"布洛芬|双氯芬酸|洛索洛芬|塞来昔布|萘普生|吲哚美辛|美洛昔康|依托考昔|尼美舒利|酮洛芬"),
    "iodinated_contrast": (r"碘造影剂|造影剂|碘海醇|碘帕醇|碘克沙醇",
                           r"碘海醇|碘帕醇|碘克沙醇|碘普罗胺|碘佛醇|泛影|碘美普尔", r"$^"),
}
# departments an answer may name besides those of the records (the audit's own list)
COMMON_DEPARTMENTS = {"康复医学科", "康复科", "重症医学科", "心内科", "神经内科", "神经外科", "心胸外科", "胸外科",
                      "普外科", "骨科", "急诊科", "感染科", "肾内科", "消化内科", "呼吸内科", "内分泌科", "老年科"}
TASKS = ("event_extraction", "triage", "diagnosis", "diagnosis_normalization", "medication", "summary")


def norm(text: str) -> str:
    """Text without whitespace and punctuation, letters lower-cased: what counts as 'the same words'."""
    return PUNCT.sub("", text or "").lower()


def found(name: str, query: str) -> bool:
    """`name` (normalised) in the normalised query; a Latin abbreviation only as a whole word in the original case
    (`MM` is not found in `mmHg`, `AS` not in `Last`)."""
    if name.isascii() and name.isalnum():
        return re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", query, re.I if len(name) > 3 else 0) \
            is not None
    return name in norm(query)


def dx_names(d: dict[str, Any]) -> set[str]:
    """Names by which a query could give away one diagnosis: wording, its space-separated parts, ICD name, aliases."""
    names = set()
    for raw in (d.get("text"), d.get("icd10_name")):
        raw = (raw or "").strip()
        if not raw:
            continue
        names.add(raw)
        names.update(p for p in re.split(r"[\s、，,]+", raw) if len(p) >= 2)
        for full, alts in ABBREVIATIONS.items():
            if full in raw or raw in alts:
                names.update([full, *alts])
    return {n if n.isascii() and n.isalnum() else norm(n) for n in names if len(norm(n)) >= 2}


def skeleton(answer: str) -> str:
    """An answer with its record-specific parts blanked (quoted text, digits): what stays is the fixed wording."""
    return re.sub(r"\d+", "0", re.sub(r"“[^”]*”", "“X”", answer))


def primary(dx: list[dict[str, Any]]) -> dict[str, Any] | None:
    for d in dx:
        if d.get("primary"):
            return d
    return dx[0] if dx else None


def allergies(text: str) -> set[str]:
    """Allergy classes a text states (clauses with 过敏 or 皮试阳性 that are not negated)."""
    found = set()
    for clause in re.split(r"[。；;，,\n]", text or ""):
        if ("过敏" not in clause and "皮试阳性" not in clause) or NEGATION.search(clause):
            continue
        for cls, (words, _, _) in ALLERGY.items():
            if re.search(words, clause):
                found.add(cls)
    return found


def facts(text: str, departments: set[str], drugs: set[str], diagnoses: set[str]) -> dict[str, set[str]]:
    """The checkable facts a text states, by kind."""
    flat = re.sub(r"\s+", "", text or "")
    return {
        "number_unit": {f"{m.group(1)}{m.group(0)[len(m.group(1)):].strip()}".replace(" ", "")
                        for m in NUMBER_UNIT.finditer(text or "")},
        "date": set(YEAR.findall(flat)) | set(MONTH_DAY.findall(flat)),
        "department": {d for d in departments if d in flat},
        "drug": {d for d in drugs if d in flat},
        "diagnosis": {d for d in diagnoses if d in flat},
    }


def audit(build: Path) -> dict[str, Any]:
    stage_rows = build / "work" / "tasks" / "kept.parquet"
    rows = pq.read_table(stage_rows if stage_rows.exists() else build / "output" / "tasks.parquet").to_pylist()
    deid_path = build / "work" / "deid" / "kept.parquet"
    records = {r["record_hash"]: r for r in pq.read_table(deid_path).to_pylist()} if deid_path.exists() else {}
    departments = {r["department"] for r in records.values() if r.get("department")} | COMMON_DEPARTMENTS
    all_drugs = {(m.get("drug") or "").strip() for r in records.values() for m in r.get("medications") or []} - {""}
    out: dict[str, Any] = {"rows": len(rows), "rows_per_task": dict(Counter(r["task"] for r in rows))}
    has_key = sum(1 for r in rows if (r.get("patient_key") or "").strip())
    out["patient_key_share"] = has_key / max(len(rows), 1)
    exact = Counter((r["task"], r["instruction"], r["query"], r["answer"]) for r in rows)
    out["extra_exact_duplicates"] = sum(n - 1 for n in exact.values())
    out["extra_exact_duplicate_share"] = out["extra_exact_duplicates"] / max(len(rows), 1)
    qa = Counter((r["task"], r["query"], r["answer"]) for r in rows)
    out["extra_query_answer_duplicates"] = sum(n - 1 for n in qa.values())
    out["placeholder_answers"] = dict(Counter(r["task"] for r in rows if PLACEHOLDER.search(r["answer"] or "")))

    by_task: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_task[r["task"]].append(r)
    variety = {}
    for task, rs in by_task.items():
        queries = Counter(norm(r["query"]) for r in rs)
        variety[task] = {
            "rows": len(rs),
            "templates_zh": len({r["template_id"] for r in rs if r["language"] == "zh"}),
            "templates_en": len({r["template_id"] for r in rs if r["language"] == "en"}),
            "distinct_instructions": len({r["instruction"] for r in rs}),
            "distinct_queries": len(queries),
            "distinct_answers": len({r["answer"] for r in rs}),
            "distinct_first_answer_lines": len({(r["answer"] or "").split("\n")[0] for r in rs}),
            "top_query_share": max(queries.values()) / len(rs),
            "top_query_rows": max(queries.values()),
        }
    out["variety"] = variety

    # diagnosis leakage
    dx_rows = [r for r in by_task.get("diagnosis", []) if r["source_record_hash"] in records]
    leak_primary = leak_all = admitting = 0
    for r in dx_rows:
        dx = [d for d in records[r["source_record_hash"]].get("diagnoses") or [] if (d.get("text") or "").strip()]
        p = primary(dx)
        if p and any(found(n, r["query"]) for n in dx_names(p)):
            leak_primary += 1
        if dx and all(any(found(n, r["query"]) for n in dx_names(d)) for d in dx):
            leak_all += 1
        if ADMITTING.search(r["query"]):
            admitting += 1
    n = max(len(dx_rows), 1)
    out["diagnosis"] = {"rows": len(dx_rows), "primary_in_query": leak_primary / n, "all_in_query": leak_all / n,
                        "admitting_phrase_in_query": admitting / n}

    # triage: the reason names a diagnosis the query quotes; the department named in the query
    tri = [r for r in by_task.get("triage", []) if r["source_record_hash"] in records]
    named = dept_in_query = 0
    reasons = Counter()
    for r in tri:
        rec = records[r["source_record_hash"]]
        names = set().union(*(dx_names(d) for d in rec.get("diagnoses") or [])) if rec.get("diagnoses") else set()
        if any(found(nm, r["answer"]) and found(nm, r["query"]) for nm in names):
            named += 1
        if rec.get("department") and rec["department"] in r["query"]:
            dept_in_query += 1
        reasons[skeleton(r["answer"].replace(rec.get("department") or "\0", "D"))] += 1
    n = max(len(tri), 1)
    out["triage"] = {"rows": len(tri), "reason_names_dx_quoted_in_query": named / n,
                     "department_in_query": dept_in_query / n, "distinct_answer_skeletons": len(reasons),
                     "top_answer_skeleton_share": max(reasons.values(), default=0) / n}

    # summary grounding
    summ = [r for r in by_task.get("summary", []) if r["source_record_hash"] in records]
    missing_any, by_kind = 0, Counter()
    for r in summ:
        rec = records[r["source_record_hash"]]
        dx = {(d.get(k) or "").strip() for d in rec.get("diagnoses") or [] for k in ("text", "icd10_name")} - {""}
        fa = facts(r["answer"], departments, all_drugs, dx)
        fq = facts(r["query"], departments, all_drugs, dx)
        flat_q = re.sub(r"\s+", "", r["query"]).lower()
        miss = {k for k, vals in fa.items() if any(v not in fq[k] and v.lower() not in flat_q for v in vals)}
        by_kind.update(miss)
        missing_any += bool(miss)
    n = max(len(summ), 1)
    out["summary"] = {"rows": len(summ), "fact_absent_from_query": missing_any / n,
                      "by_kind": {k: v / n for k, v in sorted(by_kind.items())}}

    # medication vs stated allergies: the prescribed drugs are the record's orders that the answer names (a safety
    # note naming the allergen, `患者有青霉素过敏史`, prescribes nothing)
    meds = by_task.get("medication", [])
    direct, cross = Counter(), Counter()
    for r in meds:
        rec = records.get(r["source_record_hash"])
        stated = allergies(r["query"]) | (allergies(rec.get("past_history") or "") if rec else set())
        if not stated:
            continue
        ordered = [(m.get("drug") or "").strip() for m in (rec.get("medications") or [])] if rec else []
        given = [d for d in ordered if d and d in r["answer"]]
        for cls in stated:
            _, same, other = ALLERGY[cls]
            if any(re.search(same, d) for d in given):
                direct[cls] += 1
            elif any(re.search(other, d) for d in given):
                cross[cls] += 1
    out["medication"] = {"rows": len(meds), "allergy_conflicts": sum(direct.values()), "by_class": dict(direct),
                         "cross_reactive": sum(cross.values()), "cross_by_class": dict(cross)}
    return out


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if v < 1 else f"{v:,.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", type=Path, help="a build directory (holds output/ and work/)")
    parser.add_argument("--baseline", type=Path, help="another build to print side by side")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    now = audit(args.build)
    if args.json:
        args.json.write_text(json.dumps(now, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    flat_now = _flat(now)
    flat_base = _flat(audit(args.baseline)) if args.baseline else {}
    keys = list(flat_now) + [k for k in flat_base if k not in flat_now]
    width = max(len(k) for k in keys)
    head = f"{'figure':<{width}}  {'baseline':>12}  {'this build':>12}" if args.baseline else f"{'figure':<{width}}"
    print(head)
    for k in keys:
        base = f"  {_fmt(flat_base.get(k)):>12}" if args.baseline else ""
        print(f"{k:<{width}}{base}  {_fmt(flat_now.get(k)):>12}")


if __name__ == "__main__":
    main()
