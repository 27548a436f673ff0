"""Command line: look at task rows.

    python -m cmedins.tasks sample --input <task_row parquet> --task triage -n 20
    python -m cmedins.tasks report --input <task_row parquet> --out <dir>

`sample` pretty-prints a seeded, stable sample of rows of one task (all tasks with --task all), for reading
whether the pairs are correct, natural Chinese instruction pairs. `report` writes counts per task and department
(JSON), bar charts (SVG) and the per-task quality figures (tasks_quality.json / .md, printed too): templates,
distinct instructions / queries / answers, top query share, answer formats, and, from the build's report next to
the input (or --build-report), leakage removed and quarantined, grounding failures and safety conflicts by kind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from cmedins.tasks.report import build_stats, distribution, quality, quality_markdown, stage_figures, write_charts
from cmedins.tasks.templates import unit


def _read(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise SystemExit(f"{path}: cannot read as parquet ({type(exc).__name__})") from None
    missing = {"task", "instruction", "query", "answer", "id"} - set(table.column_names)
    if missing:
        raise SystemExit(f"{path}: not a task_row table (missing {', '.join(sorted(missing))})")
    return table


def sample_rows(table: pa.Table, task: str, n: int, seed: int) -> list[dict]:
    """n rows of `task` in a stable pseudo-random order keyed by row id (the same call prints the same rows)."""
    tasks = table.column("task").to_pylist()
    ids = table.column("id").to_pylist()
    picks = [i for i, t in enumerate(tasks) if task == "all" or t == task]
    picks.sort(key=lambda i: unit(seed, "sample", ids[i]))
    return table.take(sorted(picks[:n])).to_pylist() if picks else []


def cmd_sample(args: argparse.Namespace) -> int:
    table = _read(args.input)
    rows = sample_rows(table, args.task, args.n, args.seed)
    console = Console()
    if not rows:
        console.print(f"no rows of task {args.task!r} in {args.input.name}")
        return 1
    for i, r in enumerate(rows, start=1):
        # escape(): record text holds placeholders like [姓名] that rich would read as markup tags
        instruction, query, answer = (escape(str(r[k])) for k in ("instruction", "query", "answer"))
        body = f"[bold]指令[/bold] {instruction}\n\n[bold]输入[/bold]\n{query}\n\n[bold]输出[/bold]\n{answer}"
        title = (f"{i}/{len(rows)} {r['task']} · {r.get('template_id')} · {r.get('answer_format', 'default')} · "
                 f"{r.get('department') or r.get('source')}")
        console.print(Panel(body, title=title, subtitle=f"record {str(r.get('source_record_hash'))[:12]}",
                            expand=False), markup=True, highlight=False)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    table = _read(args.input)
    args.out.mkdir(parents=True, exist_ok=True)
    dist = distribution(table)
    (args.out / "tasks_distribution.json").write_text(json.dumps(dist, ensure_ascii=False, indent=2) + "\n",
                                                      encoding="utf-8")
    paths = write_charts(table, args.out)
    figures = quality(table)
    report = args.build_report or args.input.resolve().parent.parent / "report" / "build_report.json"
    stats = build_stats(report) if report.exists() else None
    stage = stage_figures(stats) if stats is not None else None
    (args.out / "tasks_quality.json").write_text(
        json.dumps({"per_task": figures, "stage": stage}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = quality_markdown(figures, stage)
    (args.out / "tasks_quality.md").write_text(md, encoding="utf-8")
    console = Console()
    console.print(escape(md), markup=True, highlight=False)
    names = ", ".join(p.name for p in [*paths, args.out / "tasks_quality.json", args.out / "tasks_quality.md"])
    console.print(f"wrote {args.out / 'tasks_distribution.json'}, {names}"
                  + ("" if stage else " (no build report found: leakage, grounding and safety counters left out)"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cmedins.tasks", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="pretty-print a stable sample of rows of one task")
    s.add_argument("--input", type=Path, required=True, help="parquet file of task rows (task_row.v1)")
    s.add_argument("--task", default="all", help="task id, e.g. triage, or 'all'")
    s.add_argument("-n", type=int, default=20, help="rows to print (default 20)")
    s.add_argument("--seed", type=int, default=0, help="changes which rows are sampled")
    s.set_defaults(fn=cmd_sample)
    r = sub.add_parser("report", help="counts per task and department (JSON) and bar charts (SVG)")
    r.add_argument("--input", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--build-report", type=Path, default=None,
                   help="build_report.json of the build (default: <input>/../../report/build_report.json)")
    r.set_defaults(fn=cmd_report)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
