"""Rows per task and per department, a bar chart of them like the paper's Fig. 2 (department distribution), and the
per-task quality figures a model trainer reads before using the rows.

The chart is a hand-written SVG: no plotting dependency, and the same counts always give the same bytes. The
quality figures come from the rows themselves (templates, distinct instructions / queries / answers, the share of
the most repeated normalised query, answer formats, patient keys, exact duplicates) and, when the build's report is
at hand, from the `tasks` stage's counters (leakage removed and quarantined, grounding failures by kind, safety
conflicts by kind).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from cmedins.tasks.record_text import norm


def distribution(table: pa.Table) -> dict[str, dict[str, int]]:
    """Counts by task, by department (public rows count as `(public)`), and by source; sorted, most first."""
    tasks = Counter(table.column("task").to_pylist())
    depts = Counter(d or "(public)" for d in table.column("department").to_pylist())
    sources = Counter(table.column("source").to_pylist())

    def ordered(c: Counter) -> dict[str, int]:
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    return {"tasks": ordered(tasks), "departments": ordered(depts), "sources": ordered(sources)}


def bar_chart_svg(counts: dict[str, int], title: str, width: int = 720) -> str:
    """A horizontal bar chart: one labelled bar per key, in the given order."""
    bar_h, gap, left, top = 22, 6, 170, 40
    height = top + len(counts) * (bar_h + gap) + 20
    peak = max(counts.values(), default=1) or 1
    span = width - left - 90
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="13">',
        f'<text x="{width // 2}" y="24" text-anchor="middle" font-size="16">{html.escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(counts.items()):
        y = top + i * (bar_h + gap)
        w = max(1, round(span * n / peak))
        out.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" fill="#4878a8"/>')
        out.append(f'<text x="{left + w + 6}" y="{y + 16}">{n}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_charts(table: pa.Table, out_dir: Path) -> list[Path]:
    """tasks.svg and departments.svg in `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dist = distribution(table)
    paths = []
    for name, title in (("tasks", "CMedINS rows per task"), ("departments", "CMedINS rows per department")):
        path = out_dir / f"{name}.svg"
        path.write_text(bar_chart_svg(dist[name], title), encoding="utf-8")
        paths.append(path)
    return paths


def quality(table: pa.Table) -> dict[str, dict[str, Any]]:
    """Per task: rows, templates used (zh / en), distinct instructions, queries and answers, the rows and share of
    the most repeated normalised query, rows per answer format, rows with a patient key, extra exact copies."""
    cols = {c: table.column(c).to_pylist() for c in ("task", "instruction", "query", "answer", "template_id",
                                                       "language") if c in table.column_names}
    fmts = table.column("answer_format").to_pylist() if "answer_format" in table.column_names else None
    keys = table.column("patient_key").to_pylist() if "patient_key" in table.column_names else None
    by_task: dict[str, list[int]] = {}
    for i, t in enumerate(cols["task"]):
        by_task.setdefault(t, []).append(i)
    out: dict[str, dict[str, Any]] = {}
    for task in sorted(by_task):
        idx = by_task[task]
        queries = Counter(norm(cols["query"][i]) for i in idx)
        exact = Counter((cols["instruction"][i], cols["query"][i], cols["answer"][i]) for i in idx)
        top = max(queries.values())
        out[task] = {
            "rows": len(idx),
            "templates_zh": len({cols["template_id"][i] for i in idx if cols["language"][i] == "zh"}),
            "templates_en": len({cols["template_id"][i] for i in idx if cols["language"][i] == "en"}),
            "distinct_instructions": len({cols["instruction"][i] for i in idx}),
            "distinct_queries": len(queries),
            "distinct_answers": len({cols["answer"][i] for i in idx}),
            "top_query_rows": top,
            "top_query_share": round(top / len(idx), 4),
            "extra_exact_duplicates": sum(n - 1 for n in exact.values()),
            "answer_formats": dict(sorted(Counter(fmts[i] for i in idx).items())) if fmts else {},
            "rows_with_patient_key": sum(1 for i in idx if keys and keys[i]) if keys else 0,
        }
    return out


# Counter groups of the `tasks` stage that the quality report shows per task (`group:task[:detail]`) or per kind.
STAT_GROUPS = {
    "leakage_rows": "rows whose query lost leaking clauses",
    "leakage_clauses": "leaking clauses removed or masked",
    "leakage_quarantined": "rows quarantined: answer still in query",
    "ungrounded": "rows quarantined: fact absent from query (by kind)",
    "trimmed_sentences": "written-summary sentences dropped as ungrounded",
    "capped": "candidates over the per-query cap",
    "retemplated": "rows given another template to avoid an exact copy",
    "duplicate": "items dropped as exact copies",
    "refused": "rows quarantined (by reason)",
}


def stage_figures(stats: dict[str, int]) -> dict[str, Any]:
    """The per-task leakage, grounding, cap and quarantine counters of a `tasks` stage, and the safety conflicts
    and cautions by kind, from its stats (`build_report.json`)."""
    per_task: dict[str, dict[str, Any]] = {}
    safety: dict[str, dict[str, int]] = {"unsafe": {}, "caution": {}}
    for key, n in sorted(stats.items()):
        group, _, rest = key.partition(":")
        if group in ("unsafe", "caution"):
            safety[group][rest] = n
        elif group in STAT_GROUPS and rest:
            task, _, detail = rest.partition(":")
            entry = per_task.setdefault(task, {})
            if detail:
                entry.setdefault(group, {})[detail] = n
            else:
                entry[group] = n
    return {"per_task": per_task, "safety": safety}


def build_stats(build_report: Path) -> dict[str, int] | None:
    """The stats of the `tasks` stage in a build report, or None when the report has no such stage."""
    try:
        report = json.loads(build_report.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    for stage in report.get("stages") or []:
        if stage.get("name") == "tasks":
            return stage.get("stats") or {}
    return None


def quality_markdown(figures: dict[str, dict[str, Any]], stage: dict[str, Any] | None) -> str:
    """The quality figures as Markdown tables: one row per task, then the stage's counters when known."""
    cols = ("rows", "templates_zh", "templates_en", "distinct_instructions", "distinct_queries", "distinct_answers",
            "top_query_share", "extra_exact_duplicates", "rows_with_patient_key")
    lines = ["# CMedINS task rows: quality per task", "", "| task | " + " | ".join(cols) + " | answer formats |",
             "|---|" + "---:|" * len(cols) + "---|"]
    for task, f in figures.items():
        formats = ", ".join(f"{k} {v}" for k, v in f["answer_formats"].items())
        lines.append(f"| {task} | " + " | ".join(str(f[c]) for c in cols) + f" | {formats} |")
    if stage:
        lines += ["", "## Leakage, grounding and caps per task (tasks stage counters)", ""]
        groups = list(STAT_GROUPS)
        lines += ["| task | " + " | ".join(groups) + " |", "|---|" + "---:|" * len(groups)]
        for task, entry in sorted(stage["per_task"].items()):
            cells = []
            for g in groups:
                v = entry.get(g, 0)
                cells.append(", ".join(f"{k} {n}" for k, n in v.items()) if isinstance(v, dict) else str(v))
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        for group, title in (("unsafe", "Safety conflicts by kind (quarantined)"),
                             ("caution", "Safety cautions by kind (kept, noted in the answer)")):
            lines += ["", f"## {title}", "", "| kind | rows |", "|---|---:|"]
            lines += [f"| {k} | {n} |" for k, n in sorted(stage["safety"][group].items())] or ["| (none) | 0 |"]
    return "\n".join(lines) + "\n"
