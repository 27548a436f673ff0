"""`python -m cmedins.clean dedup --in X --id-column id --text-column text --out kept --removed removed`.

Exact and near de-duplication of any JSONL or Parquet file (format by extension), with the same implementation as
the build's `dedup` stage (`cmedins.clean.dedup.find_duplicates`). Kept rows keep every column and their order;
each removed row gets three more: `duplicate_of` (the id of the kept row of its cluster), `similarity` (exact
shingle similarity to that row; 1.0 for exact duplicates) and `reason` (exact_duplicate or near_duplicate).

Bad input (no such file, an unreadable or empty file, a missing column, a missing or repeated id, a text that is
not a string) stops with one line naming the file, the line or row and the field, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.clean.config import DedupConfig
from cmedins.clean.dedup import find_duplicates
from cmedins.rows_io import InputError, read_jsonl, read_parquet

SUFFIXES = (".jsonl", ".parquet")


def _parser() -> argparse.ArgumentParser:
    d = DedupConfig()
    p = argparse.ArgumentParser(prog="python -m cmedins.clean",
                                description="Clean instruction data; `dedup` removes exact and near duplicates.")
    sub = p.add_subparsers(dest="command", required=True)
    dd = sub.add_parser("dedup", help="remove exact and near-duplicate rows of a JSONL or Parquet file",
                        description="Remove exact and near duplicates (MinHash/LSH candidates verified by exact "
                                    "character-shingle similarity). Formats follow the file extensions.")
    dd.add_argument("--in", dest="inp", required=True, type=Path, help="input .jsonl or .parquet")
    dd.add_argument("--out", required=True, type=Path, help="kept rows (.jsonl or .parquet)")
    dd.add_argument("--removed", required=True, type=Path,
                    help="removed rows, with duplicate_of, similarity and reason (.jsonl or .parquet)")
    dd.add_argument("--id-column", default="id", help="unique row id (default: id)")
    dd.add_argument("--text-column", default="text", help="text compared (default: text)")
    dd.add_argument("--group-column", default=None, help="only rows with equal values here can be duplicates")
    dd.add_argument("--threshold", type=float, default=d.threshold,
                    help=f"exact similarity a near duplicate must reach (default {d.threshold})")
    dd.add_argument("--similarity", choices=["jaccard", "containment"], default=d.similarity)
    dd.add_argument("--shingle-chars", type=int, default=d.shingle_chars, help=f"default {d.shingle_chars}")
    dd.add_argument("--near-min-chars", type=int, default=d.near_min_chars,
                    help=f"shorter texts are only de-duplicated exactly (default {d.near_min_chars})")
    dd.add_argument("--prefer", choices=["longest", "first"], default=d.prefer,
                    help="which row of a cluster is kept (default: longest; ties: smallest id)")
    dd.add_argument("--workers", type=int, default=d.workers, help=f"signature processes (default {d.workers})")
    dd.add_argument("--quiet", action="store_true", help="no summary on stderr")
    return p


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'!r}: use .jsonl or .parquet")
    return suffix


def read_rows(path: Path, id_col: str, text_col: str) -> tuple[list[dict] | pa.Table, list[str], list[str | None]]:
    """The rows (dicts for JSONL, a table for Parquet), their ids and their texts; InputError on bad input."""
    suffix = _suffix(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if suffix == ".jsonl":
        rows: list[dict] | pa.Table = read_jsonl(path, id_col, text_col)
        ids = [str(r[id_col]) for r in rows]
        texts = [r.get(text_col) for r in rows]
    else:
        rows = read_parquet(path, id_col, text_col)
        ids = [str(v) for v in rows.column(id_col).to_pylist()]
        texts = rows.column(text_col).to_pylist()
    if not ids:
        raise InputError(f"{path.name}: no rows")
    seen: dict[str, int] = {}
    for n, ident in enumerate(ids, 1):
        if ident in seen:
            where = "line" if suffix == ".jsonl" else "row"
            raise InputError(f"{path.name}: {where} {n}: id repeats that of {where} {seen[ident]}: ids must be "
                             "unique (a removed row names the id it duplicates)")
        seen[ident] = n
    return rows, ids, texts


def _select(rows: list[dict] | pa.Table, positions: list[int], extra: dict[str, list] | None = None) -> Any:
    if isinstance(rows, pa.Table):
        out = rows.take(pa.array(positions, type=pa.int64()))
        for name, values in (extra or {}).items():
            out = out.append_column(name, pa.array(values))
        return out
    picked = [dict(rows[i]) for i in positions]
    for name, values in (extra or {}).items():
        for row, value in zip(picked, values, strict=True):
            row[name] = value
    return picked


def _write(path: Path, data: list[dict] | pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() == ".parquet":
        table = data if isinstance(data, pa.Table) else pa.Table.from_pylist(data)
        pq.write_table(table, tmp, compression="zstd")
    else:
        rows = data.to_pylist() if isinstance(data, pa.Table) else data
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    tmp.replace(path)


def run_dedup(args: argparse.Namespace) -> dict[str, Any]:
    """Read, de-duplicate, write; returns the summary counts."""
    for p in (args.out, args.removed):
        _suffix(p)
    rows, ids, texts = read_rows(args.inp, args.id_column, args.text_column)
    groups = None
    if args.group_column:
        if isinstance(rows, pa.Table):
            if args.group_column not in rows.column_names:
                raise InputError(f"{args.inp.name}: missing column '{args.group_column}'")
            groups = [str(g) for g in rows.column(args.group_column).to_pylist()]
        else:
            groups = [str(r.get(args.group_column)) for r in rows]
    try:
        config = DedupConfig(text_fields=[args.text_column], group_by=[], threshold=args.threshold,
                             similarity=args.similarity, shingle_chars=args.shingle_chars,
                             near_min_chars=args.near_min_chars, prefer=args.prefer, workers=max(1, args.workers))
    except ValueError as exc:
        raise InputError(str(exc)) from None
    start = time.perf_counter()
    dups = find_duplicates(ids, texts, groups, config)
    seconds = time.perf_counter() - start
    removed = dups.removed.tolist()
    kept = [i for i in range(len(ids)) if dups.survivor[i] == i]
    extra = {"duplicate_of": [ids[int(dups.survivor[i])] for i in removed],
             "similarity": [round(float(dups.similarity[i]), 4) for i in removed],
             "reason": [dups.reason[i] for i in removed]}
    _write(args.out, _select(rows, kept))
    _write(args.removed, _select(rows, removed, extra))
    exact = sum(1 for i in removed if dups.reason[i] == "exact_duplicate")
    return {"rows": len(ids), "kept": len(kept), "removed": len(removed), "exact": exact,
            "near": len(removed) - exact, "seconds": round(seconds, 3), "stats": dups.stats}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        summary = run_dedup(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2
    if not args.quiet:
        rate = summary["rows"] / summary["seconds"] if summary["seconds"] else float("inf")
        print(f"read {summary['rows']:,} rows: kept {summary['kept']:,}, removed {summary['removed']:,} "
              f"(exact {summary['exact']:,}, near {summary['near']:,}) in {summary['seconds']} s "
              f"({rate:,.0f} rows/s)", file=sys.stderr)
    return 0
