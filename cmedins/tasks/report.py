"""Rows per task and per department, and a bar chart of them like the paper's Fig. 2 (department distribution).

The chart is a hand-written SVG: no plotting dependency, and the same counts always give the same bytes.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import pyarrow as pa


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
