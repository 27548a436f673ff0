"""`python -m cmedins.build [RECIPE]`: run a recipe (the embedded default when none is given).

Exit codes: 0 built and every row accounted for; 1 built but the accounting check failed (rows lost or invented:
the output must not be published); 2 an error the operator can fix, reported as one line (bad recipe, unreadable
source, another build in the same folder, a read-only folder or a full disk); 3 a bug (one line, no values;
`--debug` for the traceback); 130 interrupted. Lines name files, stages and rows, never a value: they reach logs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import textwrap
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cmedins.parquet_io import CannotWrite, copy_file, ensure_dir, writing
from cmedins.runner.lock import BuildInUse, build_lock
from cmedins.runner.progress import BuildProgress
from cmedins.runner.recipe import Recipe, RecipeError, load_recipe
from cmedins.runner.report import build_report, later_note, mixture_line, write_report
from cmedins.runner.runner import BuildContext, StageFailed, StageResult, run_build
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
    p.add_argument("--runner", choices=("local", "ray"), default="local",
                   help="local: a process pool here (default); ray: the same batches on Ray (pip install "
                        "'cmedins[ray]'; identical output)")
    p.add_argument("--address", help="with --runner ray: the cluster to join (auto, HOST:PORT); default: start a "
                                     "local Ray with --workers CPUs")
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


def _recipe(args: argparse.Namespace) -> Recipe:
    """The recipe with the command line's overrides applied."""
    recipe = load_recipe(args.recipe)
    if args.workers:
        recipe = type(recipe)(**{**recipe.__dict__, "workers": args.workers})
    if args.records:
        sources = [{**s, "records": args.records} if s.get("kind") == "synthetic" else s for s in recipe.sources]
        recipe = type(recipe)(**{**recipe.__dict__, "sources": sources})
    return recipe


def _error(console: Console, message: str) -> None:
    """One line on stderr; `escape` because a path may contain rich markup like `[red]`."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    if args.list_stages:
        print(list_stages())
        return 0
    if args.runner == "ray" and importlib.util.find_spec("ray") is None:
        _error(console, "--runner ray needs Ray: pip install 'cmedins[ray]'")
        return 2
    try:
        recipe = _recipe(args)
        out_dir = Path(args.out).resolve()
        with build_lock(out_dir):  # held until the report is written: nobody else writes this folder meanwhile
            start = time.perf_counter()
            with BuildProgress(enabled=not args.quiet, console=console) as progress:
                bc = BuildContext(recipe=recipe, out_dir=out_dir, force_from=args.force, progress=progress,
                                  runner=args.runner, ray_address=args.address)
                results = run_build(bc)
            report, md = publish(recipe, results, out_dir, time.perf_counter() - start, bc.sources_seconds)
    except (RecipeError, StageError, StageFailed, BuildInUse, CannotWrite) as exc:
        _error(console, str(exc))
        return 2
    except KeyboardInterrupt:
        _error(console, "interrupted; finished batches are kept: rerun to resume")
        return 130
    except Exception as exc:  # a bug: one line (no raw text: only the type) unless --debug
        if args.debug:
            raise
        console.print(f"[red]internal error:[/red] {type(exc).__name__} (rerun with --debug for the traceback)")
        return 3
    print_summary(console, report, md)
    dataset = out_dir / "dataset"
    if (dataset / "manifest.json").exists():  # the publish stage ran: say how to use what it wrote
        console.print(f"dataset: {dataset}  load: datasets.load_dataset({str(dataset)!r}, \"sft\")  "
                      f"push: python -m cmedins.publish {dataset} --repo-id ORG/NAME", highlight=False, soft_wrap=True)
    return 0 if report["accounting"]["ok"] and all(s["accounted"] for s in report["stages"]) else 1


def publish(recipe: Recipe, results: list[StageResult], out_dir: Path, seconds: float,
            sources_seconds: float) -> tuple[dict, Path]:
    """Copy the last stage's output to `output/` (atomically: a reader never sees half of it), then write the
    report and charts. Returns the report and the path of its Markdown version."""
    final = results[-1]
    assert final.output is not None
    output = ensure_dir(out_dir / "output") / f"{final.name}.parquet"
    copy_file(final.output, output)
    report = build_report(recipe, results, output, seconds, sources_seconds)
    report_dir = out_dir / "report"
    with writing(report_dir):
        _, md = write_report(report, report_dir)
        write_plots(results, report_dir)
    return report, md


def write_plots(results: list[StageResult], report_dir: Path) -> None:
    """Bar charts of rows per task and per department (the paper's Fig. 2) from the last stage whose output holds
    task rows (the final table may be the mixed `sft` rows, which carry no department)."""
    import pyarrow.parquet as pq

    for r in reversed(results):
        if r.output is not None and {"task", "department", "source"} <= set(pq.read_schema(r.output).names):
            from cmedins.tasks.report import write_charts

            write_charts(pq.read_table(r.output, columns=["task", "department", "source"]), report_dir)
            return


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
                  f"quarantined {acc['records_quarantined']:,}  {verdict}" + later_note(acc))
    if line := mixture_line(report):
        console.print(line, highlight=False, soft_wrap=True)
    console.print(f"report: {md}")
    print(f"output: {report['output']}")


if __name__ == "__main__":
    sys.exit(main())
