"""Exact and near de-duplication (`cmedins/clean/dedup.py`) and the `dedup` stage: normalisation, edited copies,
distinct notes, survivors, determinism, accounting."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from test_clean_helpers import ctx, edit, task_rows

from cmedins.clean import minhash
from cmedins.clean.config import DedupConfig
from cmedins.clean.dedup import EXACT, NEAR, find_duplicates
from cmedins.clean.normalize import normalize_texts
from cmedins.contracts import TEXT_FIELDS
from cmedins.stage import collect, get_stage
from cmedins.synth import generate

NOTE = ("患者3天前受凉后出现咳嗽，咳白色黏痰，伴发热，最高体温38.6℃，无胸痛、咯血。"
        "自服布洛芬混悬液10ml后体温可降至正常，但反复。门诊查血常规：白细胞12.3×10^9/L，中性粒细胞82%。"
        "胸片示右下肺斑片影。为进一步诊治收入我科。发病以来精神、食欲欠佳，睡眠可，大小便正常，"
        "体重无明显变化。既往高血压病史5年，规律服用硝苯地平控释片30mg qd。")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """800 synthetic notes (free text joined) with the generator's planted exact and near duplicates."""
    out = tmp_path_factory.mktemp("dedup_corpus")
    generate(800, 23, out, workers=1)
    table = pq.read_table(out / "records.parquet")
    cols = [table.column(f).to_pylist() for f in TEXT_FIELDS]
    ids = table.column("record_id").to_pylist()
    texts = ["\n".join(c[i] or "" for c in cols) for i in range(len(ids))]
    truth = pq.read_table(out / "ground_truth" / "duplicates.parquet").to_pylist()
    return {"ids": ids, "texts": texts, "truth": truth}


def test_normalisation_folds_width_space_and_punctuation_but_never_numbers() -> None:
    a, b, c, d = normalize_texts(["阿司匹林１００ｍｇ， 口服。", "阿司匹林100mg口服", "阿司匹林10mg口服",
                                  "ＢＰ 120/80 mmHg；"])
    assert a == b != c
    assert d == "bp120/80mmhg"
    # separators inside a number sequence, a minus sign and a percent sign are part of the value
    assert len(set(normalize_texts(["2.5mg", "25mg", "2,5mg"]))) == 3
    assert normalize_texts(["120/80", "12080", "BE -3.2", "5%葡萄糖", "2023. 3. 13"]) == \
        ["120/80", "12080", "be-3.2", "5%葡萄糖", "2023.3.13"]


def test_exact_duplicates_after_normalisation_but_not_across_doses() -> None:
    texts = ["阿司匹林１００ｍｇ，口服，每日一次。", "阿司匹林100mg 口服 每日一次", "阿司匹林10mg口服每日一次",
             "阿司匹林100mg口服每日两次"]
    d = find_duplicates(["a", "b", "c", "d"], texts)
    assert d.reason == [None, EXACT, None, None]  # equal normalised length: the smaller id is kept
    assert d.survivor.tolist() == [0, 0, 2, 3]


def test_rows_of_different_groups_are_never_duplicates() -> None:
    d = find_duplicates(["a", "b", "c"], [NOTE, NOTE, NOTE], groups=["triage", "diagnosis", "triage"])
    assert d.reason == [None, None, EXACT]


@pytest.mark.parametrize("rate", [0.02, 0.05, 0.08, 0.10])
def test_scattered_edits_up_to_ten_percent_are_near_duplicates(rate: float) -> None:
    others = [NOTE.replace("咳嗽", "腹痛").replace("右下肺", "左上肺")[::-1], "完全不同的一段病历文字。" * 12]
    copy = edit(NOTE, rate, seed=int(rate * 1000))
    d = find_duplicates(["orig", "copy", "x", "y"], [NOTE, copy, *others])
    removed = d.removed.tolist()
    assert len(removed) == 1 and d.reason[removed[0]] == NEAR
    assert {removed[0], int(d.survivor[removed[0]])} == {0, 1}
    assert 0.5 <= d.similarity[removed[0]] < 1.0


def test_planted_duplicates_found_and_distinct_notes_kept(corpus: dict) -> None:
    d = find_duplicates(corpus["ids"], corpus["texts"], config=DedupConfig(workers=1))
    pos = {x: i for i, x in enumerate(corpus["ids"])}
    found = sum(d.survivor[pos[t["record_id_a"]]] == d.survivor[pos[t["record_id_b"]]] for t in corpus["truth"])
    assert found == len(corpus["truth"]) >= 30  # every planted exact and near (1-10 % edited) copy
    planted = {frozenset((pos[t["record_id_a"]], pos[t["record_id_b"]])) for t in corpus["truth"]}
    wrong = [i for i in d.removed.tolist() if frozenset((i, int(d.survivor[i]))) not in planted]
    assert wrong == []  # no distinct note removed


def test_survivor_is_deterministic_whatever_the_input_order() -> None:
    texts = [NOTE, edit(NOTE, 0.03, 1), NOTE + "继续观察。", edit(NOTE, 0.05, 2)]
    ids = ["n1", "n2", "n3", "n4"]
    d = find_duplicates(ids, texts)
    kept = {ids[i] for i in range(4) if d.survivor[i] == i}
    assert kept == {"n3"}  # the longest normalised text
    for seed in range(3):
        order = list(range(4))
        random.Random(seed).shuffle(order)
        e = find_duplicates([ids[i] for i in order], [texts[i] for i in order])
        assert {ids[order[i]] for i in range(4) if e.survivor[i] == i} == kept
    first = find_duplicates(ids, texts, config=DedupConfig(prefer="first"))
    assert {ids[i] for i in range(4) if first.survivor[i] == i} == {"n1"}


def test_a_chain_does_not_remove_rows_unlike_the_kept_one() -> None:
    """A~B and B~C but A and C unlike: with A kept, B goes, C stays (it duplicates nothing that is kept)."""
    a = NOTE
    b = a[len(a) // 3:] + "患者病情稳定，予以出院，门诊随访，按时复查血常规及胸片，继续口服药物治疗两周。"
    c = b[len(b) // 3:] + "出院后一周电话随访，患者无发热，咳嗽明显减轻，嘱继续休息，避免受凉，多饮水，清淡饮食。"
    cfg = DedupConfig(threshold=0.4, prefer="first")
    d = find_duplicates(["a", "b", "c"], [a, b, c], config=cfg)
    assert d.stats["similar_pairs"] == 2  # a~b and b~c, not a~c
    assert d.survivor.tolist() == [0, 0, 2] and d.similarity[1] >= 0.4


def test_signatures_are_datasketch_minhash_and_do_not_depend_on_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from datasketch import MinHash

    texts = normalize_texts([NOTE, edit(NOTE, 0.05, 3), "短", ""])
    sigs = minhash.signatures(texts, 3, 64, seed=7)
    codes, counts = minhash.shingle_codes(texts, 3)
    hashes = minhash.shingle_hash32(codes)
    starts = np.cumsum(counts) - counts
    for i in range(2):
        m = MinHash(num_perm=64, seed=7, scheme="affine32", hashfunc=lambda x: x)
        m.update_batch([int(h) for h in hashes[starts[i]:starts[i] + counts[i]]])
        assert np.array_equal(m.hashvalues, sigs[i])
    assert np.array_equal(MinHash(num_perm=64, seed=7, scheme="affine32").permutations,
                          np.stack(minhash.permutations(64, 7)))
    many = [edit(NOTE, 0.05, s) for s in range(60)]
    monkeypatch.setattr(minhash, "PARALLEL_MIN_DOCS", 10)
    monkeypatch.setattr(minhash, "CHUNK_DOCS", 7)
    assert np.array_equal(minhash.signatures(many, 3, 32, workers=2), minhash.signatures(many, 3, 32, workers=1))


def test_dedup_stage_quarantines_every_removed_row_with_the_kept_id(tmp_path: Path) -> None:
    shorter = NOTE[:-30].replace("咳白色", "咳黄色").replace("38.6", "38.9")
    rows = [{"query": NOTE, "answer": "诊断：社区获得性肺炎"},
            {"query": NOTE.replace("，", ", "), "answer": "诊断：社区获得性肺炎"},  # exact after normalisation
            {"query": shorter, "answer": "诊断：社区获得性肺炎"},  # near
            {"query": NOTE, "answer": "诊断：社区获得性肺炎", "task": "summary"},  # another task: kept
            {"query": "头痛2天", "answer": "诊断：偏头痛"}]
    table = task_rows([{**r, "id": f"r{i}"} for i, r in enumerate(rows)])
    stage = get_stage("dedup")
    out = collect(stage.fn(table, stage.make_config({}), ctx(tmp_path)))
    assert out.kept.num_rows + out.quarantined.num_rows == table.num_rows
    assert out.kept.column("query").to_pylist() == [NOTE, NOTE, "头痛2天"]
    q = out.quarantined.to_pylist()
    ids = table.column("id").to_pylist()
    assert [r["reason"] for r in q] == ["exact_duplicate", "near_duplicate"]
    for r in q:
        payload = json.loads(r["payload"])
        assert payload["duplicate_of"] == ids[0] and r["key"] in ids[1:3]
        assert ids[0] in r["message"] and "similarity" in r["message"] and "咳嗽" not in r["message"]
    assert out.stats["removed_by_task:diagnosis"] == 2 and out.stats["cluster_size:3"] == 1


def test_dedup_config_is_checked() -> None:
    with pytest.raises(ValueError, match="bands"):
        DedupConfig(bands=40, rows=4, num_perm=128)
    with pytest.raises(ValueError, match="similarity"):
        DedupConfig(similarity="cosine")


def test_dedup_reads_only_its_columns_and_whole_rows_batch_by_batch(tmp_path: Path) -> None:
    """Given only `Stage.columns` of the table (ids and groups, no text) and the input file (what the runner
    does), the stage writes the same rows, quarantine and counters as given the whole table."""
    rows = [{"query": NOTE + ("" if i % 3 else "。"), "answer": f"诊断：{'肺炎' if i % 2 else '支气管炎'}",
             "id": f"r{i}"} for i in range(9)]
    table = task_rows(rows)
    path = tmp_path / "input.parquet"
    pq.write_table(table, path, row_group_size=4)
    stage = get_stage("dedup")
    config = stage.make_config({})
    whole = collect(stage.fn(table, config, ctx(tmp_path)))
    projected = table.select(stage.columns(config))
    assert not set(config.text_fields) & set(projected.column_names)
    streamed = collect(stage.fn(projected, config, dataclasses.replace(ctx(tmp_path), input_path=path)))
    assert streamed.kept.equals(whole.kept) and streamed.quarantined.equals(whole.quarantined)
    assert streamed.stats == whole.stats and whole.quarantined.num_rows > 0


def test_a_missing_text_field_is_one_clear_error_however_the_stage_is_given_its_input(tmp_path: Path) -> None:
    table = task_rows([{"query": NOTE, "answer": "诊断：肺炎", "id": "r0"}])
    path = tmp_path / "input.parquet"
    pq.write_table(table, path)
    stage = get_stage("dedup")
    config = stage.make_config({"text_fields": ["query", "no_such_field"]})
    with pytest.raises(ValueError, match="dedup: input has no column"):
        collect(stage.fn(table, config, ctx(tmp_path)))
    with pytest.raises(ValueError, match="dedup: input has no column"):
        collect(stage.fn(table.select(stage.columns(config)), config,
                         dataclasses.replace(ctx(tmp_path), input_path=path)))
