"""`python -m cmedins.build [RECIPE]`: run a recipe (the embedded default when none is given)."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cmedins.runner.progress import BuildProgress
from cmedins.runner.recipe import RecipeError, load_recipe
from cmedins.runner.report import build_report, write_report
from cmedins.runner.runner import BuildContext, StageFailed, run_build
from cmedins.stage import StageError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m cmedins.build",
        description="Build the CMedINS dataset from a recipe. With no RECIPE, builds the embedded default "
                    "(cmedins/pipelines/default.yaml): a synthetic hospital corpus taken through every stage.",
        epilog="Stages are cached in OUT/work: a rerun skips what is up to date and a killed build resumes. "
               "Set CMEDINS_SECRET to key record hashes and pseudonyms (required for real patient data).",
    )
    p.add_argument("recipe", nargs="?", help="recipe YAML file (default: the embedded cmedins/pipelines/default.yaml)")
    p.add_argument("--out", default="cmedins-build", help="output directory (default: ./cmedins-build)")
    p.add_argument("--force", metavar="STAGE", help="rerun STAGE and every stage after it, even if up to date")
    p.add_argument("--workers", type=int, help="worker processes (default: the recipe's `workers`, usually 2)")
    p.add_argument("--records", type=int, help="override the size of every synthetic source (benchmarks)")
    p.add_argument("--quiet", action="store_true", help="no progress bars; print only the summary")
    p.add_argument("--debug", action="store_true", help="show full tracebacks of internal errors")
    p.add_argument("--list-stages", action="store_true", help="list the built-in stages and their options, then exit")
    return p.parse_args(argv)


def list_stages() -> str:
    """Every built-in stage: kind, contracts read and written, and its config's documented options."""
    import inspect

    from cmedins.stage import get_stage
    from cmedins.stages import BUILTIN_STAGES

    blocks = []
    for name in BUILTIN_STAGES:
        st = get_stage(name)
        head = (f"{name}  ({st.kind}{', fan-out' if st.fan_out else ''}: {st.input_contract or 'sources'} -> "
                f"{st.output_contract or '?'})")
        blocks.append(head + "\n" + textwrap.indent(inspect.getdoc(st.config_cls) or "", "    "))
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    if args.list_stages:
        print(list_stages())
        return 0
    try:
        recipe = load_recipe(args.recipe)
        if args.workers:
            recipe = type(recipe)(**{**recipe.__dict__, "workers": args.workers})
        if args.records:
            sources = [{**s, "records": args.records} if s.get("kind") == "synthetic" else s for s in recipe.sources]
            recipe = type(recipe)(**{**recipe.__dict__, "sources": sources})
        out_dir = Path(args.out).resolve()
        start = time.perf_counter()
        with BuildProgress(enabled=not args.quiet, console=console) as progress:
            bc = BuildContext(recipe=recipe, out_dir=out_dir, force_from=args.force, progress=progress)
            results = run_build(bc)
    except (RecipeError, StageError, StageFailed) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return 2
    except Exception as exc:  # a bug: one line (no raw text: only the type) unless --debug
        if args.debug:
            raise
        console.print(f"[red]internal error:[/red] {type(exc).__name__} (rerun with --debug for the traceback)")
        return 3
    final = results[-1]
    output_dir = out_dir / "output"
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{final.name}.parquet"
    shutil.copyfile(final.output, output)
    report = build_report(recipe, results, output, time.perf_counter() - start, bc.sources_seconds)
    js, md = write_report(report, out_dir / "report")
    write_plots(output, out_dir / "report")
    print_summary(console, report, md)
    return 0 if report["accounting"]["ok"] and all(s["accounted"] for s in report["stages"]) else 1


def write_plots(output: Path, report_dir: Path) -> None:
    """Bar charts of rows per task and per department (the paper's Fig. 2) when the output holds task rows."""
    import pyarrow.parquet as pq

    if {"task", "department"} <= set(pq.read_schema(output).names):
        from cmedins.tasks.report import write_charts

        write_charts(pq.read_table(output, columns=["task", "department", "source"]), report_dir)


def print_summary(console: Console, report: dict, md: Path) -> None:
    table = Table(title=f"cmedins build: {report['recipe']['name']}", show_lines=False)
    for col in ("stage", "rows in", "kept", "quarantined", "time (s)", ""):
        table.add_column(col, justify="left" if col in ("stage", "") else "right")
    for s in report["stages"]:
        table.add_row(s["name"], f"{s['rows_in']:,}", f"{s['kept']:,}", f"{s['quarantined']:,}",
                      f"{s['seconds']:.1f}", "cached" if s["cached"] else "")
    console.print(table)
    acc = report["accounting"]
    verdict = "[green]OK[/green]" if acc["ok"] else "[red]MISMATCH[/red]"
    console.print(f"records: read {acc['records_read']:,} = published {acc['records_published']:,} + "
                  f"quarantined {acc['records_quarantined']:,}  {verdict}")
    console.print(f"report: {md}")
    print(f"output: {report['output']}")


if __name__ == "__main__":
    sys.exit(main())
