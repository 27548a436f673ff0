"""Plausibility audit of a generated corpus: `python -m cmedins.synth check --in DIR`.

Reads `DIR/records.parquet` (or `.jsonl`) and, when present, `DIR/ground_truth/duplicates.parquet`, and counts the
records that a clinician would flag, by family (sex, age, labs, timeline, allergy, findings, duplicates) and kind.
It also measures how strongly findings point to a diagnosis (`finding_specificity`): for each examination finding
seen in at least 10 records, the share of those records whose primary diagnosis is the finding's most frequent one.

The rules are this package's own (`terms`, `findings`): written by clinical category from clinical knowledge,
independently of the generator's vocabularies, which they never import.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cmedins.synth.plausibility.checks import CHECKS, Chart
from cmedins.synth.plausibility.dupes import garbled_edits

FAMILIES = (*CHECKS, "duplicates")
_FREE = (
    "chief_complaint", "present_illness", "past_history", "personal_history", "marital_history", "family_history",
    "physical_exam", "auxiliary_exam", "discharge_summary",
)
_NORMAL_SUBJECTS = {
    "呼吸音", "心律", "心率", "心界", "腹", "颈", "胸廓", "瞳孔", "双瞳", "对光反射", "气管", "肌力", "肌张力",
    "生理反射",
    "活动", "生理弯曲", "肠鸣音", "意识", "清音", "杂音", "隆起", "畸形", "黄染", "皮疹", "出血点", "肿大", "水肿",
}


@dataclass
class Report:
    records: int = 0
    near_pairs: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: {f: {} for f in FAMILIES})
    examples: dict[str, list[str]] = field(default_factory=dict)
    specificity: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(n for kinds in self.counts.values() for n in kinds.values())

    def family_total(self, family: str) -> int:
        return sum(self.counts[family].values())

    def add(self, family: str, kind: str, example: str, keep: int) -> None:
        kinds = self.counts[family]
        kinds[kind] = kinds.get(kind, 0) + 1
        ex = self.examples.setdefault(kind, [])
        if len(ex) < keep:
            ex.append(example)

    def lines(self, examples: int = 2) -> list[str]:
        out = [f"plausibility audit of {self.records:,} records ({self.near_pairs} planted near-duplicate pairs)"]
        for fam in FAMILIES:
            out.append(f"  {fam:<11} {self.family_total(fam):>6}")
            for kind, n in sorted(self.counts[fam].items(), key=lambda kv: -kv[1]):
                out.append(f"    {kind:<44} {n:>6}")
                out += [f"      e.g. {x[:150]}" for x in self.examples.get(kind, [])[:examples]]
        for k, v in self.specificity.items():
            out.append(f"  {k:<46} {v:.3f}")
        out.append(f"  total violations {self.total}")
        return out


def load_records(path: Path) -> list[dict]:
    """Records of a generated directory (parquet or jsonl)."""
    pq_path, jl_path = path / "records.parquet", path / "records.jsonl"
    if pq_path.exists():
        import pyarrow.parquet as pq

        return pq.read_table(pq_path).to_pylist()
    if jl_path.exists():
        rows = []
        for line in jl_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return rows
    raise FileNotFoundError(f"no records.parquet or records.jsonl in {path}")


def _specificity(rows: list[dict]) -> dict[str, float]:
    """Weighted share of a finding's records whose primary diagnosis is the finding's most frequent one."""
    by_finding: dict[str, Counter] = defaultdict(Counter)
    any_dx: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        dx = r.get("diagnoses") or []
        primary = next((d.get("icd10_code") for d in dx if d.get("primary")), None)
        keys = set()
        for e in r.get("events") or []:
            if e.get("section") not in ("physical_exam", "auxiliary_exam") or e.get("status") != "肯定":
                continue
            if e.get("subject") in _NORMAL_SUBJECTS:
                continue
            keys.add(f"{e.get('subject')}@{(e.get('anatomy') or [''])[0]}")
        for k in keys:
            by_finding[k][primary] += 1
            for d in dx:
                any_dx[k][d.get("icd10_code")] += 1
    out = {}
    for name, table in (("primary", by_finding), ("any_diagnosis", any_dx)):
        num = den = 0
        for k, c in table.items():
            n = sum(by_finding[k].values())
            if n < 10:
                continue
            num += max(c.values())
            den += n
        out[f"finding_specificity ({name})"] = num / den if den else 1.0
    return out


def audit(rows: list[dict], duplicates: list[dict] | None = None, keep: int = 3) -> Report:
    rep = Report(records=len(rows))
    for r in rows:
        chart = Chart(r)
        for fam, check in CHECKS.items():
            seen: set[str] = set()
            for kind, detail in check(chart):
                if kind not in seen:
                    seen.add(kind)
                    rep.add(fam, kind, f"{r.get('record_id')}: {detail}", keep)
    if duplicates:
        by_id = {r.get("record_id"): r for r in rows}
        for d in duplicates:
            if d.get("kind") != "near":
                continue
            a, b = by_id.get(d["record_id_a"]), by_id.get(d["record_id_b"])
            if a is None or b is None:
                continue
            rep.near_pairs += 1
            for f in _FREE:
                reason = next(garbled_edits(a.get(f) or "", b.get(f) or ""), None)
                if reason:
                    rep.add("duplicates", "near_duplicate_garbled", f"{b.get('record_id')} {f}: {reason}", keep)
                    break
    rep.specificity = _specificity(rows)
    return rep


def audit_dir(path: Path, keep: int = 3) -> Report:
    path = Path(path)
    rows = load_records(path)
    dup_path = path / "ground_truth" / "duplicates.parquet"
    dups = None
    if dup_path.exists():
        import pyarrow.parquet as pq

        dups = pq.read_table(dup_path).to_pylist()
    return audit(rows, dups, keep)


__all__ = ["FAMILIES", "Report", "audit", "audit_dir", "load_records"]
