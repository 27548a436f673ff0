"""The `mix` stage: shares within a point of the targets, every task row accounted for, deterministic bytes, splits
grouped by patient and dialogue with a leakage check, the token budget, and the identifier screen of external
texts. Runs the stage function on small hand-made task tables (no build), so each test takes about a second."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xxhash

import cmedins.mix.stage as mix_stage_module
from cmedins.contracts import load_contract
from cmedins.mix.budget import split_turns
from cmedins.mix.sample import largest_remainder
from cmedins.mix.stage import mix_columns, mix_files
from cmedins.parquet_io import write_table
from cmedins.stage import StageContext, StageError, StageOutput, collect, get_stage

TASKS = ("event_extraction", "triage", "diagnosis", "diagnosis_normalization", "medication", "summary")
SEED = 20240521
SMALL_SOURCES = [
    {"name": "chat", "generate": "chatmed", "rows": 120, "group": "dialogue_single", "licence": "gen"},
    {"name": "multi", "generate": "cmtmedqa", "rows": 120, "group": "dialogue_multi", "licence": "gen"},
    {"name": "cot", "generate": "cot", "rows": 60, "group": "general_cot", "licence": "gen"},
    {"name": "code", "generate": "code", "rows": 60, "group": "general_code", "licence": "gen"},
    {"name": "wiki", "generate": "wiki", "rows": 60, "group": "general_wiki", "licence": "gen"},
]


def task_table(records: int = 150, patient_key: bool = True, long_rows: int = 0) -> pa.Table:
    """Task rows as the tasks stage writes them (the columns mix reads): six tasks per record, two records per
    patient; `long_rows` rows with a query far over the token budget."""
    rows = []
    for r in range(records):
        rec = f"rec{r:04d}"
        for t in TASKS:
            query = f"病历{r}：患者咳嗽{r % 7 + 1}天，{t}。"
            if len(rows) < long_rows:
                query += "很长的病历记录。" * 700
            rows.append({"id": xxhash.xxh3_128_hexdigest(f"{rec}/{t}".encode()), "task": t, "source": "records",
                         "source_record_hash": rec, "patient_key": f"pat{r // 2:04d}", "department": "呼吸内科",
                         "messages": [{"role": "user", "content": query},
                                      {"role": "assistant", "content": f"答案{r}-{t}"}]})
    table = pa.Table.from_pylist(rows)
    return table if patient_key else table.drop_columns(["patient_key"])


def run(table: pa.Table, workdir: Path, seed: int = SEED, **options) -> StageOutput:
    stage = get_stage("mix")
    config = stage.make_config({"sources": SMALL_SOURCES, **options})
    return collect(stage.fn(table, config, StageContext(seed=seed, workdir=workdir, secret=b"test-secret" * 3)))


def frame(out: StageOutput) -> pl.DataFrame:
    df = pl.from_arrow(out.kept)
    assert isinstance(df, pl.DataFrame)
    return df


def shares(out: StageOutput, group: str) -> tuple[int, int]:
    return out.stats[f"share_bp:{group}:target"], out.stats[f"share_bp:{group}:achieved"]


def test_default_shares_are_met_and_every_task_row_is_accounted_for(tmp_path: Path) -> None:
    table = task_table()
    out = run(table, tmp_path)
    assert out.kept.schema.equals(load_contract("sft_row").schema, check_metadata=False)
    for group in ("cmedins_tasks", "dialogue_single", "dialogue_multi", "general_cot", "general_code",
                  "general_wiki"):
        target, achieved = shares(out, group)
        assert abs(target - achieved) <= 100, group  # within one percentage point
    assert out.stats["shares_within_tolerance"] == 1
    df = frame(out)
    single, multi = (df.filter(pl.col("source_group") == g).height for g in ("dialogue_single", "dialogue_multi"))
    assert single == multi  # the paper's 1:1
    assert out.inputs_used + out.inputs_quarantined == table.num_rows
    assert out.inputs_used == df.filter(pl.col("task").is_not_null())["original_id"].n_unique()
    q = pl.from_arrow(out.quarantined)
    task_q = q.filter(pl.col("source") == "task_row")
    assert task_q.height == out.inputs_quarantined == out.stats["quarantined:sampled_out"]
    assert task_q["payload"].null_count() == task_q.height  # a sampled-out row is still in the task table
    for name in ("chat", "multi", "cot", "code", "wiki"):
        refused = sum(v for k, v in out.stats.items() if k.startswith(f"source_quarantined:{name}:"))
        assert out.stats[f"source_rows:{name}"] == out.stats.get(f"source_used:{name}", 0) + refused
    assert df["id"].n_unique() == df.height and df["tokens"].max() <= 4096
    assert out.stats["task_records_in"] == 150
    assert out.stats["task_records_published"] + out.stats["task_records_left_out"] == 150
    assert set(df.filter(pl.col("task").is_null())["licence"]) == {"gen"}


def test_same_inputs_and_seed_give_the_same_bytes_whatever_the_row_order(tmp_path: Path) -> None:
    table = task_table()
    shuffled = table.take(random.Random(3).sample(range(table.num_rows), table.num_rows))
    paths = []
    for i, t in enumerate((table, shuffled, table)):
        out = run(t, tmp_path / f"w{i}")
        paths.append(tmp_path / f"kept{i}.parquet")
        write_table(out.kept, paths[-1])
    assert paths[0].read_bytes() == paths[1].read_bytes() == paths[2].read_bytes()
    other = run(table, tmp_path / "w3", seed=SEED + 1)
    assert set(frame(other)["id"]) != set(pl.read_parquet(paths[0])["id"])


def test_texts_read_batch_by_batch_and_written_bucket_by_bucket_give_the_same_rows(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """As the runner calls it on a large input: only the provenance columns in memory, the messages read from the
    input file row group by row group, the output in several sorted buckets: the same rows, quarantine and figures
    as the whole table in one bucket, and no bucket file left behind."""
    table = task_table()
    whole = run(table, tmp_path / "whole")
    monkeypatch.setattr(mix_stage_module, "BUCKET_ROWS", 97)
    path = tmp_path / "in.parquet"
    pq.write_table(table, path, row_group_size=64)
    projected = table.select([c for c in mix_columns(None) if c in table.column_names])
    assert "messages" not in projected.column_names
    stage = get_stage("mix")
    ctx = StageContext(SEED, tmp_path / "streamed", b"test-secret" * 3, batch_rows=64, input_path=path)
    pieces = list(stage.fn(projected, stage.make_config({"sources": SMALL_SOURCES}), ctx))
    assert len(pieces) == -(-whole.kept.num_rows // 97) > 1
    streamed = collect(pieces)
    assert streamed.kept.equals(whole.kept) and streamed.quarantined.equals(whole.quarantined)
    assert streamed.stats == whole.stats and streamed.inputs_used == whole.inputs_used
    assert not (tmp_path / "streamed" / "mix-buckets").exists()
    given = {r["id"]: r["messages"] for r in table.select(["id", "messages"]).to_pylist()}
    published = frame(streamed).filter(pl.col("task").is_not_null()).select("original_id", "messages").to_dicts()
    assert published and all(r["messages"] == given[r["original_id"]] for r in published)


@pytest.mark.parametrize("patient_key", [True, False])
def test_splits_are_grouped_stratified_and_leak_free(tmp_path: Path, patient_key: bool) -> None:
    out = run(task_table(records=300, patient_key=patient_key), tmp_path)
    df = frame(out)
    assert out.stats["leaked_group_keys"] == out.stats["leaked_record_keys"] == out.stats["leaked_original_ids"] == 0
    per_group = df.group_by("group_key").agg(pl.col("split").n_unique())
    assert per_group["split"].max() == 1
    if patient_key:  # both records of a patient on the same side
        assert df.filter(pl.col("task").is_not_null())["group_key"].str.starts_with("pat").all()
        patients = df.filter(pl.col("task").is_not_null()).group_by("group_key").agg(pl.col("record_key").n_unique())
        assert patients["record_key"].max() == 2
    fraction = out.stats["split_rows:validation"] / df.height
    assert 0.08 <= fraction <= 0.12
    for key, bp in out.stats.items():
        if key.startswith("validation_bp:"):
            assert 500 <= bp <= 1600, key  # every stratum near 10% (small strata round to whole groups)


def test_long_dialogues_split_at_turn_boundaries_or_drop(tmp_path: Path) -> None:
    turn = "我最近总是头疼，想问一下该怎么办？" * 30  # ~500 approximate tokens
    dialogues = [
        {"messages": [{"role": "system", "content": "你是医生。"}]
         + [m for _ in range(6) for m in ({"role": "user", "content": turn}, {"role": "assistant", "content": turn})]},
        {"messages": [{"role": "user", "content": turn * 8}, {"role": "assistant", "content": "好的。"}]},
        *({"messages": [{"role": "user", "content": f"问题{i}"}, {"role": "assistant", "content": "回答"}]}
          for i in range(40)),
        *({"messages": [{"role": "user", "content": f"问题{i}"}, {"role": "assistant", "content": "回答"},
                        {"role": "user", "content": "还有呢？"}, {"role": "assistant", "content": "没有了"}]}
          for i in range(10)),
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dialogues), encoding="utf-8")
    sources = [{"name": "d", "path": str(path), "group": "dialogue", "licence": "test"}]
    shares = {"cmedins_tasks": 0.5, "dialogue_single": 0.25, "dialogue_multi": 0.25}
    stage = get_stage("mix")
    for mode in ("split", "drop"):
        config = stage.make_config({"sources": sources, "shares": shares, "token_budget": 2500, "long_dialogues": mode,
                                    "upsample": {"dialogue_multi": 20}})
        ctx = StageContext(SEED, tmp_path / mode, b"k" * 32)
        out = collect(stage.fn(task_table(records=10, long_rows=2), config, ctx))
        df, q = frame(out), pl.from_arrow(out.quarantined)
        reasons = dict(q.group_by("reason").len().iter_rows())
        assert out.stats["quarantined:over_token_budget"] == 2  # task rows are one turn: dropped
        assert df["tokens"].max() <= 2500
        if mode == "split":
            pieces = df.filter(pl.col("piece") > 0)
            assert sorted(set(pieces["piece"])) == [1, 2, 3]
            assert all(m[0]["role"] == "system" and m[1]["role"] == "user" and m[-1]["role"] == "assistant"
                       for m in pieces["messages"].to_list())
            assert pieces["group_key"].n_unique() == 1 and pieces["split"].n_unique() == 1
            assert out.stats["source_quarantined:d:turn_over_token_budget"] == 1  # the single 4000-token turn
            assert reasons["turn_over_token_budget"] == 1
        else:
            assert df.filter(pl.col("piece") > 0).height == 0
            assert out.stats["source_quarantined:d:over_token_budget"] == 2


def test_split_turns() -> None:
    roles = ["system", "user", "assistant", "user", "assistant", "tool", "assistant", "user", "assistant"]
    # the system message repeats in every piece; a tool call stays inside its turn
    assert split_turns(roles, [10, 20, 20, 20, 20, 20, 20, 20, 20], 100) == [[0, 1, 2], [0, 3, 4, 5, 6], [0, 7, 8]]
    assert split_turns(roles, [10, 20, 20, 20, 20, 20, 20, 20, 20], 200) == [list(range(9))]
    assert split_turns(roles, [10, 20, 20, 20, 20, 20, 20, 200, 20], 100) is None


def _chat_file(tmp_path: Path) -> Path:
    rows = [{"query": f"我咳嗽{i}天了，我的手机号是1391234{i:04d}，怎么办？", "response": "建议就医。"}
            for i in range(30)]
    rows += [{"query": "我叫王建国，头疼两天了。", "response": "多休息。"}]
    rows += [{"query": f"孩子发烧{i}天，需要吃药吗？", "response": "先物理降温。"} for i in range(120)]
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["deid", "quarantine", "keep", "deid_all"])
def test_identifier_screen(tmp_path: Path, mode: str) -> None:
    sources = [{"name": "chat", "path": str(_chat_file(tmp_path)), "group": "dialogue_single", "licence": "t",
                "identifiers": mode}]
    stage = get_stage("mix")
    config = stage.make_config({"sources": sources, "shares": {"cmedins_tasks": 0.2, "dialogue_single": 0.8}})
    out = collect(stage.fn(task_table(records=30), config, StageContext(SEED, tmp_path / "w", b"k" * 32)))
    df = frame(out)
    texts = " ".join(m["content"] for msgs in df["messages"].to_list() for m in msgs)
    assert out.stats["residual_rows:chat"] == 30  # the scan flags the phone numbers, not the bare name
    phones = len(re.findall(r"1391234\d{4}", texts))
    if mode in ("deid", "deid_all"):
        assert phones == 0 and out.stats["deidentified_rows:chat"] >= 30
        assert df.filter(pl.col("deidentified")).height >= 30 and "[电话]" in texts
        assert ("王建国" in texts) == (mode == "deid")  # only de-identifying every row catches an unflagged name
    elif mode == "quarantine":
        assert phones == 0 and out.stats["source_quarantined:chat:identifier_found"] == 30
        q = pl.from_arrow(out.quarantined).filter(pl.col("reason") == "identifier_found")
        assert not q["message"].str.contains("1391234").any() and q["payload"].str.contains("1391234").all()
    else:
        assert phones == 30 and out.stats["residual_kept:chat"] == 30


def test_token_shares(tmp_path: Path) -> None:
    out = run(task_table(), tmp_path, by="tokens")
    for group in ("cmedins_tasks", "dialogue_single", "dialogue_multi", "general_cot"):
        target, achieved = shares(out, group)
        assert abs(target - achieved) <= 100, group
    df = frame(out)
    total = df["tokens"].sum()
    assert abs(df.filter(pl.col("source_group") == "cmedins_tasks")["tokens"].sum() / total - 0.6) <= 0.01


def test_upsampling_and_caps(tmp_path: Path) -> None:
    out = run(task_table(), tmp_path, upsample={"general_wiki": 3}, total=2000,
              shares={"cmedins_tasks": 0.5, "dialogue_single": 0.05, "dialogue_multi": 0.05, "general_cot": 0.03,
                      "general_code": 0.02, "general_wiki": 0.35})
    df = frame(out)
    wiki = df.filter(pl.col("source_group") == "general_wiki")
    assert wiki["copy"].max() == 2 and out.stats["upsampled:general_wiki"] == wiki.filter(pl.col("copy") > 0).height
    once = wiki.filter(pl.col("copy") == 1)["original_id"].implode()
    assert wiki.filter(pl.col("copy") == 2)["original_id"].is_in(once).all()  # copy 2 only after copy 1
    assert df["id"].n_unique() == df.height
    assert wiki.group_by("original_id").agg(pl.col("split").n_unique())["split"].max() == 1
    capped = run(task_table(), tmp_path / "c", caps={"cmedins_tasks": 100})
    assert capped.stats["group_rows:cmedins_tasks"] <= 100
    assert abs(capped.stats["share_bp:cmedins_tasks:achieved"] - 6000) <= 100


@pytest.mark.parametrize("options, match", [
    ({"shares": {"cmedins_tasks": 1.0}}, "without a share"),
    ({"shares": {"cmedins_tasks": 0.5, "dialogue_single": 0.2, "dialogue_multi": 0.2, "general_cot": 0.05,
                 "general_code": 0.05, "general_wiki": 0.0, "pretraining": 0.1}}, "no source feeds"),
    ({"by": "bytes"}, "by must be one of"),
    ({"validation_fraction": 1.5}, "validation_fraction"),
    ({"upsample": {"general_cot": 0.5}}, "upsample"),
    ({"deid": {"mode": "erase"}}, "deid: mode"),
    ({"tokens": {"per_emoji": 3}}, "unknown token weight"),
    ({"sources": [SMALL_SOURCES[0], SMALL_SOURCES[0]]}, "two sources"),
])
def test_config_errors_are_one_line(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match) as err:
        get_stage("mix").make_config({"sources": SMALL_SOURCES, **options})
    assert "\n" not in str(err.value)


def test_a_group_without_rows_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"query": "", "response": ""}\n', encoding="utf-8")
    sources = [*SMALL_SOURCES[:4], {"name": "wiki", "path": str(empty), "format": "chatmed",
                                     "group": "general_wiki"}]
    with pytest.raises(StageError, match="general_wiki have a target share but no rows"):
        run(task_table(records=20), tmp_path, sources=sources)
    config = get_stage("mix").make_config({"sources": sources})
    assert mix_files(config) == [empty]
    gone = get_stage("mix").make_config({"sources": [*SMALL_SOURCES[:4], {**sources[-1], "path": "nope.jsonl"}]})
    with pytest.raises(StageError, match="no such file"):
        mix_files(gone)


def test_largest_remainder_sums_exactly() -> None:
    counts = largest_remainder({"a": 0.6, "b": 0.15, "c": 0.15, "d": 0.04, "e": 0.03, "f": 0.03}, 1001)
    assert sum(counts.values()) == 1001 and counts["a"] == 601


def test_real_public_sources_mix(realdata: Path, tmp_path: Path) -> None:
    sources = [
        {"name": "cmtmedqa", "path": str(realdata / "CMtMedQA_test" / "CMtMedQA_test.json"), "group": "dialogue",
         "licence": "Apache-2.0; research only"},
        {"name": "chatmed", "path": str(realdata / "ChatMed_Consult" / "corpus_191_hpc.jsonl"),
         "group": "dialogue_single", "licence": "research only", "max_rows": 1500},
        {"name": "alpaca", "path": str(realdata / "alpaca_zh_demo" / "alpaca_zh_demo.json"),
         "group": "general_wiki", "licence": "CC-BY-NC-4.0"},
        {"name": "cot", "path": str(realdata / "AlpacaCoT_cot_en" / "aqua_train.json"), "group": "general_cot",
         "unescape_newlines": True, "licence": "ODC-By", "max_rows": 600, "identifiers": "keep"},
        {"name": "glaive", "path": str(realdata / "glaive_toolcall_zh_demo" / "glaive_toolcall_zh_demo.json"),
         "group": "general_code", "licence": "Apache-2.0"},
    ]
    out = run(task_table(records=400), tmp_path, sources=sources)
    df = frame(out)
    assert out.stats["shares_within_tolerance"] == 1 and out.stats["leaked_group_keys"] == 0
    assert out.stats["source_rows:chatmed"] == 1500 and out.stats["source_rows:cot"] == 600
    assert out.stats["residual_rows:chatmed"] > 20 and out.stats["deidentified_rows:chatmed"] > 20
    # numbers in English math trip the strict scan; `keep` leaves that source's text alone and only counts them
    assert out.stats["residual_kept:cot"] == out.stats["residual_rows:cot"] > 0
    assert "deidentified_rows:cot" not in out.stats
    texts = [m["content"] for msgs in df.filter(pl.col("source") == "chatmed")["messages"].to_list() for m in msgs]
    assert not any(re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", t) for t in texts)
    assert df.filter(pl.col("source") == "glaive")["tools"].drop_nulls().len() > 0
    assert set(df["licence"]) >= {"Apache-2.0; research only", "ODC-By"}
