"""CLI: `python -m cmedins.synth --records N --seed S --out DIR`, `python -m cmedins.synth show --records 20` and
`python -m cmedins.synth check --in DIR` (the plausibility audit)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cmedins.synth.generate import CHUNK_SIZE, ENCODINGS, FORMATS, SynthError, generate


def _gen_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cmedins.synth",
        description="Generate the synthetic hospital corpus (records + ground truth). "
        "Use `python -m cmedins.synth show --records 20 --seed S` to print records for reading and "
        "`python -m cmedins.synth check --in DIR` to audit a generated corpus.",
    )
    p.add_argument("--records", type=int, required=True, help="number of visits to write")
    p.add_argument("--seed", type=int, default=0, help="seed; the same seed gives byte-identical files")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--corrupt-rate", type=float, default=0.0, help="share of rows to corrupt (csv/jsonl only)")
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="parquet")
    p.add_argument("--encoding", choices=ENCODINGS, default="utf-8", help="csv encoding")
    p.add_argument("--workers", type=int, default=2, help="worker processes (output does not depend on it)")
    return p


def _show_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cmedins.synth show", description="Print the first N generated records, identifiers highlighted."
    )
    p.add_argument("--records", type=int, default=20, help=f"how many (at most {CHUNK_SIZE})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plain", action="store_true", help="no colour highlighting of identifier spans")
    return p


def _check_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cmedins.synth check",
        description="Audit a generated corpus for records a clinician would flag (sex, age, labs, timeline, "
        "allergy, findings, near-duplicate edits); prints violations by family and kind, exit 1 if any.",
    )
    p.add_argument("--in", dest="inp", type=Path, required=True, help="directory written by the generator")
    p.add_argument("--examples", type=int, default=2, help="examples printed per kind")
    return p


def _check(argv: list[str]) -> int:
    from cmedins.synth.plausibility import audit_dir

    a = _check_parser().parse_args(argv)
    try:
        rep = audit_dir(a.inp, keep=max(a.examples, 0))
    except FileNotFoundError as e:
        Console(stderr=True).print(f"[red]error:[/red] {e}")
        return 2
    out = Console(highlight=False, soft_wrap=True)
    for line in rep.lines(a.examples):
        out.print(line, markup=False)
    return 1 if rep.total else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    console = Console(stderr=True)
    if argv and argv[0] == "check":
        return _check(argv[1:])
    if argv and argv[0] == "show":
        from cmedins.synth.show import show

        a = _show_parser().parse_args(argv[1:])
        show(max(1, min(a.records, CHUNK_SIZE)), a.seed, highlight=not a.plain)
        return 0
    a = _gen_parser().parse_args(argv)
    try:
        with Progress(
            TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
        ) as bar:
            task = bar.add_task("records", total=max(a.records, 1))
            summary = generate(
                a.records,
                a.seed,
                a.out,
                corrupt_rate=a.corrupt_rate,
                fmt=a.fmt,
                encoding=a.encoding,
                workers=a.workers,
                progress=lambda n: bar.update(task, completed=n),
            )
    except SynthError as e:
        console.print(f"[red]error:[/red] {e}")
        return 2
    except OSError as e:
        console.print(f"[red]error:[/red] cannot write {a.out}: {e.strerror}")
        return 2
    Console().print(summary.line(), highlight=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
