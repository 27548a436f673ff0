"""`python -m cmedins.deid --in X.jsonl --out Y.jsonl`: de-identify any file of texts.

Rows keep every column; only the text column is replaced. JSONL and Parquet are chosen by extension. The report
(`--report R.json`, and a summary on stderr) counts replaced identifiers per type, never their values. Malformed
input stops with one line naming the file, line and field, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.deid.api import deidentify_texts
from cmedins.deid.config import DATE_MODES, DeidConfig
from cmedins.rows_io import InputError, read_jsonl, read_parquet


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cmedins.deid",
                                description="De-identify Chinese clinical text in a JSONL or Parquet file.")
    p.add_argument("--in", dest="inp", required=True, type=Path, help="input .jsonl or .parquet")
    p.add_argument("--out", required=True, type=Path, help="output .jsonl or .parquet (same rows, text replaced)")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    p.add_argument("--id-column", default="id", help="row id column, required in every row (default: id)")
    p.add_argument("--group-column", default=None,
                   help="optional column grouping rows of one patient (names propagate, pseudonyms/date shifts "
                        "are consistent within a group)")
    p.add_argument("--report", type=Path, default=None, help="write counts per entity type as JSON here")
    p.add_argument("--mode", choices=["placeholder", "pseudonym"], default="placeholder")
    p.add_argument("--date-mode", choices=list(DATE_MODES), default="year",
                   help="year (Safe Harbor, default), shift (per-patient keyed shift) or year_month (not Safe Harbor)")
    p.add_argument("--keep-institutions", action="store_true", help="do not redact hospital / workplace names")
    p.add_argument("--no-ner", action="store_true",
                   help="rules only, without the NER model (about 5x faster, finds fewer names)")
    p.add_argument("--redact-masked-names", action="store_true",
                   help="also remove masked names with a common surname (张某, 李XX), kept by default")
    p.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def run(args: argparse.Namespace) -> dict:
    cfg = DeidConfig(mode=args.mode, date_mode=args.date_mode, redact_institutions=not args.keep_institutions,
                     workers=max(1, args.workers), ner=not args.no_ner,
                     keep_masked_names=not args.redact_masked_names)
    suffix_in, suffix_out = args.inp.suffix.lower(), args.out.suffix.lower()
    for s in (suffix_in, suffix_out):
        if s not in (".jsonl", ".parquet"):
            raise InputError(f"unsupported file type '{s}': use .jsonl or .parquet")
    if not args.inp.exists():
        raise InputError(f"{args.inp}: no such file")
    if suffix_in == ".jsonl":
        rows = read_jsonl(args.inp, args.id_column, args.text_column)
        texts = [r.get(args.text_column) or "" for r in rows]
        group_vals = [r.get(args.group_column) for r in rows] if args.group_column else None
        table = None
    else:
        table = read_parquet(args.inp, args.id_column, args.text_column)
        texts = [t or "" for t in table.column(args.text_column).to_pylist()]
        group_vals = table.column(args.group_column).to_pylist() if args.group_column and \
            args.group_column in table.column_names else None
        rows = None
    groups = [("g", str(g)) if g is not None else ("row", i) for i, g in enumerate(group_vals)] if group_vals \
        else None
    t0 = time.perf_counter()
    results = _with_progress(texts, cfg, groups, args.quiet)
    elapsed = time.perf_counter() - t0
    counts: Counter[str] = Counter()
    changed = 0
    for r in results:
        changed += r.changed
        counts.update(e.entity_type for e in r.entities)
    new_texts = [r.text for r in results]
    if rows is not None:
        for row, t in zip(rows, new_texts, strict=True):
            if row.get(args.text_column) is not None:
                row[args.text_column] = t
        _write_jsonl(args.out, rows, table_out=suffix_out)
    else:
        assert table is not None
        col = table.schema.get_field_index(args.text_column)
        orig = table.column(args.text_column).to_pylist()
        arr = pa.array([t if o is not None else None for t, o in zip(new_texts, orig, strict=True)], pa.string())
        out_table = table.set_column(col, table.schema.field(col).with_type(pa.string()), arr)
        _write(args.out, out_table, suffix_out)
    report = {
        "rows": len(texts),
        "texts_changed": changed,
        "chars": sum(len(t) for t in texts),
        "seconds": round(elapsed, 3),
        "entities": dict(sorted(counts.items())),
        "deid_version": cfg.deid_version,
    }
    if args.report:
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                               encoding="utf-8")
    return report


def _with_progress(texts: list[str], cfg: DeidConfig, groups, quiet: bool):
    """Chunks of whole groups, with a rich progress bar on stderr (the library itself stays quiet)."""
    chunk = 20_000
    if quiet or len(texts) <= chunk:
        return deidentify_texts(texts, cfg, groups=groups)
    from rich.progress import Progress

    out = []
    with Progress(transient=True, console=None) as progress:
        task = progress.add_task("de-identifying", total=len(texts))
        i = 0
        while i < len(texts):
            j = min(len(texts), i + chunk)
            if groups is not None:
                while j < len(texts) and groups[j] == groups[j - 1]:
                    j += 1
            out.extend(deidentify_texts(texts[i:j], cfg, groups=groups[i:j] if groups else None))
            progress.advance(task, j - i)
            i = j
    return out


def _write_jsonl(path: Path, rows: list[dict], table_out: str) -> None:
    if table_out == ".parquet":
        _write(path, pa.Table.from_pylist(rows), ".parquet")
        return
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write(path: Path, table: pa.Table, suffix: str) -> None:
    if suffix == ".parquet":
        pq.write_table(table, path, compression="zstd", write_statistics=False, use_dictionary=False)
        return
    with path.open("w", encoding="utf-8") as fh:
        for row in table.to_pylist():
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        report = run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        ents = ", ".join(f"{k}={v}" for k, v in report["entities"].items()) or "none"
        print(f"de-identified {report['rows']} rows ({report['texts_changed']} changed) in {report['seconds']} s; "
              f"entities: {ents}", file=sys.stderr)
    return 0
