"""What changed between two published versions: rows added / removed / changed per config and split (by row id),
shifts in the shares of tasks, sources, languages, departments and splits, and schema changes.

Both sides are dataset folders in the Hub layout (`data/<config>/<split>-*.parquet`), local or a Hub revision
(`ORG/NAME@REV`, fetched with `huggingface_hub.snapshot_download`). A row counts as changed when its id is on both
sides and any value of a column both sides have differs; a column added or removed is a schema change, reported
once, not as every row changing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

SHARE_COLUMNS = ("task", "source", "source_group", "language", "department")
HUB_SPEC = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(?:@[\w./-]+)?$")


class DiffError(ValueError):
    """A side that is neither a dataset folder nor a Hub revision that can be fetched; one line."""


@dataclass(frozen=True)
class Version:
    """One side of a diff: where it is, what its manifest says, and its parquet files by (config, split)."""

    where: str
    root: Path
    manifest: dict[str, Any]
    files: dict[tuple[str, str], list[Path]]

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "?"))


def resolve(spec: str, *, download: Any = None) -> Path:
    """A local folder, or a Hub revision `ORG/NAME[@REV]` downloaded (data, card and manifest only)."""
    path = Path(spec)
    if path.exists():
        return path
    if not HUB_SPEC.match(spec):
        raise DiffError(f"{spec}: no such folder, and not a Hub revision (ORG/NAME or ORG/NAME@REVISION)")
    repo_id, _, revision = spec.partition("@")
    if download is None:
        from huggingface_hub import snapshot_download as download
    try:
        return Path(download(repo_id=repo_id, repo_type="dataset", revision=revision or None,
                             allow_patterns=["data/**", "manifest.json", "README.md"]))
    except Exception as exc:  # network, auth, missing revision: one line, never a token
        raise DiffError(f"{spec}: cannot fetch from the Hub ({type(exc).__name__})") from None


def load_version(root: Path, where: str | None = None) -> Version:
    """The files of a dataset folder, grouped by config and split from their `data/<config>/<split>-*` names."""
    if not (root / "data").is_dir():
        raise DiffError(f"{where or root}: not a dataset folder (no data/)")
    files: dict[tuple[str, str], list[Path]] = {}
    for p in sorted((root / "data").glob("*/*.parquet")):
        split = re.sub(r"-\d{5}-of-\d{5}$", "", p.stem)
        files.setdefault((p.parent.name, split), []).append(p)
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return Version(where=where or str(root), root=root, manifest=manifest, files=files)


def _read(paths: list[Path] | None) -> pl.DataFrame | None:
    if not paths:
        return None
    return pl.concat([pl.read_parquet(p) for p in paths], how="vertical_relaxed")


def _merged_schema(frames: list[pl.DataFrame]) -> dict[str, pl.DataType]:
    """Columns and types over all splits of a config (a column added to one split is a schema change too)."""
    out: dict[str, pl.DataType] = {}
    for f in frames:
        for name, dtype in f.schema.items():
            out.setdefault(name, dtype)
    return out


def _shares(frames: list[pl.DataFrame]) -> dict[str, dict[str, float]]:
    """Share of rows per value of each share column, over the given frames (the splits of one config)."""
    out: dict[str, dict[str, float]] = {}
    total = sum(f.height for f in frames) or 1
    for col in SHARE_COLUMNS:
        if not frames or any(col not in f.columns for f in frames):
            continue
        counts = pl.concat([f.select(pl.col(col).cast(pl.String).fill_null("(none)")) for f in frames])[col]
        out[col] = {str(k): n / total for k, n in counts.value_counts().iter_rows()}
    return out


def diff_versions(old: Version, new: Version, top: int = 8) -> dict[str, Any]:
    """The differences, as JSON-able data (`render` prints them)."""
    keys = sorted(set(old.files) | set(new.files))
    splits: list[dict[str, Any]] = []
    frames_old: dict[str, list[pl.DataFrame]] = {}
    frames_new: dict[str, list[pl.DataFrame]] = {}
    schema: dict[str, dict[str, Any]] = {}
    for config, split in keys:
        a, b = _read(old.files.get((config, split))), _read(new.files.get((config, split)))
        if a is not None:
            frames_old.setdefault(config, []).append(a)
        if b is not None:
            frames_new.setdefault(config, []).append(b)
        row: dict[str, Any] = {"config": config, "split": split, "old_rows": a.height if a is not None else 0,
                               "new_rows": b.height if b is not None else 0}
        if a is not None and b is not None and "id" in a.columns and "id" in b.columns:
            common = [c for c in a.columns if c in b.columns]
            ha = a.select("id", a.select(common).hash_rows(seed=7).alias("_h"))
            hb = b.select("id", b.select(common).hash_rows(seed=7).alias("_h"))
            joined = ha.join(hb, on="id", how="full", suffix="_new", coalesce=True)
            row["added"] = int(joined["_h"].is_null().sum())
            row["removed"] = int(joined["_h_new"].is_null().sum())
            both = joined.filter(pl.col("_h").is_not_null() & pl.col("_h_new").is_not_null())
            row["changed"] = int((both["_h"] != both["_h_new"]).sum())
            row["unchanged"] = both.height - row["changed"]
        else:
            row.update(added=row["new_rows"], removed=row["old_rows"], changed=0, unchanged=0)
        splits.append(row)
    for config in sorted(set(frames_old) | set(frames_new)):
        a_schema = _merged_schema(frames_old.get(config, []))
        b_schema = _merged_schema(frames_new.get(config, []))
        changes = {
            "added": [c for c in b_schema if c not in a_schema],
            "removed": [c for c in a_schema if c not in b_schema],
            "type_changed": [f"{c}: {a_schema[c]} -> {b_schema[c]}" for c in a_schema
                             if c in b_schema and a_schema[c] != b_schema[c]],
        }
        if a_schema and b_schema and any(changes.values()):
            schema[config] = changes
    shifts: list[dict[str, Any]] = []
    for config in sorted(set(frames_old) & set(frames_new)):
        sa, sb = _shares(frames_old[config]), _shares(frames_new[config])
        for col in sorted(set(sa) & set(sb)):
            for value in sorted(set(sa[col]) | set(sb[col])):
                d = sb[col].get(value, 0.0) - sa[col].get(value, 0.0)
                if abs(d) >= 0.0005:
                    shifts.append({"config": config, "column": col, "value": value,
                                   "old": round(sa[col].get(value, 0.0), 4), "new": round(sb[col].get(value, 0.0), 4),
                                   "delta_pp": round(100 * d, 2)})
    shifts.sort(key=lambda s: (-abs(s["delta_pp"]), s["config"], s["column"], s["value"]))
    return {"old": {"where": old.where, "version": old.version}, "new": {"where": new.where, "version": new.version},
            "splits": splits, "schema": schema, "shifts": shifts[:top], "shifts_total": len(shifts)}


def render(d: dict[str, Any]) -> str:
    """The diff as Markdown (readable on a terminal too)."""
    lines = [f"Changes from {d['old']['version']} ({d['old']['where']}) to {d['new']['version']} "
             f"({d['new']['where']})", "", "| config | split | rows before | rows after | added | removed | changed |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for s in d["splits"]:
        lines.append(f"| {s['config']} | {s['split']} | {s['old_rows']:,} | {s['new_rows']:,} | {s['added']:,} | "
                     f"{s['removed']:,} | {s['changed']:,} |")
    if d["shifts"]:
        lines += ["", f"Largest share shifts ({len(d['shifts'])} of {d['shifts_total']}; percentage points):", "",
                  "| config | column | value | before | after | shift |", "|---|---|---|---:|---:|---:|"]
        lines += [f"| {s['config']} | {s['column']} | {s['value']} | {s['old']:.2%} | {s['new']:.2%} | "
                  f"{s['delta_pp']:+.2f} |" for s in d["shifts"]]
    else:
        lines += ["", "No share shifted by 0.05 percentage points or more."]
    if d["schema"]:
        lines += ["", "Schema changes:", ""]
        for config, ch in d["schema"].items():
            parts = [f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in ch.items() if v]
            lines.append(f"- {config}: " + "; ".join(parts))
    else:
        lines += ["", "No schema change."]
    return "\n".join(lines) + "\n"
