"""Fast runner checks written to kill surviving mutants (benchmarks/mutation.py): accounting, caching, cache keys,
recipe validation and the build lock, on a 60-record ingest-only build (a few seconds) and small units."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_recipe

from cmedins.build import main
from cmedins.registry import RegistryError
from cmedins.runner.hashing import file_sha256, json_sha256
from cmedins.runner.lock import BuildInUse, build_lock
from cmedins.runner.recipe import Recipe, RecipeError, load_recipe
from cmedins.runner.report import Accounting, record_accounting
from cmedins.runner.runner import StageResult
from cmedins.stage import StageContext, StageOutput, get_stage, register_stage


def _recipe(tmp_path: Path, stages=None, **overrides) -> Path:
    sources = [{"name": "synthetic", "kind": "synthetic", "records": 60, "seed": 11}]
    return write_recipe(tmp_path / "recipe.yaml", sources=sources, batch_rows=25, workers=1,
                        stages=[] if stages is None else stages, **overrides)


def _report(out: Path) -> dict:
    return json.loads((out / "report" / "build_report.json").read_text(encoding="utf-8"))


def test_small_build_accounts_caches_and_forces(tmp_path: Path) -> None:
    recipe, out = _recipe(tmp_path), tmp_path / "out"
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    rep = _report(out)
    acc = rep["accounting"]
    assert acc["ok"] and acc["records_read"] == 60
    assert acc["records_published"] + acc["records_quarantined"] == 60
    assert [s["name"] for s in rep["stages"]] == ["ingest"]
    for s in rep["stages"]:
        assert s["accounted"] and not s["cached"]
    first = {p.name: p.read_bytes() for p in (out / "output").glob("*.parquet")}
    assert first
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    assert [s["cached"] for s in _report(out)["stages"]] == [True]
    assert {p.name: p.read_bytes() for p in (out / "output").glob("*.parquet")} == first
    assert main([str(recipe), "--out", str(out), "--quiet", "--force", "ingest"]) == 0
    assert [s["cached"] for s in _report(out)["stages"]] == [False]
    assert main([str(recipe), "--out", str(out), "--quiet", "--force", "nosuchstage"]) == 2


def test_a_batch_stage_sees_every_kept_row_once(tmp_path: Path) -> None:
    """ingest -> deid in 3 batches of <= 25 rows: deid reads exactly ingest's kept rows, once each, in order."""
    import pyarrow.parquet as pq

    recipe, out = _recipe(tmp_path, stages=["deid"]), tmp_path / "out"
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    rep = _report(out)
    ingest, deid = rep["stages"]
    assert rep["accounting"]["ok"] and deid["accounted"]
    assert deid["rows_in"] == ingest["kept"] == deid["kept"] + deid["quarantined"]
    assert rep["accounting"]["records_published"] == deid["kept"]
    final = pq.read_table(next((out / "output").glob("*.parquet")))
    kept_in = pq.read_table(out / "work" / "ingest" / "kept.parquet")
    assert kept_in.num_rows == ingest["kept"] and pq.ParquetFile(out / "work" / "ingest" / "kept.parquet").metadata \
        .num_row_groups == 3  # batch_rows 25: the batches deid runs
    assert final.num_rows == deid["kept"]
    assert final.column("department").to_pylist() == kept_in.column("department").to_pylist()  # same rows, in order
    timing = deid["batches"]  # each batch's own seconds, measured in the worker
    assert timing["count"] == 3 and 0 < timing["max_s"] < 120
    manifest = (out / "work" / "deid" / "manifest.json").read_text(encoding="utf-8")
    assert list(json.loads(manifest)) == sorted(json.loads(manifest))  # keys sorted: the same bytes every build


def test_json_sha256_ignores_key_order_and_sees_values() -> None:
    assert json_sha256({"a": 1, "b": [1, 2]}) == json_sha256({"b": [1, 2], "a": 1})
    assert json_sha256({"a": 1}) != json_sha256({"a": 2})
    assert json_sha256({"a": "病历"}) == hashlib.sha256('{"a": "病历"}'.encode()).hexdigest()


def test_file_sha256_reads_the_whole_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # > one 1 MiB chunk
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("body, needle", [
    ("sources: [{name: a}, {name: a}]\n", "unique 'name'"),
    ("sources: [{name: a}]\nstages: [ingest]\n", "'ingest' always runs first"),
    ("sources: [{name: a}]\nbatch_rows: 0\n", "at least 1"),
    ("sources: [{name: a}]\nworkers: 0\n", "at least 1"),
    ("sources: [{name: a}]\nseed: x\n", "must be integers"),
    ("sources: [{name: a}]\nstages: [{deid: 3}]\n", "must be a mapping"),
    ("sources: [{name: a}]\nstages: [{a: {}, b: {}}]\n", "each entry of 'stages'"),
    ("- a\n", "YAML mapping"),
    ("sources: []\n", "non-empty list"),
])
def test_recipe_errors_are_one_clear_line(tmp_path: Path, body: str, needle: str) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(RecipeError, match=needle):
        load_recipe(p)


def test_recipe_defaults_and_stage_options(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text("sources: [{name: a}]\nstages: [deid, {tasks: }, {clean: {k: 1}}]\n", encoding="utf-8")
    r = load_recipe(p)
    assert (r.seed, r.batch_rows, r.workers, r.name, r.version) == (0, 2000, 2, "r", "0.0.0")
    assert r.stage_names == ["ingest", "deid", "tasks", "clean"]
    assert [s.options for s in r.stages] == [{}, {}, {"k": 1}]


def _sr(name, rows_in, kept, quarantined, **kw) -> StageResult:
    return StageResult(name=name, key="k", cached=False, rows_in=rows_in, kept=kept, quarantined=quarantined,
                       by_reason={}, stats={}, seconds=0.0, **kw)


def test_record_accounting_follows_records_to_the_fan_out() -> None:
    results = [_sr("ingest", 100, 97, 3), _sr("deid", 97, 95, 2),
               _sr("tasks", 95, 400, 0, fan_out=True, inputs_used=90, inputs_quarantined=5),
               _sr("clean", 400, 380, 20)]
    acc = record_accounting(results)
    assert (acc.read, acc.published, acc.quarantined, acc.left_out_later) == (100, 90, 10, 0)
    assert acc.ok
    no_fan = record_accounting([_sr("ingest", 10, 8, 2), _sr("deid", 8, 7, 1)])
    assert (no_fan.read, no_fan.published, no_fan.quarantined) == (10, 7, 3) and no_fan.ok
    assert not Accounting(read=10, published=7, quarantined=2).ok
    assert not Accounting(read=10, published=7, quarantined=3, left_out_later=-1).ok
    assert _sr("x", 5, 3, 2).accounted and not _sr("x", 5, 3, 1).accounted
    assert _sr("t", 5, 50, 0, fan_out=True, inputs_used=4, inputs_quarantined=1).accounted
    assert not _sr("t", 5, 5, 0, fan_out=True, inputs_used=4, inputs_quarantined=0).accounted


def test_build_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with build_lock(tmp_path / "o") as path:
        assert path.read_text().strip().isdigit()
        with pytest.raises(BuildInUse, match="in use by another build"):
            with build_lock(tmp_path / "o"):
                pass
    with build_lock(tmp_path / "o"):
        pass


def test_report_lines_batch_timing_and_privacy_warning() -> None:
    from cmedins.runner.report import _batch_timing, _privacy_warnings, later_note, mixture_line

    assert _batch_timing([]) is None
    assert _batch_timing([1.0, 2.0, 6.0]) == {"count": 3, "mean_s": 3.0, "max_s": 6.0}
    stages = [{"name": "mix", "stats": {"share_bp:a:target": 6000, "share_bp:a:achieved": 5950,
                                        "share_bp:b:target": 4000, "share_bp:b:achieved": 4050}},
              {"name": "deid", "stats": {"date_policy:year_month": 3}}]
    line = mixture_line({"stages": stages})
    assert line == "mixture (share achieved/target, after mix): a 59.5%/60.0%, b 40.5%/40.0%"
    assert mixture_line({"stages": stages[1:]}) is None
    (warning,) = _privacy_warnings({"stages": stages})
    assert "3 records" in warning and "NOT HIPAA" in warning
    assert _privacy_warnings({"stages": stages[:1]}) == []
    note = later_note({"records_left_out_later": 1200})
    assert note == " (1,200 of them yielded rows that later stages all left out)"
    assert later_note({}) == ""


def test_published_records_counts_distinct_record_keys_of_task_rows(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cmedins.runner.report import published_records

    p = tmp_path / "o.parquet"
    pq.write_table(pa.table({"record_key": ["a", "a", "b", "c", "d"], "task": ["t", "t", None, "t", "t"],
                             "source": ["records", "records", "records", "records", "dialogue"]}), p)
    assert published_records(p) == 2  # a and c: b has no task, d is not a record
    pq.write_table(pa.table({"source_record_hash": ["a", "b", "b"], "source": ["records"] * 3}), p)
    assert published_records(p) == 2
    pq.write_table(pa.table({"x": [1], "source": ["records"]}), p)
    assert published_records(p) is None  # no record key
    pq.write_table(pa.table({"source_record_hash": ["a"]}), p)
    assert published_records(p) is None  # no source column
    assert published_records(tmp_path / "missing.parquet") is None and published_records(None) is None


def test_parts_are_assembled_in_batch_order_with_fixed_row_groups_and_reasons_counted(tmp_path: Path,
                                                                                       monkeypatch) -> None:
    """`_assemble` streams the parts: kept rows in batch order, in row groups of `batch_rows`; the quarantine
    parts in order, in row groups of QUARANTINE_ROW_GROUP, with the rows per reason the manifest records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import cmedins.runner.runner as runner
    from cmedins.runner.worker import part_name
    from cmedins.stage import get_stage

    monkeypatch.setattr(runner, "QUARANTINE_ROW_GROUP", 4)
    parts = tmp_path / "stage" / "parts"
    parts.mkdir(parents=True)
    schema = runner.load_contract("quarantine").schema
    reasons = [["bad_date"] * 3 + ["missing_required"] * 2, [], ["bad_date"] * 4]
    for g, (n, why) in enumerate(zip([5, 0, 7], reasons, strict=True)):
        pq.write_table(pa.table({"x": list(range(g * 10, g * 10 + n))}, schema=pa.schema([("x", pa.int64())])),
                       parts / part_name("kept", g), row_group_size=2)
        rows = [{"stage": "s", "source": "f", "row": g * 10 + i, "key": None, "reason": r, "field": None,
                 "message": "m", "payload": None} for i, r in enumerate(why)]
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), parts / part_name("quarantine", g))
    kept_rows, quarantine = runner._assemble(get_stage("ingest"), tmp_path / "stage", 3, batch_rows=3)
    kept = pq.ParquetFile(tmp_path / "stage" / "kept.parquet")
    assert kept_rows == 12 and kept.read().column("x").to_pylist() == [0, 1, 2, 3, 4, 20, 21, 22, 23, 24, 25, 26]
    assert [kept.metadata.row_group(i).num_rows for i in range(kept.metadata.num_row_groups)] == [3, 3, 3, 3]
    q = pq.ParquetFile(tmp_path / "stage" / "quarantine.parquet")
    assert q.read().column("row").to_pylist() == [0, 1, 2, 3, 4, 20, 21, 22, 23]
    assert [q.metadata.row_group(i).num_rows for i in range(q.metadata.num_row_groups)] == [4, 4, 1]
    assert quarantine.rows == 9 and dict(quarantine.by_reason) == {"bad_date": 7, "missing_required": 2}


def test_a_tampered_cached_output_is_noticed_and_the_stage_rerun(tmp_path: Path) -> None:
    recipe, out = _recipe(tmp_path), tmp_path / "out"
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    first = {p.name: p.read_bytes() for p in (out / "output").glob("*.parquet")}
    kept = out / "work" / "ingest" / "kept.parquet"
    kept.write_bytes(kept.read_bytes() + b"tampered")
    assert main([str(recipe), "--out", str(out), "--quiet"]) == 0
    assert [s["cached"] for s in _report(out)["stages"]] == [False]  # recomputed, not served
    assert {p.name: p.read_bytes() for p in (out / "output").glob("*.parquet")} == first


@pytest.mark.parametrize("recorded", ["0" * 64, "f" * 64])
def test_an_output_whose_hash_differs_either_way_from_its_manifest_is_damaged(tmp_path: Path, recorded: str) -> None:
    from cmedins.runner.runner import OUTPUT_FILES, _damaged_output

    for name in OUTPUT_FILES:
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "side.json").write_bytes(b"{}")
    files = {name: file_sha256(tmp_path / name) for name in OUTPUT_FILES}
    side = {"side.json": file_sha256(tmp_path / "side.json")}
    assert _damaged_output(tmp_path, {"files": files, "side_files": side}) is None
    assert _damaged_output(tmp_path, {"files": {**files, OUTPUT_FILES[0]: recorded}}) == OUTPUT_FILES[0]
    assert _damaged_output(tmp_path, {"files": files, "side_files": {"side.json": recorded}}) == "side.json"
    (tmp_path / "side.json").unlink()
    assert _damaged_output(tmp_path, {"files": files, "side_files": side}) == "side.json"


def test_records_whose_rows_later_stages_all_left_out_count_as_quarantined(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    output = tmp_path / "o.parquet"
    keys = [f"r{i}" for i in range(85)]
    pq.write_table(pa.table({"source_record_hash": keys, "source": ["records"] * 85}), output)
    results = [_sr("ingest", 100, 97, 3), _sr("deid", 97, 95, 2),
               _sr("tasks", 95, 400, 0, fan_out=True, inputs_used=90, inputs_quarantined=5),
               _sr("clean", 400, 380, 20)]
    acc = record_accounting(results, output)
    assert (acc.published, acc.quarantined, acc.left_out_later) == (85, 15, 5) and acc.ok


def test_report_bars_scale_to_the_largest_count() -> None:
    from cmedins.runner.report import _bar_table

    rows = _bar_table({"b": 5, "a": 10, "c": 0}, width=30)
    assert rows[2] == f"| a | 10 | {'█' * 30} |" and rows[3] == f"| b | 5 | {'█' * 15} |"
    assert rows[4] == "| c | 0 |  |"
    assert _bar_table({"x": 1})[2] == f"| x | 1 | {'█' * 30} |"  # the default width
    assert _bar_table({"a": 1000, "b": 1})[3] == "| b | 1 | █ |"  # a count too small for a block still shows one


# -- seed-6 survivors (2026-11-30): which processes run a stage's batches, a whole-table stage that yields pieces,
# a cached stage's seconds, the default size of a synthetic source, an output with more records than were used ----

PROBE_MAP, PROBE_PIECES = "mut_probe_map", "mut_probe_pieces"


@dataclass(frozen=True)
class _ProbeOptions:
    """The probe stages take no options."""


def _probe_map(table: pa.Table, config: _ProbeOptions, ctx: StageContext) -> StageOutput:
    """Keeps every row; counts the batches by the `workers` their context was given."""
    return StageOutput(kept=table, stats={f"workers:{ctx.workers}": 1})


def _probe_pieces(table: pa.Table, config: _ProbeOptions, ctx: StageContext):
    """A whole-table stage that yields its output in two pieces (as dedup and mix do)."""
    half = table.num_rows // 2
    yield StageOutput(kept=table.slice(0, half), stats={f"workers:{ctx.workers}": 1})
    yield StageOutput(kept=table.slice(half))


for _name, _fn, _kind in ((PROBE_MAP, _probe_map, "map"), (PROBE_PIECES, _probe_pieces, "reduce")):
    try:
        get_stage(_name)
    except RegistryError:
        register_stage(_name, config=_ProbeOptions, kind=_kind)(_fn)


def _probe_run(tmp_path: Path, monkeypatch, name: str, workers: int) -> tuple[StageResult, list, list]:
    """Run probe stage `name` over a 6-row input in 3 row groups; return its result, the `workers` of each batch
    job run in the build process, and each pool the runner asked for as (pool workers, the jobs' workers)."""
    import cmedins.runner.runner as runner
    from cmedins.runner import worker

    inp = tmp_path / "in.parquet"
    pq.write_table(pa.table({"x": list(range(6))}), inp, row_group_size=2)
    inline, pools = [], []

    def run_batch(job):
        inline.append(job.workers)
        return worker.run_batch(job)

    def run_in_pool(bc, stage, jobs, task, workers):
        pools.append((workers, [j.workers for j in jobs]))
        for j in jobs:  # here, not in a spawn pool: the test needs only what the runner asked for
            worker.run_batch(j)

    monkeypatch.setattr(runner, "run_batch", run_batch)
    monkeypatch.setattr(runner, "_run_in_pool", run_in_pool)
    recipe = Recipe(path=tmp_path / "r.yaml", name="r", version="0", seed=0, batch_rows=2, workers=workers,
                    sources=[])
    bc = runner.BuildContext(recipe=recipe, out_dir=tmp_path / f"out-{name}-{workers}")
    upstream = _sr("up", 6, 6, 0, output=inp, output_sha256="up")
    result = runner.run_stage(bc, get_stage(name), {}, upstream, forced=False)
    assert pq.read_table(result.output).column("x").to_pylist() == list(range(6))
    return result, inline, pools


def test_with_one_worker_map_batches_run_in_the_build_process(tmp_path: Path, monkeypatch) -> None:
    """Kills runner.py `workers == 1 or len(todo) <= 1` -> `== 0` / `and`: with `workers: 1` the batches run one
    after another in the build process (no spawn pool to start), each job told it has one process."""
    result, inline, pools = _probe_run(tmp_path, monkeypatch, PROBE_MAP, workers=1)
    assert (inline, pools) == ([1, 1, 1], [])
    assert result.stats == {"workers:1": 3}


def test_map_jobs_get_one_process_and_a_whole_table_job_gets_the_recipes_workers(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    """Kills runner.py `workers=1 if stage.kind == "map" else bc.recipe.workers` -> `2 if` / `!=`: a map batch
    runs in one pool worker and must not start processes of its own; a whole-table stage's single job (in a
    one-process pool of its own when its input has several batches) gets the recipe's `workers`."""
    result, inline, pools = _probe_run(tmp_path, monkeypatch, PROBE_MAP, workers=3)
    assert (inline, pools) == ([], [(3, [1, 1, 1])])
    assert result.stats == {"workers:1": 3}
    result, inline, pools = _probe_run(tmp_path, monkeypatch, PROBE_PIECES, workers=3)
    assert (inline, pools) == ([], [(1, [3])])
    assert result.stats == {"workers:3": 1}


def test_a_whole_table_stage_may_yield_its_output_in_pieces(tmp_path: Path, monkeypatch) -> None:
    """Kills worker.py `parts / kept_name` -> `parts + kept_name` (the branch for a stage that yields pieces):
    the pieces are written, in order, into the batch's kept part and assembled into the stage's output."""
    result, inline, pools = _probe_run(tmp_path, monkeypatch, PROBE_PIECES, workers=1)
    assert (result.rows_in, result.kept, result.quarantined) == (6, 6, 0) and result.accounted
    assert pq.read_table(result.output).column("x").to_pylist() == list(range(6))


def test_a_cached_stage_reports_the_seconds_its_check_took(tmp_path: Path, monkeypatch) -> None:
    """Kills runner.py `time.perf_counter() - start` -> `* start` on the cached path: a cache hit reports the
    seconds between start and end of its check, not a product of two clock readings."""
    import types

    import cmedins.runner.runner as runner

    first, _, _ = _probe_run(tmp_path, monkeypatch, PROBE_MAP, workers=1)
    assert not first.cached
    clock = iter([1000.0, 1000.25])
    monkeypatch.setattr(runner, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    again, inline, _ = _probe_run(tmp_path, monkeypatch, PROBE_MAP, workers=1)
    assert again.cached and inline == [] and again.seconds == 0.25


def test_a_synthetic_source_has_2000_records_unless_the_recipe_says(tmp_path: Path, monkeypatch) -> None:
    """Kills sources.py `raw.get("records", 2000)` -> 1999 (and the other defaults of a synthetic source); the
    generator is replaced by a recorder: only the options it is asked for matter here."""
    import cmedins.synth
    from cmedins.runner.sources import resolve_source

    calls = []

    def generate(records, seed, out, **kw):
        calls.append((records, seed, kw))
        out.mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(cmedins.synth, "generate", generate)
    spec = resolve_source({"name": "s", "kind": "synthetic"}, tmp_path, workers=2)
    assert calls == [(2000, 0, {"corrupt_rate": 0.0, "fmt": "parquet", "encoding": "utf-8", "workers": 2})]
    assert spec == {"name": "s", "kind": "parquet", "path": str(tmp_path / "sources" / "s" / "records.parquet"),
                    "encoding": "utf-8"}
    resolve_source({"name": "s", "kind": "synthetic", "records": 2000}, tmp_path, workers=2)
    assert len(calls) == 1  # the same options: the generated source is reused
    resolve_source({"name": "s", "kind": "synthetic", "records": 1999}, tmp_path, workers=2)
    assert calls[1][0] == 1999


def test_an_output_with_more_records_than_the_fan_out_used_is_a_mismatch_that_keeps_the_quarantine(
        tmp_path: Path) -> None:
    """Kills report.py `max(later, 0)` -> `max(later, -1)`: when the final output holds one record more than the
    fan-out used (a bug upstream), the quarantine count stays what the stages quarantined and the check fails."""
    output = tmp_path / "o.parquet"
    keys = [f"r{i}" for i in range(91)]
    pq.write_table(pa.table({"source_record_hash": keys, "source": ["records"] * 91}), output)
    results = [_sr("ingest", 100, 97, 3), _sr("deid", 97, 95, 2),
               _sr("tasks", 95, 400, 0, fan_out=True, inputs_used=90, inputs_quarantined=5)]
    acc = record_accounting(results, output)
    assert (acc.published, acc.quarantined, acc.left_out_later) == (91, 10, -1) and not acc.ok


# -- seed-7 survivors (2026-12-01): the report folder, the pool's batches in flight, a batch run from a job built
# without a module, its seconds, and a resumed build's check of a finished batch -------------------------------


def test_write_report_creates_a_missing_report_folder_and_its_parents(tmp_path: Path) -> None:
    """Kills report.py `mkdir(parents=True)` -> `parents=False`: the report goes where it is asked to, folders
    created as needed."""
    from cmedins.runner.report import write_report

    report = {"recipe": {"name": "r", "version": "1", "seed": 0}, "code_version": "c", "seconds": 1.5,
              "sources_seconds": 0.0, "secret": "test", "output": "output/",
              "accounting": {"ok": True, "records_read": 2, "records_published": 2, "records_quarantined": 0},
              "stages": []}
    js, md = write_report(report, tmp_path / "new" / "report")
    assert json.loads(js.read_text(encoding="utf-8")) == report
    assert md.read_text(encoding="utf-8").startswith("# Build report: r 1")


def test_the_pool_runs_every_job_with_a_few_in_flight_per_worker(tmp_path: Path, monkeypatch) -> None:
    """Kills runner.py `len(pending) < 2 * workers` -> `== 2 * workers` / `< 2 % workers` in `_run_in_pool`: every
    job is submitted (the loop must not spin with nothing in flight) and at most two per worker wait at a time,
    so memory stays bounded and no worker idles. The spawn pool is replaced by one that finishes each job at once."""
    import threading
    from concurrent.futures import Future

    import cmedins.runner.runner as runner

    state = {"in_flight": 0, "most": 0, "ran": []}

    class _Done(Future):
        def result(self, timeout=None):
            state["in_flight"] -= 1
            return super().result(timeout)

    class _Pool:
        def __init__(self, max_workers, **kw):
            self.max_workers = max_workers

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def shutdown(self, **kw):
            pass

        def submit(self, fn, job):
            state["in_flight"] += 1
            state["most"] = max(state["most"], state["in_flight"])
            state["ran"].append(job)
            fut = _Done()
            fut.set_result(job)
            return fut

    monkeypatch.setattr(runner, "ProcessPoolExecutor", _Pool)
    recipe = Recipe(path=tmp_path / "r.yaml", name="r", version="0", seed=0, batch_rows=2, workers=2, sources=[])
    bc = runner.BuildContext(recipe=recipe, out_dir=tmp_path / "out")
    task = bc.progress.start(PROBE_MAP, total=11, unit="batches")
    t = threading.Thread(target=runner._run_in_pool, args=(bc, get_stage(PROBE_MAP), list(range(11)), task, 2),
                         daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "the pool loop never finished"
    assert state["ran"] == list(range(11)) and state["most"] == 4


def _probe_job(tmp_path: Path):
    from cmedins.runner.worker import BatchJob

    inp = tmp_path / "in.parquet"
    pq.write_table(pa.table({"x": list(range(6))}), inp, row_group_size=2)
    (tmp_path / "stage" / "parts").mkdir(parents=True)  # made by the runner before it runs a stage's batches
    return BatchJob(stage=PROBE_MAP, options={}, seed=0, secret=b"s", batch_rows=2, input_path=str(inp),
                    row_group=1, row_offset=2, stage_dir=str(tmp_path / "stage"))


def test_a_batch_job_without_a_module_runs_its_registered_stage_and_times_itself(tmp_path: Path,
                                                                               monkeypatch) -> None:
    """Kills worker.py `job.module and ... and job.module not in sys.modules` -> `or` (a job built without a module,
    the field's default, imports nothing) and `time.perf_counter() - start` -> `//` (a batch's seconds are the
    difference of two clock readings; here a fixed clock: 0.25 s)."""
    import types

    from cmedins.runner import worker

    clock = iter([1000.0, 1000.25])
    monkeypatch.setattr(worker, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    assert worker.run_batch(_probe_job(tmp_path)) == 1
    parts = tmp_path / "stage" / "parts"
    assert pq.read_table(parts / "kept-00001.parquet").column("x").to_pylist() == [2, 3]
    stats = json.loads((parts / "stats-00001.json").read_text(encoding="utf-8"))
    assert stats["seconds"] == 0.25 and stats["rows_in"] == 2


def test_a_finished_batch_is_found_done_and_a_damaged_one_is_not(tmp_path: Path) -> None:
    """Kills worker.py `parts / part_name("stats", i)` -> `parts >> ...` in `batch_done`: a resumed build reuses a
    batch whose stats file and parts are intact, and recomputes it once a part changes."""
    from cmedins.runner import worker

    worker.run_batch(_probe_job(tmp_path))
    parts = tmp_path / "stage" / "parts"
    done = worker.batch_done(parts, 1)
    assert done == json.loads((parts / "stats-00001.json").read_text(encoding="utf-8"))
    assert worker.batch_done(parts, 0) is None  # never run
    (parts / "quarantine-00001.parquet").write_bytes(b"damaged")
    assert worker.batch_done(parts, 1) is None


def test_a_worker_stays_while_its_build_process_lives_and_ends_when_it_is_gone(monkeypatch) -> None:
    """Kills worker.py `os.getppid() != parent_pid` -> `is not` in `exit_with_parent` (pids are ints above 256:
    equal, not identical) and `except (OSError, AttributeError)` -> another exception: without prctl (no libc)
    the worker still starts, watched by the polling thread. Nothing here ends the test process: `os._exit` and the
    thread are replaced by recorders."""
    import ctypes

    from cmedins.runner import worker

    exits, threads = [], []

    class _Thread:
        def __init__(self, target, args, name, daemon):
            threads.append(args)

        def start(self):
            pass

    def no_libc(*a, **kw):
        raise OSError("no libc here")

    monkeypatch.setattr(worker.threading, "Thread", _Thread)
    monkeypatch.setattr(worker.os, "_exit", exits.append)
    monkeypatch.setattr(worker.os, "getppid", lambda: int("40001"))  # a new int object per call, as for real pids
    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    worker.exit_with_parent(int("40001"), use_pdeathsig=True)
    assert exits == [] and threads == [(40001,)]
    worker.exit_with_parent(40002, use_pdeathsig=False)
    assert exits == [1]
