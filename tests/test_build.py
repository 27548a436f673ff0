"""End-to-end tests of `python -m cmedins.build`: help, accounting, caching, determinism, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import REPO, write_recipe

from cmedins.build import main


def _small_recipe(tmp_path: Path, records: int = 400, **overrides) -> Path:
    default = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    sources = [{"name": "synthetic", "kind": "synthetic", "records": records, "seed": 11}]
    return write_recipe(tmp_path / "recipe.yaml", sources=sources, batch_rows=100,
                        stages=overrides.pop("stages", default["stages"]), **overrides)


def _outputs(out: Path) -> dict[str, bytes]:
    """Every published/work file whose bytes must be reproducible (reports carry timings, so they are excluded)."""
    files = sorted(p for p in (out / "work").rglob("*") if p.is_file() and p.suffix in {".parquet", ".json"})
    files += sorted((out / "output").glob("*.parquet"))
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def test_help_explains_every_option() -> None:
    res = subprocess.run([sys.executable, "-m", "cmedins.build", "--help"], capture_output=True, text=True, check=True)
    for option in ("--out", "--force", "--workers", "--records", "--quiet", "--debug", "recipe"):
        assert option in res.stdout


def test_build_accounts_for_every_record_and_is_cached(tmp_path: Path) -> None:
    recipe = _small_recipe(tmp_path)
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    report = json.loads((tmp_path / "a" / "report" / "build_report.json").read_text())
    acc = report["accounting"]
    assert acc["ok"] and acc["records_read"] == 400
    assert acc["records_published"] + acc["records_quarantined"] == 400
    # published = records with a row in the final output, counted here independently of the report's code
    final = pl.read_parquet(next((tmp_path / "a" / "output").glob("*.parquet")))
    if "record_key" in final.columns:
        mine = final.filter(pl.col("task").is_not_null() & (pl.col("source") == "records"))["record_key"].n_unique()
        assert acc["records_published"] == mine < 400
        tasks = next(s for s in report["stages"] if s["name"] == "tasks")
        assert acc["records_left_out_later"] == tasks["inputs_used"] - mine
    assert all(s["accounted"] for s in report["stages"])
    assert (tmp_path / "a" / "report" / "build_report.md").read_text().count("|") > 10
    svg = (tmp_path / "a" / "report" / "departments.svg").read_text(encoding="utf-8")
    assert svg.count("<rect") >= 10  # one bar per department of the synthetic corpus
    # a rerun finds every stage up to date
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    report = json.loads((tmp_path / "a" / "report" / "build_report.json").read_text())
    assert all(s["cached"] for s in report["stages"])
    # --force reruns from the named stage on
    last = report["stages"][-1]["name"]
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet", "--force", last]) == 0
    report = json.loads((tmp_path / "a" / "report" / "build_report.json").read_text())
    assert [s["cached"] for s in report["stages"]][-1] is False


def test_two_fresh_builds_are_byte_identical(tmp_path: Path) -> None:
    recipe = _small_recipe(tmp_path, records=300)
    assert main([str(recipe), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main([str(recipe), "--out", str(tmp_path / "b"), "--quiet", "--workers", "1"]) == 0
    a, b = _outputs(tmp_path / "a"), _outputs(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) >= 4
    assert [k for k in a if a[k] != b[k]] == []


def test_sigkill_mid_stage_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    recipe = _small_recipe(tmp_path, records=1500)
    stages = yaml.safe_load(recipe.read_text())["stages"]
    if not stages:
        pytest.skip("no stage after ingest in the default recipe yet")
    first = next(iter(stages[0])) if isinstance(stages[0], dict) else stages[0]
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "cmedins.build", str(recipe), "--out", str(out), "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    parts = out / "work" / first / "parts"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(parts.glob("stats-*.json"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be killed; make the recipe bigger"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "work" / first / "manifest.json").exists()
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    assert main([str(recipe), "--out", str(tmp_path / "clean"), "--quiet"]) == 0
    killed, clean = _outputs(out), _outputs(tmp_path / "clean")
    assert killed.keys() == clean.keys()
    assert [k for k in killed if killed[k] != clean[k]] == []


def test_gb18030_csv_with_corrupt_rows_quarantines_exactly_those(tmp_path: Path) -> None:
    sources = [{"name": "export", "kind": "synthetic", "records": 600, "seed": 5, "format": "csv",
                "encoding": "gb18030", "corrupt_rate": 0.05}]
    recipe = write_recipe(tmp_path / "r.yaml", sources=sources, stages=[], batch_rows=200)
    out = tmp_path / "out"
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    truth = pq.read_table(out / "work" / "sources" / "export" / "ground_truth" / "corruptions.parquet")
    quarantine = pq.read_table(out / "work" / "ingest" / "quarantine.parquet")
    assert sorted(set(quarantine.column("row").to_pylist())) == sorted(set(truth.column("row").to_pylist()))
    assert len(truth) >= 20
    for message in quarantine.column("message").to_pylist():
        assert message.startswith("records.csv row ") and "\n" not in message
    report = json.loads((out / "report" / "build_report.json").read_text())
    ingest = report["stages"][0]
    assert ingest["kept"] + ingest["quarantined"] == ingest["rows_in"] == 600


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("sources: []\n", "sources"),
        ("name: x\nsources: [{name: a, kind: synthetic}]\nstages: [nosuchstage]\n", "nosuchstage"),
        ("name: x\nsources: [{name: a, kind: csv, path: /nonexistent/x.csv}]\n", "x.csv"),
        ("name: x\nsurces: []\n", "surces"),
    ],
)
def test_bad_recipes_fail_with_one_clear_line(tmp_path: Path, content: str, needle: str) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(content)
    res = subprocess.run([sys.executable, "-m", "cmedins.build", str(recipe), "--out", str(tmp_path / "o"), "--quiet"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.stderr


def test_quarantine_rows_name_the_row_in_the_whole_upstream_table(tmp_path: Path) -> None:
    """Batch k of a stage starts at row k * batch_rows + 1: the row column and the message say the same row."""
    recipe = _small_recipe(tmp_path, records=300, stages=["deid", {"tasks": {"max_query_chars": 120}}])
    assert main([str(recipe), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    q = pq.read_table(tmp_path / "o" / "work" / "tasks" / "quarantine.parquet").to_pylist()
    assert any(r["row"] > 100 for r in q)  # rows from later batches (batch_rows is 100)
    for r in q:
        assert f"row {r['row']} " in r["message"]
        assert 1 <= r["row"] <= 300


def test_public_sources_join_the_task_rows_in_a_recipe(tmp_path: Path, realdata: Path) -> None:
    """A reduce stage (`tasks_public`) after a map stage: the record rows pass through, public rows follow."""
    public = {"tasks": ["event_extraction", "diagnosis_normalization"],
              "cdee_paths": [str(realdata / "CHIP-CDEE" / "CHIP-CDEE_dev.json")],
              "cdn_paths": [str(realdata / "CBLUE_CHIP-CDN" / "CHIP-CDN_dev.json")],
              "icd10_path": str(realdata / "ICD10_Beijing_clinical_v601" / "DERIVED_icd10_beijing_v601.tsv")}
    recipe = _small_recipe(tmp_path, records=200, stages=["deid", "tasks", {"tasks_public": public}])
    assert main([str(recipe), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    report = json.loads((tmp_path / "o" / "report" / "build_report.json").read_text())
    tasks, public_stage = report["stages"][2], report["stages"][3]
    assert public_stage["stats"]["passed_through"] == tasks["kept"] == public_stage["rows_in"]
    out = pq.read_table(tmp_path / "o" / "output" / "tasks_public.parquet")
    sources = out.column("source").to_pylist()
    assert sources[: tasks["kept"]] == ["records"] * tasks["kept"]
    assert {"chip-cdee", "chip-cdn"} <= set(sources[tasks["kept"]:])
    assert report["accounting"]["ok"]
