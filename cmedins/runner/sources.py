"""Resolve a recipe's sources into the `sources` option of the source stage (`ingest`).

A `synthetic` source is generated into the work directory first (cached by its options and the code version), so
the default build exercises exactly the same reader path as a hospital's own export. Other sources pass through
unchanged: the source stage checks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmedins.parquet_io import remove_stale_tmp, write_text, writing
from cmedins.runner.hashing import code_version, json_sha256
from cmedins.runner.recipe import RecipeError

SYNTHETIC_OPTIONS = {"name", "kind", "records", "seed", "corrupt_rate", "format", "encoding"}


def resolve_source(raw: dict[str, Any], work_dir: Path, workers: int) -> dict[str, Any]:
    """One recipe source as a reader spec, generating synthetic data when asked."""
    if raw.get("kind") != "synthetic":
        return dict(raw)
    unknown = sorted(set(raw) - SYNTHETIC_OPTIONS)
    if unknown:
        raise RecipeError(f"synthetic source {raw['name']!r}: unknown option(s) {', '.join(unknown)}")
    fmt = raw.get("format", "parquet")
    options = {
        "records": int(raw.get("records", 2000)),
        "seed": int(raw.get("seed", 0)),
        "corrupt_rate": float(raw.get("corrupt_rate", 0.0)),
        "fmt": fmt,
        "encoding": raw.get("encoding", "utf-8"),
    }
    out = work_dir / "sources" / raw["name"]
    key = json_sha256({"options": options, "code": code_version()})
    marker = out / "done.json"
    if _marker_key(marker) != key:
        from cmedins.synth import generate

        try:
            with writing(out):  # a read-only folder or a full disk: one line naming the file, not a traceback
                generate(options["records"], options["seed"], out, corrupt_rate=options["corrupt_rate"], fmt=fmt,
                         encoding=options["encoding"], workers=workers)
        except BaseException:
            for folder in (out, out / "ground_truth"):  # the generator's temp files: nothing half-written stays
                remove_stale_tmp(folder)
            raise
        write_text(json.dumps({"key": key, "options": options}, sort_keys=True), marker)
    return {"name": raw["name"], "kind": fmt, "path": str(out / f"records.{fmt}"), "encoding": options["encoding"]}


def _marker_key(marker: Path) -> str | None:
    """The key the finished source was generated with; None when absent or unreadable (then it is regenerated)."""
    try:
        value = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value.get("key") if isinstance(value, dict) else None
