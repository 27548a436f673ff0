"""The build report: every row of every stage accounted for, as JSON (for machines) and Markdown (for people).

The central check is the build invariant *published + quarantined = read*: every record read by ingest either
reaches the final output or sits in some stage's quarantine with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmedins import __version__
from cmedins.runner.hashing import code_version, file_sha256
from cmedins.runner.recipe import Recipe
from cmedins.runner.runner import StageResult
from cmedins.secret import build_secret, is_dev_secret


@dataclass(frozen=True)
class Accounting:
    read: int
    published: int
    quarantined: int
    left_out_later: int = 0  # records that yielded rows but lost them all after the fan-out (counted in quarantined)

    @property
    def ok(self) -> bool:
        return self.published + self.quarantined == self.read and self.left_out_later >= 0


def published_records(output: Path | None) -> int | None:
    """Distinct hospital records with at least one row in the final output: the `record_key` of task rows in mixed
    rows (sft_row.v1), the `source_record_hash` of task rows (task_row.v1); rows from public task sources
    (chip-cdee, chip-cdn) and external dialogue are not records. None when the output carries no record key."""
    if output is None or not output.is_file():
        return None
    import polars as pl
    import pyarrow.parquet as pq

    names = set(pq.read_schema(output).names)
    key = "record_key" if {"record_key", "task"} <= names else "source_record_hash" if "source_record_hash" in names \
        else None
    if key is None or "source" not in names:
        return None
    rows = pl.scan_parquet(output).filter(pl.col("source") == "records")
    if key == "record_key":
        rows = rows.filter(pl.col("task").is_not_null())
    return int(rows.select(pl.col(key).n_unique()).collect().item())


def record_accounting(results: list[StageResult], output: Path | None = None) -> Accounting:
    """Follow records through the stages: read by ingest, lost only to quarantine, published at the end.

    1:1 stages pass records through; a fan-out stage (task building) turns records into rows, so from there on a
    record is alive when it yielded at least one row (`inputs_used`), and published when one of its rows is in the
    final output. The stages after the fan-out quarantine rows, each with a reason (their own accounting is checked
    row by row); a record whose rows were all quarantined there (sampled out of the mixture, withheld for
    k-anonymity...) counts as quarantined, `left_out_later`.
    """
    read = results[0].rows_in
    quarantined = 0
    published = read
    for r in results:
        if r.fan_out:
            quarantined += r.inputs_quarantined
            published = r.inputs_used
            break
        quarantined += r.quarantined
        published = r.kept
    else:
        return Accounting(read=read, published=published, quarantined=quarantined)
    final = published_records(output)
    if final is None:
        return Accounting(read=read, published=published, quarantined=quarantined)
    later = published - final
    return Accounting(read=read, published=final, quarantined=quarantined + max(later, 0), left_out_later=later)


def build_report(recipe: Recipe, results: list[StageResult], output: Path, seconds: float,
                 sources_seconds: float = 0.0) -> dict[str, Any]:
    acc = record_accounting(results, output)
    return {
        "recipe": {"name": recipe.name, "version": recipe.version, "path": str(recipe.path),
                   "sha256": file_sha256(recipe.path), "seed": recipe.seed},
        "cmedins_version": __version__,
        "code_version": code_version(),
        "secret": "public development key (set CMEDINS_SECRET for real data)" if is_dev_secret(build_secret())
        else "from CMEDINS_SECRET",
        "output": str(output),
        "seconds": round(seconds, 2),
        "sources_seconds": round(sources_seconds, 2),
        "accounting": {"records_read": acc.read, "records_published": acc.published,
                       "records_quarantined": acc.quarantined, "records_left_out_later": acc.left_out_later,
                       "ok": acc.ok},
        "stages": [
            {"name": r.name, "cached": r.cached, "seconds": round(r.seconds, 2), "rows_in": r.rows_in,
             "kept": r.kept, "quarantined": r.quarantined, "by_reason": r.by_reason, "accounted": r.accounted,
             "fan_out": r.fan_out, "inputs_used": r.inputs_used, "inputs_quarantined": r.inputs_quarantined,
             "batches": _batch_timing(r.batch_seconds), "stats": r.stats}
            for r in results
        ],
    }


def later_note(acc: dict[str, Any]) -> str:
    """The records line's note on records that yielded rows and then lost them all."""
    n = acc.get("records_left_out_later", 0)
    return f" ({n:,} of them yielded rows that later stages all left out)" if n else ""


def mixture_line(report: dict[str, Any]) -> str | None:
    """`mixture (share achieved / target): group 60.0%/60.0%, ...` from the last stage that measured the shares
    (the gate's figures on what is published, else the mix stage's own); None without a mixture."""
    for s in reversed(report["stages"]):
        for prefix in ("published_share_bp:", "share_bp:"):
            targets = {k[len(prefix):-len(":target")]: v for k, v in s["stats"].items()
                       if k.startswith(prefix) and k.endswith(":target")}
            if targets:
                parts = [f"{g} {s['stats'].get(f'{prefix}{g}:achieved', 0) / 100:.1f}%/{t / 100:.1f}%"
                         for g, t in sorted(targets.items(), key=lambda kv: -kv[1])]
                return f"mixture (share achieved/target, after {s['name']}): " + ", ".join(parts)
    return None


def _privacy_warnings(report: dict[str, Any]) -> list[str]:
    """Lines that must not be missed: a date policy that is not HIPAA Safe Harbor (deid `date_mode: year_month`)."""
    rows = sum(s["stats"].get("date_policy:year_month", 0) for s in report["stages"])
    if not rows:
        return []
    return [f"- **WARNING: dates keep year and month in {rows:,} records (deid date_mode year_month): NOT HIPAA "
            "Safe Harbor. Use date_mode year or shift to publish.**"]


def _batch_timing(seconds: list[float]) -> dict[str, float] | None:
    """Batches of this run and their seconds (mean, max): a slow or skewed batch shows here. None when cached."""
    if not seconds:
        return None
    return {"count": len(seconds), "mean_s": round(sum(seconds) / len(seconds), 3), "max_s": round(max(seconds), 3)}


def render_markdown(report: dict[str, Any]) -> str:
    acc = report["accounting"]
    mark = "OK" if acc["ok"] else "MISMATCH"
    lines = [
        f"# Build report: {report['recipe']['name']} {report['recipe']['version']}",
        "",
        f"- code version `{report['code_version']}`, seed {report['recipe']['seed']}, {report['seconds']} s "
        f"(of which {report['sources_seconds']} s generating synthetic sources)",
        f"- secret: {report['secret']}",
        f"- output: `{report['output']}`",
        f"- **records: read {acc['records_read']:,} = published {acc['records_published']:,} + "
        f"quarantined {acc['records_quarantined']:,} — {mark}**" + later_note(acc),
        *([f"- {line}"] if (line := mixture_line(report)) else []),
        *_privacy_warnings(report),
        "",
        "| stage | rows in | kept | quarantined | accounted | time (s) | batches | s/batch mean (max) | cached |",
        "|---|---:|---:|---:|:-:|---:|---:|---:|:-:|",
    ]
    for s in report["stages"]:
        b = s["batches"]
        timing = f"{b['count']} | {b['mean_s']} ({b['max_s']})" if b else " | "
        lines.append(f"| {s['name']} | {s['rows_in']:,} | {s['kept']:,} | {s['quarantined']:,} | "
                     f"{'yes' if s['accounted'] else 'NO'} | {s['seconds']} | {timing} | "
                     f"{'yes' if s['cached'] else ''} |")
    for s in report["stages"]:
        if s["by_reason"]:
            lines += ["", f"## {s['name']}: quarantined by reason", "", "| reason | rows |", "|---|---:|"]
            lines += [f"| {reason} | {n:,} |" for reason, n in s["by_reason"].items()]
        plain = {k: v for k, v in s["stats"].items() if ":" not in k}
        if plain:
            lines += ["", f"## {s['name']}: counters", "", "| counter | value |", "|---|---:|"]
            lines += [f"| {k} | {v:,} |" for k, v in plain.items()]
        groups: dict[str, dict[str, int]] = {}
        for k, v in s["stats"].items():
            if ":" in k:
                group, label = k.split(":", 1)
                groups.setdefault(group, {})[label] = v
        for group, counts in groups.items():
            lines += ["", f"## {s['name']}: {GROUP_TITLES.get(group, group)}", ""]
            lines += _bar_table(counts)
    return "\n".join(lines) + "\n"


GROUP_TITLES = {"rows": "rows per task", "dept": "rows per department", "entity": "identifiers found, by type",
                "lang": "rows per instruction language", "normalised": "text normalised at ingest, by kind (cells)",
                "quarantined": "quarantined, by reason", "date_policy": "date policy (records)",
                "float_as_integer": "float ids written as exact integers, by field",
                "removed": "rows removed, by reason", "cluster_size": "duplicate clusters, by size",
                "contamination": "rows overlapping an evaluation set, by set",
                "share_bp": "mixture shares, target vs achieved (basis points)", "group_rows": "rows per source group",
                "source_rows": "rows read per external source", "source_used": "rows used per external source",
                "source_quarantined": "external rows quarantined, by source and reason",
                "validation_bp": "validation share per stratum (basis points)",
                "kanon_level": "k-anonymity: generalisation level reached", "kanon_class": "k-anonymity class sizes",
                "unsafe": "unsafe answers, by kind", "ungrounded": "ungrounded answers, by task",
                "leakage_rows": "answer leakage handled, by task", "format": "rows per answer format",
                "published": "published rows, by config",
                "published_share_bp": "mixture shares after the gate, target vs achieved (basis points)",
                "deciding_dimension": "preference pairs by deciding dimension (Safety > Professionalism > Fluency)",
                "kappa_x1000": "Cohen's kappa x 1000 by dimension (mean over annotator pairs)",
                "agreement_x1000": "raw agreement x 1000 by dimension (mean over annotator pairs)",
                "pairs_dropped": "preference pairs dropped, by reason", "distribution": "preference pairs by "
                "prompt distribution", "chosen_generator": "preference pairs by the chosen answer's generator",
                "dpo_withheld": "preference pairs withheld by the gate, by reason"}


def _bar_table(counts: dict[str, int], width: int = 30) -> list[str]:
    """A Markdown table with a text bar per row, largest first: readable at a glance in any viewer."""
    top = max(counts.values(), default=0) or 1
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ["| | count | |", "|---|---:|---|"] + [
        f"| {label} | {n:,} | {'█' * max(1, round(width * n / top)) if n else ''} |" for label, n in rows
    ]


def write_report(report: dict[str, Any], report_dir: Path) -> tuple[Path, Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    js, md = report_dir / "build_report.json", report_dir / "build_report.md"
    js.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(render_markdown(report), encoding="utf-8")
    return js, md
