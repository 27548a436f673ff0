"""Publishing end to end on one small build of the default recipe: the folder loads offline with `datasets`,
rebuilds byte-identically, a planted identifier or broken row stops the build and leaves the previous version,
the task rows alone publish with a patient split, the Hub push goes through one mocked seam, and diff reports
what changed. The build runs once (module fixture); the other builds rerun only the stages after `mix`."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import REPO, write_recipe

from cmedins.build import main as build
from cmedins.publish import hub
from cmedins.publish.__main__ import main as publish_cli
from cmedins.publish.diff import diff_versions, load_version, resolve
from cmedins.publish.release import staged
from cmedins.stage import StageContext, StageOutput, register_stage

PHONE = "13987654321"
MY_STAGES = ("kanon", "validate_rows", "validate", "publish")


def _name(step: Any) -> str:
    return step if isinstance(step, str) else next(iter(step))


def _recipe(path: Path, stages: list | None = None) -> Path:
    """The default recipe on 150 synthetic records, one worker (no process pool), k = 2 (a tiny corpus)."""
    default = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    steps = []
    for step in stages if stages is not None else default["stages"]:
        if _name(step) == "kanon":
            step = {"kanon": {"k": 2}}
        steps.append(step)
    return write_recipe(path, sources=[{"name": "synthetic", "kind": "synthetic", "records": 150, "seed": 11}],
                        batch_rows=100, workers=1, stages=steps)


def _copy_work(src: Path, dst: Path, with_dataset: bool = False) -> Path:
    """A new build folder holding `src`'s cached stages (so a rebuild reruns only what changed)."""
    shutil.copytree(src / "work", dst / "work")
    if with_dataset:
        shutil.copytree(src / "dataset", dst / "dataset")
    return dst


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pub") / "a"
    recipe = _recipe(out.parent / "recipe.yaml")
    assert build([str(recipe), "--out", str(out), "--quiet"]) == 0
    return out


def test_published_folder_loads_offline_with_splits_and_features(built: Path, tmp_path: Path) -> None:
    import datasets

    folder = built / "dataset"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {"sft", "triage", "diagnosis", "medication", "summary", "event_extraction",
            "diagnosis_normalization", "dpo"} <= set(manifest["configs"])
    for config, splits in manifest["configs"].items():
        ds = datasets.load_dataset(str(folder), config, cache_dir=str(tmp_path / "cache"))
        assert set(ds) == set(splits) == {"train", "validation"}
        shard = pq.read_schema(folder / splits["train"]["files"][0])
        assert list(ds["train"].features) == shard.names
        conversation = "prompt" if config == "dpo" else "messages"  # dpo: trl's prompt / chosen / rejected
        assert ds["train"].features[conversation].feature["role"].dtype == "string"
        assert {s: ds[s].num_rows for s in ds} == {s: v["rows"] for s, v in splits.items()}
    assert "group_key" not in shard.names and "split" not in shard.names  # never published
    # LLaMA-Factory's loader for a `script_url: "."` entry is load_dataset(<dataset_dir>/., subset, split)
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    entry = info["cmedins_triage_validation"]
    assert entry["formatting"] == "sharegpt" and entry["columns"]["messages"] == "messages"
    ds = datasets.load_dataset(os.path.join(folder, entry["script_url"]), entry["subset"], split=entry["split"],
                               cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == manifest["configs"]["triage"]["validation"]["rows"]


def test_card_front_matter_plots_and_template(built: Path) -> None:
    card = (built / "dataset" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "${" not in card
    front = yaml.safe_load(card.split("---\n")[1])
    assert [c["config_name"] for c in front["configs"]][0] == "sft" and front["configs"][0]["default"] is True
    assert front["license"] == "other" and "zh" in front["language"] and "synthetic" in front["tags"]
    for plot in ("tasks", "departments", "lengths", "kanon"):
        assert f"(plots/{plot}.svg)" in card
        ET.parse(built / "dataset" / "plots" / f"{plot}.svg")  # well-formed SVG
    for needle in ("Safe Harbor", "k = 2", "Consent and ethics review", "First version", "manifest.json"):
        assert needle in card
    packaged = REPO / "cmedins" / "publish" / "data" / "cmedins.md"
    assert (REPO / "data_cards" / "cmedins.md").read_bytes() == packaged.read_bytes()


def test_two_builds_publish_identical_bytes(built: Path, tmp_path: Path) -> None:
    out = _copy_work(built, tmp_path / "b")
    assert build([str(_recipe(tmp_path / "recipe.yaml")), "--out", str(out), "--quiet", "--force", "kanon"]) == 0
    a, b = _files(built / "dataset"), _files(out / "dataset")
    assert a.keys() == b.keys() and any(k.startswith("data/") for k in a)
    assert [k for k in a if a[k] != b[k]] == []
    manifest = json.loads(b["manifest.json"])
    for rel, meta in manifest["files"].items():
        assert meta["sha256"] and (out / "dataset" / rel).stat().st_size == meta["bytes"]
    assert manifest["version"] == "0.1.0" and manifest["deid"]["safe_harbor_dates"] is True
    assert manifest["sources"][0]["sha256"] and manifest["build_key"]


@dataclass
class PlantConfig:
    """Test stage options: none."""


@register_stage("plant_fault", config=PlantConfig, kind="reduce")
def plant_fault(table: pa.Table, config: PlantConfig, ctx: StageContext) -> StageOutput:
    """Plant a phone number in an answer and break another row's conversation (dialogue rows)."""
    rows = table.to_pylist()
    first, second = [i for i, r in enumerate(rows) if r["task"] is None][:2]
    rows[first]["messages"][-1]["content"] += f"（家属电话 {PHONE}）"
    rows[second]["messages"] = [{"role": "assistant", "content": "您好"}, *rows[second]["messages"]]
    return StageOutput(kept=pa.Table.from_pylist(rows, schema=table.schema))


def test_planted_identifier_and_broken_row_stop_the_build_and_keep_the_old_version(
        built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _copy_work(built, tmp_path / "c", with_dataset=True)
    before = _files(out / "dataset")
    default = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))["stages"]
    stages: list = []
    for step in default:
        if _name(step) == "validate":  # after kanon, which may withhold dialogue rows to keep the shares
            stages.append("plant_fault")
        stages.append({"validate": {"pii": "stop"}} if _name(step) == "validate" else step)
    capsys.readouterr()
    assert build([str(_recipe(tmp_path / "recipe.yaml", stages)), "--out", str(out), "--quiet"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "validation failed, nothing published" in err
    assert "[residual_pii]: 1 of" in err and "[messages_well_formed]: 1 of" in err and "e.g." in err
    assert PHONE not in err
    assert _files(out / "dataset") == before  # the previous version is untouched
    result = (out / "work" / "validate" / "validation.json").read_text(encoding="utf-8")
    assert '"passed": false' in result and PHONE not in result
    assert not list(out.glob(".dataset.*"))


def test_task_rows_alone_publish_as_sft_with_a_patient_split(built: Path, tmp_path: Path) -> None:
    out = _copy_work(built, tmp_path / "d")
    stages = ["deid", {"tasks": {"english_fraction": 0.1, "event_sentences": 2}}, {"kanon": {"k": 2}},
              "validate_rows", "validate", {"publish": {"version": "0.2.0"}}]
    assert build([str(_recipe(tmp_path / "recipe.yaml", stages)), "--out", str(out), "--quiet"]) == 0
    tasks = pq.read_table(out / "work" / "tasks" / "kept.parquet", columns=["id", "patient_key"]).to_pylist()
    patient = {r["id"]: r["patient_key"] for r in tasks}
    split_of: dict[str, set[str]] = {}
    rows = 0
    for split in ("train", "validation"):
        for path in (out / "dataset" / "data" / "sft").glob(f"{split}-*.parquet"):
            t = pq.read_table(path)
            assert "patient_key" not in t.column_names and "answer_format" in t.column_names
            rows += t.num_rows
            for rid in t.column("id").to_pylist():
                split_of.setdefault(patient[rid], set()).add(split)
    assert all(len(s) == 1 for s in split_of.values())  # no patient in both splits
    validation = sum(1 for s in split_of.values() if s == {"validation"})
    assert 0.03 < validation / len(split_of) < 0.2
    manifest = json.loads((out / "dataset" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["split"]["method"].startswith("by patient_key") and manifest["version"] == "0.2.0"
    assert sum(s["rows"] for s in manifest["configs"]["sft"].values()) == rows


def test_a_failed_write_leaves_the_previous_version(tmp_path: Path) -> None:
    with staged(tmp_path, "dataset") as tmp:
        (tmp / "v1.txt").write_text("one")
    with pytest.raises(RuntimeError), staged(tmp_path, "dataset") as tmp:
        (tmp / "v2.txt").write_text("two")
        raise RuntimeError("killed while writing")
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]
    assert (tmp_path / "dataset" / "v1.txt").read_text() == "one"
    # a kill between the two renames leaves the old version aside: the next publish puts it back first
    os.replace(tmp_path / "dataset", tmp_path / ".dataset.old-123")
    with staged(tmp_path, "dataset") as tmp:
        assert (tmp_path / "dataset" / "v1.txt").exists()
        (tmp / "v3.txt").write_text("three")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset"]
    assert (tmp_path / "dataset" / "v3.txt").exists()


class FakeHub:
    """Records the calls a push makes; the one seam between cmedins and the network."""

    def __init__(self, tags: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.tags = tags

    def create_repo(self, **kw: Any) -> None:
        self.calls.append(("create_repo", kw))

    def create_branch(self, **kw: Any) -> None:
        self.calls.append(("create_branch", kw))

    def list_repo_refs(self, **kw: Any) -> Any:
        self.calls.append(("list_repo_refs", kw))
        return type("Refs", (), {"tags": [type("Ref", (), {"name": t})() for t in self.tags]})()

    def upload_folder(self, **kw: Any) -> Any:
        self.calls.append(("upload_folder", kw))
        return type("CommitInfo", (), {"oid": "abc123def4567890"})()

    def create_tag(self, **kw: Any) -> None:
        self.calls.append(("create_tag", kw))


def test_push_is_one_upload_and_a_tag_and_dry_run_sends_nothing(built: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = built / "dataset"
    fake = FakeHub()
    commit = hub.push(hub.plan(folder, "org/cmedins", revision="v0.1", private=True), api=fake)
    assert commit == "abc123def4567890"
    names = [c[0] for c in fake.calls]
    assert names == ["create_repo", "create_branch", "list_repo_refs", "upload_folder", "create_tag"]
    upload = dict(fake.calls)["upload_folder"]
    assert upload["folder_path"] == str(folder) and upload["repo_type"] == "dataset" and upload["revision"] == "v0.1"
    assert "data/**" in upload["delete_patterns"]
    assert dict(fake.calls)["create_tag"] == {"repo_id": "org/cmedins", "repo_type": "dataset", "tag": "v0.1.0",
                                              "revision": "abc123def4567890", "tag_message": "CMedINS 0.1.0"}
    assert dict(fake.calls)["create_repo"]["private"] is True
    taken = FakeHub(tags=("v0.1.0",))
    with pytest.raises(hub.PushError, match="already exists"):
        hub.push(hub.plan(folder, "org/cmedins"), api=taken)
    assert "upload_folder" not in [c[0] for c in taken.calls]
    assert publish_cli([str(folder), "--repo-id", "org/cmedins", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "dry run" in printed and "tag: v0.1.0" in printed and "data/sft/train-00000-of-00001.parquet" in printed


def test_verify_refuses_a_damaged_folder(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "dataset"
    shutil.copytree(built / "dataset", folder)
    (folder / "plots" / "tasks.svg").write_text("<svg/>")
    with pytest.raises(hub.PushError, match="plots/tasks.svg does not match"):
        hub.verify(folder)
    assert publish_cli([str(folder), "--repo-id", "org/x", "--dry-run"]) == 2
    assert "does not match its sha256" in capsys.readouterr().err


def test_diff_counts_rows_by_id_shares_and_schema(built: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new"
    shutil.copytree(built / "dataset", new)
    path = next((new / "data" / "sft").glob("train-*.parquet"))
    rows = pq.read_table(path).to_pylist()
    rows = rows[2:]  # two removed
    rows[0]["messages"][-1]["content"] += "。"  # one changed
    extra = dict(rows[1], id="brand-new-row")
    rows.append(extra)  # one added
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(path)), path)
    triage = next((new / "data" / "triage").glob("validation-*.parquet"))
    t = pq.read_table(triage)
    pq.write_table(t.append_column("note", pa.array(["x"] * t.num_rows)), triage)
    d = diff_versions(load_version(built / "dataset"), load_version(new))
    sft_train = next(s for s in d["splits"] if (s["config"], s["split"]) == ("sft", "train"))
    assert (sft_train["added"], sft_train["removed"], sft_train["changed"]) == (1, 2, 1)
    assert d["schema"] == {"triage": {"added": ["note"], "removed": [], "type_changed": []}}
    assert publish_cli(["diff", str(built / "dataset"), str(new)]) == 0
    printed = capsys.readouterr().out
    assert "| sft | train |" in printed and "Schema changes" in printed
    # a Hub revision is fetched through huggingface_hub (here a stand-in that returns the folder)
    fetched = resolve("org/cmedins@v0.1.0", download=lambda **kw: str(new) if kw["revision"] == "v0.1.0" else "")
    assert fetched == new


def test_preference_rows_publish_for_trl_and_llamafactory(tmp_path: Path) -> None:
    from cmedins.publish.llamafactory import dataset_info
    from cmedins.publish.stage import _preference

    msg = {"role": "assistant", "content": "建议就诊心血管内科。"}
    rows = [{"id": f"p{i}", "prompt": [{"role": "user", "content": f"胸痛{i}天，挂什么科？"}], "chosen": [msg],
             "rejected": [{"role": "assistant", "content": "多喝水。"}], "split": "validation" if i < 2 else "train"}
            for i in range(10)]
    path = tmp_path / "dpo.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    cfg = _preference(str(path), seed=1, drop=["group_key"])
    assert {s: t.num_rows for s, t in cfg.splits.items()} == {"train": 8, "validation": 2}
    first = cfg.splits["train"].to_pylist()[0]
    assert first["chosen"] == [msg] and first["chosen_message"] == msg and "split" not in first
    entry = dataset_info({"dpo": ["train", "validation"]})["cmedins_dpo"]
    assert entry["ranking"] is True and entry["columns"] == {"messages": "prompt", "chosen": "chosen_message",
                                                             "rejected": "rejected_message"}
