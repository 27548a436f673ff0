"""train/: LoRA SFT then DPO on CPU, straight from a freshly built and published dataset folder.

One small build (module fixture), the tiny Qwen2 model from `train.tiny`, then the two documented commands run as
subprocesses (exactly what a user runs; one CPU thread each so a busy 2-core machine does not stall them). No network:
HF_HUB_OFFLINE=1 and a private HF_HOME. Skipped when the `train` extra is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # train/ is a folder of the checkout, not part of the installed cmedins package
    sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import yaml  # noqa: E402

from train import common, tiny  # noqa: E402
from train.config import UsageError, load_recipe  # noqa: E402

CONFIGS = REPO / "train" / "configs"
EVASIVE = ["抱歉，我无法回答这个问题。", "不清楚，请自行查询。", "I cannot help with that."]


def hf_env(root: Path) -> dict[str, str]:
    return os.environ | {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(root / "hf"),
        "HF_DATASETS_CACHE": str(root / "hf" / "datasets"),
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def write_toy_dpo(folder: Path) -> None:
    """trl conversational preference shards in the published layout (data/dpo/<split>-*.parquet), made from the sft
    rows: the history ending with a user turn as `prompt`, the real answer as `chosen`, an evasive reply as
    `rejected`. Only used while the build does not publish a `dpo` config of its own."""
    (folder / "data" / "dpo").mkdir(parents=True, exist_ok=True)
    for shard in sorted((folder / "data" / "sft").glob("*.parquet")):
        rows = pq.read_table(shard).to_pylist()
        pairs = [
            {
                "id": row["id"],
                "task": row["task"],
                "prompt": row["messages"][:-1],
                "chosen": [row["messages"][-1]],
                "rejected": [{"role": "assistant", "content": EVASIVE[i % len(EVASIVE)]}],
            }
            for i, row in enumerate(rows)
            if row.get("tools") is None
        ]
        pq.write_table(pa.Table.from_pylist(pairs), folder / "data" / "dpo" / shard.name)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("train")


@pytest.fixture(scope="module")
def published(workdir: Path) -> Path:
    """A small default build's published folder, with a toy dpo config when the build has none."""
    out = workdir / "build"
    build = subprocess.run(
        [sys.executable, "-m", "cmedins.build", "--records", "120", "--out", str(out), "--quiet"],
        cwd=REPO, env=hf_env(workdir), capture_output=True, text=True,
    )
    assert build.returncode == 0, f"the build failed: {(build.stdout + build.stderr)[-2000:]}"
    folder = out / "dataset"
    if not (folder / "data" / "dpo").is_dir():
        write_toy_dpo(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(workdir: Path, published: Path) -> Path:
    return tiny.write_tiny(workdir / "tiny", dataset=published)


def run_module(workdir: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, env=hf_env(workdir), capture_output=True, text=True, timeout=600
    )
    return proc, time.perf_counter() - start


@pytest.fixture(scope="module")
def sft_run(workdir: Path, published: Path, tiny_model: Path):
    out = workdir / "sft"
    proc, seconds = run_module(
        workdir, "train.sft", "--dataset", str(published), "--model", str(tiny_model),
        "--config", str(CONFIGS / "sft_tiny.yaml"), "--output-dir", str(out), "--merge",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"tiny SFT took {seconds:.1f} s")
    return proc, out


@pytest.fixture(scope="module")
def dpo_run(workdir: Path, published: Path, tiny_model: Path, sft_run):
    out = workdir / "dpo"
    proc, seconds = run_module(
        workdir, "train.dpo", "--dataset", str(published), "--model", str(tiny_model),
        "--adapter", str(sft_run[1]), "--config", str(CONFIGS / "dpo_tiny.yaml"), "--output-dir", str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"tiny DPO took {seconds:.1f} s")
    return proc, out


def logits(model, tokenizer, text: str = "患者头痛三天，请推荐就诊科室。"):
    import torch

    with torch.no_grad():
        return model(**tokenizer(text, return_tensors="pt")).logits


def adapter_tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


# --- the tiny model ------------------------------------------------------------------------------------------------


def test_tiny_tokenizer_round_trips_and_masks_assistant_turns(tiny_model: Path, published: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    built = tiny.build_tokenizer(tiny.corpus_from_dataset(published))
    loaded = AutoTokenizer.from_pretrained(tiny_model)
    assert type(loaded).__name__ == "Qwen2Tokenizer" and loaded.eos_token == "<|im_end|>"
    rows = pq.read_table(next((published / "data" / "sft").glob("validation-*.parquet"))).to_pylist()[:20]
    for row in rows:
        text = loaded.apply_chat_template(row["messages"], tokenize=False)
        assert loaded(text)["input_ids"] == built(text)["input_ids"]
        assert loaded.decode(loaded(text)["input_ids"]) == text
    chat = [{"role": "user", "content": "头痛怎么办？"}, {"role": "assistant", "content": "建议就诊神经内科。"}]
    enc = loaded.apply_chat_template(chat, return_dict=True, return_assistant_tokens_mask=True)
    trained = [t for t, m in zip(enc["input_ids"], enc["assistant_masks"], strict=True) if m]
    assert loaded.decode(trained) == "建议就诊神经内科。<|im_end|>"  # the answer and the stop token, nothing else
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.model_type == "qwen2" and sum(p.numel() for p in model.parameters()) < 500_000
    # deterministic: same corpus and seed, same vocabulary and weights
    assert tiny.build_tokenizer(tiny.CORPUS).get_vocab() == tiny.build_tokenizer(tiny.CORPUS).get_vocab()
    again = tiny.build_model(len(loaded), eos_token_id=loaded.eos_token_id, pad_token_id=loaded.pad_token_id)
    assert all((a == b).all() for a, b in zip(again.state_dict().values(), model.state_dict().values(), strict=True))


# --- SFT -----------------------------------------------------------------------------------------------------------


def test_sft_loss_falls_and_best_adapter_is_saved(sft_run):
    proc, out = sft_run
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["global_step"] == 20
    assert metrics["last_train_loss"] < metrics["first_train_loss"]
    assert metrics["best_eval_loss"] < metrics["first_eval_loss"]  # first eval runs before step 1 (eval_on_start)
    assert metrics["final_eval_loss"] == pytest.approx(metrics["best_eval_loss"], rel=1e-4)  # best one kept
    assert "sft done: 20 steps" in proc.stdout and str(out) in proc.stdout.splitlines()[-1]
    assert "device: CPU" in proc.stdout
    best = Path(metrics["best_checkpoint"])
    saved, kept = adapter_tensors(out), adapter_tensors(best)
    assert saved.keys() == kept.keys() and all((saved[k] == kept[k]).all() for k in saved)
    assert json.loads((out / "adapter_config.json").read_text())["lora_dropout"] == 0.1


def test_sft_adapter_and_merged_model_reload(sft_run, tiny_model: Path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, out = sft_run
    tokenizer = AutoTokenizer.from_pretrained(out)
    base_logits = logits(AutoModelForCausalLM.from_pretrained(tiny_model), tokenizer)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), out).eval()
    tuned_logits = logits(tuned, tokenizer)
    assert not torch.allclose(base_logits, tuned_logits)
    merged = AutoModelForCausalLM.from_pretrained(out / "merged").eval()
    assert torch.allclose(logits(merged, tokenizer), tuned_logits, atol=1e-4)


# --- DPO -----------------------------------------------------------------------------------------------------------


def test_dpo_from_sft_adapter_logs_rewards_and_saves(dpo_run, sft_run):
    proc, out = dpo_run
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["global_step"] == 10 and metrics["beta"] == 0.1 and metrics["loss_type"] == ["sigmoid"]
    # step 1: policy == reference (the frozen SFT adapter), so the loss starts at ln 2
    assert metrics["first_train_loss"] == pytest.approx(0.6931, abs=1e-3)
    assert metrics["last_train_loss"] < metrics["first_train_loss"]
    for key in ("rewards/margins", "rewards/accuracies", "final_eval_rewards/margins", "final_eval_rewards/accuracies"):
        assert key in metrics
    assert metrics["rewards/margins"] > 0  # chosen answers gained on rejected ones relative to the reference
    assert "dpo done: 10 steps" in proc.stdout and "reward margin" in proc.stdout
    assert not (out / "ref").exists()  # only the trained adapter is saved, not trl's frozen reference copy
    dpo, sft = adapter_tensors(out), adapter_tensors(sft_run[1])
    assert dpo.keys() == sft.keys() and any((dpo[k] != sft[k]).any() for k in dpo)


def test_dpo_adapter_reloads(dpo_run, tiny_model: Path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, out = dpo_run
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), out).eval()
    assert logits(model, AutoTokenizer.from_pretrained(out)).shape[-1] == model.config.vocab_size


# --- recipes and bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sft_14b", "sft_tiny", "dpo_14b", "dpo_tiny"])
def test_shipped_recipes_map_onto_trl(name: str):
    from trl import DPOConfig, SFTConfig

    stage = name.split("_")[0]
    recipe = load_recipe(CONFIGS / f"{name}.yaml", stage)
    wants_bf16 = recipe.args.get("bf16")
    recipe.args |= {"use_cpu": True, "bf16": False}
    config = common.build_trl_config(SFTConfig if stage == "sft" else DPOConfig, recipe)
    assert config.load_best_model_at_end and config.metric_for_best_model == "eval_loss"
    assert config.lr_scheduler_type.value == "cosine" and config.optim.value == "adamw_torch"
    assert config.save_steps % config.eval_steps == 0
    if stage == "sft":
        assert config.assistant_only_loss and common.lora_config(recipe).lora_dropout == 0.1
    else:
        assert config.beta > 0
    if name.endswith("14b"):
        assert config.max_length == 4096 and wants_bf16 and config.activation_checkpointing
        assert config.gradient_accumulation_steps > 1 and recipe.run["eval_split"] == "validation"


def write_yaml(path: Path, **keys) -> Path:
    path.write_text(yaml.safe_dump(keys), encoding="utf-8")
    return path


def test_unknown_or_misplaced_key_is_named(tmp_path: Path):
    with pytest.raises(UsageError, match="unknown key 'lora_rank'"):
        load_recipe(write_yaml(tmp_path / "a.yaml", lora_rank=8), "sft")
    with pytest.raises(UsageError, match="unknown key 'lora_r'.*sft key"):
        load_recipe(write_yaml(tmp_path / "b.yaml", lora_r=8), "dpo")


def test_rows_with_tools_are_left_out():
    from train.sft import trainable

    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert trainable({"messages": chat, "tools": None})
    assert not trainable({"messages": chat, "tools": "[]"})
    assert not trainable({"messages": [*chat, {"role": "tool", "content": "{}"}], "tools": None})


def test_val_fraction_when_no_eval_split(published: Path, workdir: Path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(workdir / "hf" / "datasets"))
    dd = common.load_published(str(published), "sft")
    run = {"train_split": "train", "eval_split": None, "val_fraction": 0.1, "max_train_rows": None,
           "max_eval_rows": None}
    train, evaluation = common.pick_splits(dd, run, seed=0)
    assert abs(len(evaluation) - 0.1 * len(dd["train"])) <= 1 and len(train) + len(evaluation) == len(dd["train"])


@pytest.fixture
def bad_inputs(tmp_path: Path, published: Path, sft_run) -> dict[str, list[str]]:
    tiny_sft = str(CONFIGS / "sft_tiny.yaml")
    wrong_split = write_yaml(tmp_path / "split.yaml", eval_split="test", output_dir=str(tmp_path / "o"))
    sft_only = tmp_path / "sft_only"
    (sft_only / "data" / "sft").mkdir(parents=True)
    return {
        "no such folder": ["train.sft", "--dataset", str(tmp_path / "missing"), "--config", tiny_sft, "--model", "x"],
        "config file not found": ["train.sft", "--dataset", str(published), "--config", str(tmp_path / "none.yaml")],
        "no split 'test'": ["train.sft", "--dataset", str(published), "--config", str(wrong_split), "--model", "x"],
        "no 'dpo' config": ["train.dpo", "--dataset", str(sft_only), "--adapter", str(sft_run[1]),
                            "--config", str(CONFIGS / "dpo_tiny.yaml")],
        "no adapter_config.json": ["train.dpo", "--dataset", str(published), "--adapter", str(tmp_path),
                                   "--config", str(CONFIGS / "dpo_tiny.yaml")],
    }


@pytest.mark.parametrize(
    "case", ["no such folder", "config file not found", "no split 'test'", "no 'dpo' config", "no adapter_config.json"]
)
def test_bad_input_is_one_line_and_exit_2(case: str, bad_inputs, workdir: Path, monkeypatch, capsys):
    import datasets

    from train import dpo, sft

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(workdir / "hf" / "datasets"))
    module, *argv = bad_inputs[case]
    assert common.run_cli((sft if module == "train.sft" else dpo).main, argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and case in err and "\n" not in err


def test_hub_id_offline_fails_cleanly_from_the_command_line(workdir: Path):
    proc, _ = run_module(
        workdir, "train.sft", "--dataset", "nobody/no-such-dataset", "--config", str(CONFIGS / "sft_tiny.yaml"),
        "--model", "x",
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: cannot load 'sft' of nobody/no-such-dataset") and "Traceback" not in proc.stderr


def test_missing_train_extra_is_one_line(capsys):
    def needs_trl(argv):
        raise ModuleNotFoundError("No module named 'trl'", name="trl")

    assert common.run_cli(needs_trl, []) == 2
    assert capsys.readouterr().err.strip().startswith("error: trl is not installed: pip install torch==2.13.0")


def test_dpo_trainer_reads_the_published_dpo_config_unchanged(published: Path, tiny_model: Path, workdir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The `dpo` config as the build publishes it (every column, metadata included) goes into trl's DPOTrainer as
    it is and trains a step: the contract promised by dpo_row.v1."""
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    for key, value in hf_env(workdir / "raw-dpo").items():
        monkeypatch.setenv(key, value)
    ds = load_dataset(str(published), "dpo", split="train")
    assert {"prompt", "chosen", "rejected", "deciding_dimension", "simulated"} <= set(ds.column_names)
    args = DPOConfig(output_dir=str(workdir / "raw-dpo" / "out"), max_steps=1, per_device_train_batch_size=2,
                     use_cpu=True, bf16=False, report_to=[], max_length=256, save_strategy="no")
    trainer = DPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model), args=args, train_dataset=ds,
                         processing_class=AutoTokenizer.from_pretrained(tiny_model))
    assert trainer.train().training_loss == pytest.approx(0.6931, abs=0.01)  # the first step's loss is ln 2
