"""The `mix` stage inside a real build: the default recipe's mix options on a small synthetic corpus, offline; the
report accounts for it, the output is the sft table, rerunning the stage gives the same bytes, a rerun is cached."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import yaml
from conftest import REPO, write_recipe

from cmedins.build import main
from cmedins.contracts import load_contract


def _recipe(tmp_path: Path) -> Path:
    default = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    (mix,) = [s["mix"] for s in default["stages"] if isinstance(s, dict) and "mix" in s]
    sources = [{**s, "rows": max(40, s["rows"] // 20)} for s in mix["sources"]]  # the default's sources, smaller
    return write_recipe(tmp_path / "recipe.yaml", batch_rows=100, workers=1,
                        sources=[{"name": "synthetic", "kind": "synthetic", "records": 80, "seed": 11}],
                        stages=["deid", "tasks", {"mix": {**mix, "sources": sources}}])


def test_build_with_mix(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    report = json.loads((tmp_path / "a" / "report" / "build_report.json").read_text())
    mix = report["stages"][-1]
    assert mix["name"] == "mix" and mix["accounted"] and report["accounting"]["ok"]
    stats = mix["stats"]
    assert stats["shares_within_tolerance"] == 1 and stats["leaked_group_keys"] == 0
    assert stats["split_rows:train"] + stats["split_rows:validation"] == stats["mix_rows"] == mix["kept"]
    out = pl.read_parquet(tmp_path / "a" / "output" / "mix.parquet")
    assert out.columns == load_contract("sft_row").names
    assert set(out["split"]) == {"train", "validation"} and set(out["source_group"]) >= {"cmedins_tasks",
                                                                                        "dialogue_multi"}
    md = (tmp_path / "a" / "report" / "build_report.md").read_text(encoding="utf-8")
    assert "cmedins_tasks:target" in md and "cmedins_tasks:achieved" in md and "leaked_group_keys" in md
    # rerunning the stage gives the same bytes (generated sources included)
    rels = ("output/mix.parquet", "work/mix/quarantine.parquet", "work/mix/embedded/demo_chatmed.jsonl")
    first = {rel: (tmp_path / "a" / rel).read_bytes() for rel in rels}
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet", "--force", "mix"]) == 0
    assert {rel: (tmp_path / "a" / rel).read_bytes() for rel in rels} == first
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    report = json.loads((tmp_path / "a" / "report" / "build_report.json").read_text())
    assert report["stages"][-1]["cached"]
