"""Wiring shared by train.sft and train.dpo: load the published shards, the device, the model, the trl config.

Why here and not in each script: the two stages must read the dataset, pick splits, choose the device and report the
result the same way, and bad input must end the same way (one line on stderr, exit code 2, no traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from train.config import Recipe, UsageError

HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
TRAIN_EXTRA = {"torch", "transformers", "trl", "peft", "accelerate", "datasets", "tokenizers"}
INSTALL_HINT = "pip install torch==2.13.0 (CPU) or a CUDA build first, then pip install -e '.[train]'"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_main_process() -> bool:
    """Rank 0 under `accelerate launch`/torchrun, or a single process: only it prints the summary lines."""
    return int(os.environ.get("RANK", "0")) == 0


def say(message: str) -> None:
    if is_main_process():
        print(message, flush=True)


def common_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--dataset", required=True, help="published dataset: a local folder or a Hub repo id")
    parser.add_argument("--config", required=True, help="recipe YAML (train/configs/*.yaml)")
    parser.add_argument("--output-dir", help="overrides the recipe's output_dir")
    parser.add_argument("--revision", help="Hub revision of the dataset (tag, branch or commit); overrides the recipe")
    return parser


def apply_overrides(recipe: Recipe, args: argparse.Namespace) -> None:
    if getattr(args, "model", None):
        recipe.run["model"] = args.model
    if args.output_dir:
        recipe.args["output_dir"] = args.output_dir
    if args.revision:
        recipe.run["dataset_revision"] = args.revision
    if not recipe.args.get("output_dir"):
        raise UsageError(f"{recipe.path}: no 'output_dir' (set it or pass --output-dir)")


def load_published(dataset: str, config: str, revision: str | None = None):
    """The `config` of a published dataset as a DatasetDict, from a local folder or a Hub repo id.

    A local folder is read straight from its `data/<config>/<split>-NNNNN-of-MMMMM.parquet` layout (the published
    contract), so a config whose shards exist but whose README entry is not written yet still loads.
    """
    from datasets import load_dataset

    folder = Path(dataset)
    if folder.exists():
        if not folder.is_dir():
            raise UsageError(f"--dataset {dataset}: not a folder")
        config_dir = folder / "data" / config
        if not config_dir.is_dir():
            data = folder / "data"
            available = sorted(d.name for d in data.iterdir() if d.is_dir()) if data.is_dir() else []
            names = ", ".join(available) or "none"
            raise UsageError(f"--dataset {dataset}: no '{config}' config (no data/{config}/); available: {names}")
        splits = sorted({shard.name.split("-")[0] for shard in config_dir.glob("*.parquet")})
        if not splits:
            raise UsageError(f"--dataset {dataset}: data/{config}/ holds no parquet shards")
        data_files = {split: str(config_dir / f"{split}-*.parquet") for split in splits}
        return load_dataset("parquet", data_files=data_files)
    if not HUB_ID.fullmatch(dataset):
        raise UsageError(f"--dataset {dataset}: no such folder, and not a Hub repo id (ORG/NAME)")
    try:
        return load_dataset(dataset, config, revision=revision)
    except Exception as exc:  # network, auth, missing repo or config: all end the same way for the user
        reason = first_line(exc)
        raise UsageError(f"cannot load '{config}' of {dataset} (no such local folder; Hub: {reason})") from None


def pick_splits(dd, run: dict[str, Any], seed: int):
    """(train, eval) datasets: the recipe's named splits, or val_fraction of train when eval_split is null."""
    train_split, eval_split = run["train_split"], run["eval_split"]
    available = ", ".join(dd.keys())
    if train_split not in dd:
        raise UsageError(f"no split '{train_split}' in the dataset (available: {available})")
    train = dd[train_split]
    if eval_split is None:
        parts = train.train_test_split(test_size=run["val_fraction"], seed=seed)
        train, evaluation = parts["train"], parts["test"]
    elif eval_split not in dd:
        raise UsageError(f"no split '{eval_split}' in the dataset (available: {available})")
    else:
        evaluation = dd[eval_split]
    return train, evaluation


def subsample(ds, limit: int | None, seed: int):
    """A seeded random `limit` rows (smoke runs); all rows when limit is None."""
    if limit is None or len(ds) <= limit:
        return ds
    return ds.shuffle(seed=seed).select(range(limit))



def load_rows(dataset: str, recipe: Any, prepare: Any) -> tuple[Any, Any]:
    """The train and eval rows of the recipe's config: loaded, split, passed through `prepare(ds, which)` (the
    trainer's own column selection) and capped at max_train_rows / max_eval_rows with the recipe's seed."""
    seed = recipe.args.get("seed", 42)
    dd = load_published(dataset, recipe.run["dataset_config"], recipe.run["dataset_revision"])
    train_rows, eval_rows = pick_splits(dd, recipe.run, seed)
    return (subsample(prepare(train_rows, "train"), recipe.run["max_train_rows"], seed),
            subsample(prepare(eval_rows, "eval"), recipe.run["max_eval_rows"], seed))

def require_columns(ds, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise UsageError(f"the {what} rows lack column(s) {', '.join(missing)} (have: {', '.join(ds.column_names)})")


def setup_device(recipe: Recipe) -> bool:
    """True on a CUDA GPU (bf16 as the recipe says, device printed); on CPU, float32 with `use_cpu`."""
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        say(
            f"device: {torch.cuda.device_count()} x {props.name}, {props.total_memory / 2**30:.0f} GiB each; "
            f"weights {recipe.run['dtype']}, bf16={recipe.args.get('bf16', True)}"
        )
        return True
    recipe.args["use_cpu"] = True
    recipe.args["bf16"] = False  # CPU bf16 autocast is slow and gains nothing at tiny scale
    say("device: CPU (no CUDA GPU found): float32 weights, bf16 off")
    return False


def report_peak_memory() -> None:
    import torch

    if torch.cuda.is_available():
        say(f"peak GPU memory (this process): {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


def load_tokenizer(source: str):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot load the tokenizer of {source}: {first_line(exc)}") from None
    if not tokenizer.chat_template:
        raise UsageError(f"{source}: the tokenizer has no chat template (training uses the model's own template)")
    return tokenizer


def load_base_model(source: str, run: dict[str, Any], on_gpu: bool):
    """The base causal LM: the recipe's dtype on GPU, float32 on CPU."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = run["dtype"]
    if dtype not in ("bfloat16", "float16", "float32", "auto"):
        raise UsageError(f"dtype must be bfloat16, float16, float32 or auto, got {dtype!r}")
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if on_gpu:
        kwargs["dtype"] = dtype if dtype == "auto" else getattr(torch, dtype)
        # straight onto this process's GPU: 4 DDP ranks would otherwise each stage 29.5 GB in host RAM
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    if run["attn_implementation"]:
        kwargs["attn_implementation"] = run["attn_implementation"]
    try:
        return AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot load model {source}: {first_line(exc)}") from None


def build_trl_config(cls: type, recipe: Recipe):
    """Instantiate SFTConfig/DPOConfig; YAML 1.1 reads `1e-4` as a string, so float fields are coerced."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = dict(recipe.args)
    for name, value in kwargs.items():
        if isinstance(value, str) and isinstance(fields[name].default, float):
            try:
                kwargs[name] = float(value)
            except ValueError:
                raise UsageError(f"{recipe.path}: '{name}' must be a number, got {value!r}") from None
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{recipe.path}: {first_line(exc)}") from None


def lora_config(recipe: Recipe):
    from peft import LoraConfig

    try:
        return LoraConfig(**recipe.lora)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{recipe.path}: LoRA settings: {first_line(exc)}") from None


def loss_summary(trainer) -> dict[str, Any]:
    """First/last logged train loss, eval losses and the kept checkpoint, from the trainer's own log history."""
    history = trainer.state.log_history
    train = [h["loss"] for h in history if "loss" in h]
    evals = [h["eval_loss"] for h in history if "eval_loss" in h]
    return {
        "global_step": trainer.state.global_step,
        "first_train_loss": train[0] if train else None,
        "last_train_loss": train[-1] if train else None,
        "first_eval_loss": evals[0] if evals else None,
        "last_eval_loss": evals[-1] if evals else None,
        "best_eval_loss": trainer.state.best_metric,
        "best_checkpoint": trainer.state.best_model_checkpoint,
    }


def write_metrics(out: Path, metrics: dict[str, Any]) -> Path:
    path = out / "metrics.json"
    if is_main_process():
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a stage's main; a UsageError (or a missing `train` extra) becomes one line on stderr and exit code 2."""
    try:
        return main(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name not in TRAIN_EXTRA:
            raise
        print(f"error: {exc.name} is not installed: {INSTALL_HINT}", file=sys.stderr)
        return 2
