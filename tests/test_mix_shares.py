"""The mixture's shares survive the stages after `mix`: k-anonymity (and the gate's residual-identifier quarantine)
remove task rows, the other groups give up rows in proportion, and the gate fails a table whose published shares
are off the recipe's targets. Hand-written mixed rows; the whole default build is checked in test_mix_build."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from cmedins.contracts import load_contract
from cmedins.mix.shares import measure, rebalance, shares
from cmedins.runner.hashing import code_version
from cmedins.stage import StageContext
from cmedins.validate.stage import KanonConfig, ValidateConfig, ValidationFailed, kanon_stage, validate_stage

TARGETS = {"cmedins_tasks": 0.6, "dialogue_multi": 0.15, "dialogue_single": 0.15, "general_cot": 0.1}


def _row(i: int, group: str, split: str, user: str, tokens: int = 20, department: str | None = None) -> dict:
    task = group == "cmedins_tasks"
    return {"id": f"{group}-{i:04d}", "split": split, "source": "records" if task else f"demo_{group}",
            "source_group": group, "task": "triage" if task else None,
            "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": "建议就诊心血管内科。"}],
            "tools": None, "group_key": f"g-{group}-{i}", "record_key": f"r-{group}-{i}", "original_id": None,
            "licence": "Apache-2.0", "category": department, "num_turns": 1, "tokens": tokens, "piece": 0,
            "copy": 0, "deidentified": False}


def mixed(counts: dict[str, int], unique_departments: int = 0) -> pa.Table:
    """A mixed table (sft_row.v1) with `counts` rows per group, every tenth row in validation. Task rows state a
    patient (女，40岁) in one department; the first `unique_departments` of them sit alone in a department of their
    own, so k-anonymity can only quarantine them."""
    rows = []
    for group, n in counts.items():
        for i in range(n):
            split = "validation" if i % 10 == 0 else "train"
            if group == "cmedins_tasks":
                dept = f"科室{i}" if i < unique_departments else "心血管内科"
                rows.append(_row(i, group, split, f"患者信息：女，40岁。主诉：胸痛{i}天", department=dept))
            else:
                rows.append(_row(i, group, split, f"问题{i}：头痛怎么办？", tokens=10 + i % 7))
    return pa.Table.from_pylist(rows, schema=load_contract("sft_row").schema)


def _ctx(tmp_path: Path, stage: str, by: str = "examples", targets: dict[str, float] = TARGETS) -> StageContext:
    """A stage context in a build folder whose mix stage recorded `targets` (what kanon and the gate read)."""
    work = tmp_path / "out" / "work"
    (work / "mix").mkdir(parents=True, exist_ok=True)
    manifest = {"stage": "mix", "code_version": code_version(),
                "config": {"shares": targets, "by": by, "share_tolerance": 0.01}, "fan_out": True, "rows_in": 1,
                "inputs_used": 1, "inputs_quarantined": 0, "kept": 1, "quarantined": 0}
    (work / "mix" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (work / stage).mkdir(exist_ok=True)
    return StageContext(seed=3, workdir=work / stage, secret=b"test")


def _without(table: pa.Table, positions: list[int]) -> pa.Table:
    drop = set(positions)
    return table.filter(pa.array([i not in drop for i in range(table.num_rows)]))


def test_rebalance_restores_the_shares_and_keeps_the_group_that_lost_rows_whole() -> None:
    full = mixed({"cmedins_tasks": 600, "dialogue_multi": 150, "dialogue_single": 150, "general_cot": 100})
    lost = _without(full, list(range(0, 90)))  # 90 task rows gone (k-anonymity, residual identifiers...)
    assert shares(lost)["cmedins_tasks"] == pytest.approx(510 / 910)
    withheld = rebalance(lost, shares(full), "examples", seed=3)
    kept = _without(lost, withheld)
    assert measure(kept) == {"cmedins_tasks": 510, "dialogue_multi": 128, "dialogue_single": 128, "general_cot": 85}
    assert all(abs(shares(kept)[g] - t) < 0.001 for g, t in TARGETS.items())
    # withheld in every split in proportion: the validation share of each group stays one in ten
    df = pl.from_arrow(kept)
    assert isinstance(df, pl.DataFrame)
    for group, valid, total in (df.group_by("source_group")
                                  .agg((pl.col("split") == "validation").sum(), pl.len()).iter_rows()):
        assert abs(valid / total - 0.1) < 0.01, group
    # seeded: the same seed withholds the same rows, another seed others
    assert rebalance(lost, shares(full), "examples", seed=3) == withheld
    assert rebalance(lost, shares(full), "examples", seed=4) != withheld


def test_rebalance_by_tokens_lands_within_a_row_of_the_target() -> None:
    full = mixed({"cmedins_tasks": 600, "dialogue_multi": 150, "dialogue_single": 150, "general_cot": 100})
    lost = _without(full, list(range(0, 120)))
    kept = _without(lost, rebalance(lost, shares(full, "tokens"), "tokens", seed=3))
    for group, target in shares(full, "tokens").items():
        assert abs(shares(kept, "tokens")[group] - target) < 0.002, group
    assert measure(kept)["cmedins_tasks"] == 480  # every remaining task row kept


def test_rebalance_changes_nothing_when_nothing_was_lost() -> None:
    full = mixed({"cmedins_tasks": 60, "dialogue_multi": 15, "dialogue_single": 15, "general_cot": 10})
    assert rebalance(full, shares(full), "examples", seed=1) == []


def test_kanon_keeps_the_mixture_shares_and_accounts_for_every_row(tmp_path: Path) -> None:
    table = mixed({"cmedins_tasks": 120, "dialogue_multi": 30, "dialogue_single": 30, "general_cot": 20},
                  unique_departments=12)
    out = kanon_stage(table, KanonConfig(k=5), _ctx(tmp_path, "kanon"))
    reasons = pl.from_arrow(out.quarantined)["reason"].value_counts().sort("reason")  # type: ignore[index]
    assert dict(reasons.iter_rows()) == {"k_anonymity": 12, "rebalanced": 8}
    assert out.kept.num_rows + out.quarantined.num_rows == table.num_rows
    assert measure(out.kept) == {"cmedins_tasks": 108, "dialogue_multi": 27, "dialogue_single": 27,
                                 "general_cot": 18}
    withheld = [r for r in out.quarantined.to_pylist() if r["reason"] == "rebalanced"]
    assert all("keep the mixture's shares" in r["message"] for r in withheld)
    assert not any(r["key"].startswith("cmedins_tasks") for r in withheld)
    # without keep_shares the shares drift: the other groups keep every row
    plain = kanon_stage(table, KanonConfig(k=5, keep_shares=False), _ctx(tmp_path / "plain", "kanon"))
    assert measure(plain.kept)["dialogue_multi"] == 30


def test_gate_fails_a_table_whose_shares_are_off_target_and_prints_them(tmp_path: Path) -> None:
    on_target = mixed({"cmedins_tasks": 120, "dialogue_multi": 30, "dialogue_single": 30, "general_cot": 20})
    config = ValidateConfig(k=1, min_validation_share=0.0, max_validation_share=0.5)
    out = validate_stage(on_target, config, _ctx(tmp_path / "a", "validate"))
    assert out.stats["published_share_bp:cmedins_tasks:target"] == 6000
    assert out.stats["published_share_bp:cmedins_tasks:achieved"] == 6000
    off = _without(on_target, list(range(0, 10)))  # 110 / 190 = 57.9% task rows
    with pytest.raises(ValidationFailed, match=r"within 1\.0% of the recipe's target \[mixture_shares\]: 1 of 4 rows"):
        validate_stage(off, config, _ctx(tmp_path / "b", "validate"))


def test_rebalance_moves_the_validation_share_back_towards_what_it_was() -> None:
    full = mixed({"cmedins_tasks": 600, "dialogue_multi": 150, "dialogue_single": 150, "general_cot": 100})
    split = pl.from_arrow(full.select(["split"]))["split"]  # type: ignore[index]
    before = float(split.eq("validation").mean())

    def after(removed: list[int]) -> tuple[float, pl.DataFrame]:
        lost = _without(full, removed)
        kept = pl.from_arrow(_without(lost, rebalance(lost, shares(full), "examples", 3, validation_share=before)))
        assert isinstance(kept, pl.DataFrame)
        return float(kept["split"].eq("validation").mean()), kept

    # k-anonymity took train rows only: the other groups give up validation rows too, and the share is back
    share, kept = after([i for i in range(600) if i % 10 != 0][:90])
    assert abs(share - before) <= 1 / kept.height
    # it took validation rows only: the others give up train rows alone (the share cannot rise any further)
    share, kept = after([i for i in range(600) if i % 10 == 0][:40])
    assert kept.filter(pl.col("source_group") != "cmedins_tasks")["split"].eq("validation").sum() == 40
    assert all(abs(shares(kept.to_arrow())[g] - t) < 0.001 for g, t in TARGETS.items())
