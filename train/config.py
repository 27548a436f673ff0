"""YAML recipe → (run settings, peft LoraConfig kwargs, trl SFTConfig/DPOConfig kwargs).

Why an explicit table instead of passing the YAML straight to trl: the recipe stays short and reviewable, a typo
fails at once with the key named (instead of being silently ignored or surfacing as a trl TypeError deep in a run),
and the settings this wiring depends on (evaluation on the validation split, best checkpoint by eval_loss, assistant
-only loss) cannot be switched off by accident. Every key below is documented in train/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class UsageError(Exception):
    """Bad input from the user (missing file, unknown key, wrong split...): one line on stderr, exit code 2."""


# recipe key -> (section, field name). Sections: "run" (this wiring), "lora" (peft.LoraConfig), "args" (trl config).
COMMON_KEYS: dict[str, tuple[str, str]] = {
    # run: what to load
    "model": ("run", "model"),  # default base model (path or Hub id); --model overrides it
    "dtype": ("run", "dtype"),  # weights dtype on GPU: bfloat16 | float16 | float32 | auto (CPU always loads float32)
    "attn_implementation": ("run", "attn_implementation"),  # sdpa | flash_attention_2 | eager
    "dataset_config": ("run", "dataset_config"),  # config of the published dataset: sft | dpo
    "dataset_revision": ("run", "dataset_revision"),  # Hub revision (tag/branch/commit) when --dataset is a repo id
    "train_split": ("run", "train_split"),
    "eval_split": ("run", "eval_split"),  # null: carve val_fraction out of the train split instead
    "val_fraction": ("run", "val_fraction"),
    "max_train_rows": ("run", "max_train_rows"),  # subsample (tiny/smoke runs); null = all rows
    "max_eval_rows": ("run", "max_eval_rows"),
    # args -> trl SFTConfig / DPOConfig (transformers.TrainingArguments underneath)
    "output_dir": ("args", "output_dir"),
    "max_length": ("args", "max_length"),  # tokens per example, history included (chosen/rejected + prompt for DPO)
    "epochs": ("args", "num_train_epochs"),
    "max_steps": ("args", "max_steps"),  # > 0 overrides epochs
    "learning_rate": ("args", "learning_rate"),
    "lr_scheduler": ("args", "lr_scheduler_type"),
    "warmup": ("args", "warmup_steps"),  # int = steps, float in [0, 1) = ratio of total steps
    "optim": ("args", "optim"),
    "weight_decay": ("args", "weight_decay"),
    "max_grad_norm": ("args", "max_grad_norm"),
    "per_device_train_batch_size": ("args", "per_device_train_batch_size"),
    "per_device_eval_batch_size": ("args", "per_device_eval_batch_size"),
    "gradient_accumulation_steps": ("args", "gradient_accumulation_steps"),
    "gradient_checkpointing": ("args", "activation_checkpointing"),
    "bf16": ("args", "bf16"),  # GPU only: on CPU the wiring trains in float32
    "logging_steps": ("args", "logging_steps"),
    "eval_steps": ("args", "eval_steps"),
    "save_steps": ("args", "save_steps"),  # must be a multiple of eval_steps (best checkpoint by eval_loss)
    "save_total_limit": ("args", "save_total_limit"),
    "seed": ("args", "seed"),
    "eval_on_start": ("args", "eval_on_start"),  # one evaluation before step 1 (a baseline for the eval loss)
    "report_to": ("args", "report_to"),  # none | tensorboard | wandb ...
    "dataloader_num_workers": ("args", "dataloader_num_workers"),
}
# SFT only: DPO trains the SFT adapter as it is, so LoRA keys there would be silently ignored (hence refused).
LORA_KEYS: dict[str, tuple[str, str]] = {
    "lora_r": ("lora", "r"),
    "lora_alpha": ("lora", "lora_alpha"),
    "lora_dropout": ("lora", "lora_dropout"),
    "lora_target_modules": ("lora", "target_modules"),  # a list, or "all-linear"
}
SFT_KEYS = COMMON_KEYS | LORA_KEYS | {"packing": ("args", "packing")}
DPO_KEYS = COMMON_KEYS | {
    "beta": ("args", "beta"),
    "loss_type": ("args", "loss_type"),  # list, e.g. [sigmoid]
    "precompute_ref_log_probs": ("args", "precompute_ref_log_probs"),
}

# Settings the wiring fixes (not recipe keys): the recipe, whatever the YAML says.
FIXED_ARGS: dict[str, Any] = {
    "eval_strategy": "steps",
    "save_strategy": "steps",
    "load_best_model_at_end": True,
    "metric_for_best_model": "eval_loss",
    "greater_is_better": False,
}
FIXED_SFT_ARGS: dict[str, Any] = {"assistant_only_loss": True}

RUN_DEFAULTS: dict[str, Any] = {
    "model": None,
    "dtype": "bfloat16",
    "attn_implementation": None,
    "train_split": "train",
    "eval_split": "validation",
    "val_fraction": 0.1,
    "dataset_revision": None,
    "max_train_rows": None,
    "max_eval_rows": None,
}
LORA_DEFAULTS: dict[str, Any] = {"task_type": "CAUSAL_LM", "bias": "none"}
ARGS_DEFAULTS: dict[str, Any] = {
    "report_to": "none",
    "lr_scheduler_type": "cosine",
    "optim": "adamw_torch",
    "logging_first_step": True,
}


@dataclass
class Recipe:
    """One parsed recipe: `run` settings for this wiring, kwargs for LoraConfig and for the trl config class."""

    path: Path
    run: dict[str, Any] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (training recipes, the evaluation config); one-line UsageErrors."""
    if not path.is_file():
        raise UsageError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: expected a mapping of keys to values at the top level")
    return raw


def load_recipe(path: str | Path, stage: str) -> Recipe:
    """Read and map a recipe for `stage` ('sft' or 'dpo'); every problem is a UsageError naming the key."""
    path = Path(path)
    raw = read_yaml_mapping(path)
    table = SFT_KEYS if stage == "sft" else DPO_KEYS
    recipe = Recipe(
        path=path,
        run={**RUN_DEFAULTS, "dataset_config": stage},
        lora=dict(LORA_DEFAULTS),
        args=dict(ARGS_DEFAULTS),
    )
    for key, value in raw.items():
        if key not in table:
            other = DPO_KEYS if stage == "sft" else SFT_KEYS
            hint = f" (a {'dpo' if stage == 'sft' else 'sft'} key)" if key in other else ""
            raise UsageError(f"{path}: unknown key '{key}'{hint}; see train/README.md for the keys")
        section, name = table[key]
        getattr(recipe, section)[name] = value
    recipe.args.update(FIXED_ARGS)
    if stage == "sft":
        recipe.args.update(FIXED_SFT_ARGS)
    return recipe
