"""What the gate and the publisher read about the build around them: the de-identification policy, the sources,
and every stage's row accounting, from the stages' manifests in `<out>/work/`.

Stages see only their input table (`cmedins/stage.py`); these facts live in the manifests the runner writes, which
record the counts, the config and the code version of each stage. Only manifests of the running code version are
read, so a stage left over from an older build in the same folder is not mistaken for part of this one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmedins.runner.hashing import code_version, file_sha256
from cmedins.stage import StageContext


def out_dir(ctx: StageContext) -> Path:
    """The build folder: a stage's workdir is `<out>/work/<stage>/`."""
    return ctx.workdir.parent.parent


def build_stages(work: Path) -> list[str] | None:
    """The stage names of the build running in this folder, in recipe order (None when not recorded)."""
    from cmedins.runner.runner import STAGES_FILE

    try:
        names = json.loads((work / STAGES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def manifests(work: Path, before: str | None = None) -> dict[str, dict[str, Any]]:
    """Stage name -> manifest, for every finished stage of the running code version that is part of this build
    (and comes before the stage `before`, when given)."""
    found: dict[str, dict[str, Any]] = {}
    current = code_version()
    names = build_stages(work)
    if names is not None and before in names:
        names = names[:names.index(before)]
    for path in sorted(work.glob("*/manifest.json")):
        if names is not None and path.parent.name not in names:
            continue
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(m, dict) and m.get("code_version") == current and m.get("stage") == path.parent.name:
            found[path.parent.name] = m
    return found


def deid_policy(work: Path) -> dict[str, Any]:
    """How the published text was de-identified: mode, date policy (Safe Harbor or not), identifiers replaced."""
    m = manifests(work).get("deid")
    if m is None:
        return {"ran": False}
    config, stats = m.get("config", {}), m.get("stats", {})
    date_mode = config.get("date_mode", "year")
    return {
        "ran": True,
        "mode": config.get("mode"),
        "date_mode": date_mode,
        "safe_harbor_dates": date_mode in ("year", "shift"),
        "records": m.get("kept", 0) + m.get("quarantined", 0),
        "identifiers_replaced": {k.split(":", 1)[1]: v for k, v in sorted(stats.items()) if k.startswith("entity:")},
    }


def dates_shifted(work: Path) -> bool:
    """The build shifted dates (deid `date_mode: shift`): full dates are expected in text then."""
    return deid_policy(work).get("date_mode") == "shift"


def mix_measure(work: Path) -> str:
    """What the build's mixture counts shares in (`examples` or `tokens`); `examples` when no mix stage ran."""
    by = manifests(work).get("mix", {}).get("config", {}).get("by")
    return by if by in ("examples", "tokens") else "examples"


def mix_targets(work: Path) -> tuple[dict[str, float], float] | None:
    """The mixture's target shares (normalised) and tolerance from the recipe, or None when no mix stage ran."""
    config = manifests(work).get("mix", {}).get("config")
    if not isinstance(config, dict) or not isinstance(config.get("shares"), dict):
        return None
    total = sum(float(v) for v in config["shares"].values()) or 1.0
    return ({g: float(v) / total for g, v in sorted(config["shares"].items())},
            float(config.get("share_tolerance", 0.01)))


def sources(work: Path) -> list[dict[str, Any]]:
    """The ingested sources with their revision: the sha256 of the file read, and a synthetic source's options."""
    m = manifests(work).get("ingest")
    if m is None:
        return []
    root = work.parent
    out = []
    for s in m.get("config", {}).get("sources", []):
        entry: dict[str, Any] = {"name": s.get("name"), "kind": s.get("kind"), "path": s.get("path")}
        path = Path(s["path"]) if s.get("path") else None
        if path is not None and not path.is_absolute():
            path = root / path
        if path is not None and path.is_file():
            entry["sha256"] = file_sha256(path)
        done = work / "sources" / str(s.get("name")) / "done.json"
        if done.is_file():
            try:
                entry["synthetic"] = json.loads(done.read_text(encoding="utf-8")).get("options")
            except (OSError, ValueError):
                pass
        out.append(entry)
    return out


def stage_accounting(work: Path, before: str) -> list[dict[str, Any]]:
    """Per finished stage of this build before `before`: rows in, kept, quarantined, and whether every input row
    is accounted for (kept or quarantined; for a fan-out stage, used or quarantined)."""
    rows = []
    for name, m in manifests(work, before=before).items():
        if name == before:
            continue
        if m.get("fan_out"):
            ok = m["inputs_used"] + m["inputs_quarantined"] == m["rows_in"]
        else:
            ok = m["kept"] + m["quarantined"] == m["rows_in"]
        rows.append({"stage": name, "rows_in": m["rows_in"], "kept": m["kept"], "quarantined": m["quarantined"],
                     "accounted": bool(ok)})
    return rows


def id_digest(table: Any) -> str:
    """A digest of a table's row ids in order: the publisher checks that the gate's verdict is about its input."""
    import hashlib

    h = hashlib.sha256(str(table.num_rows).encode())
    if "id" in table.column_names:
        for chunk in table.column("id").chunks:
            for v in chunk.to_pylist():
                h.update(b"\x1f" + str(v).encode())
    return h.hexdigest()
