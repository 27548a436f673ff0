"""DPO on the published `dpo` config from the SFT adapter, with trl's DPOTrainer (the recipe's second stage).

    python -m train.dpo --dataset <folder or ORG/NAME> --model <base> --adapter <sft output_dir> \
        --config train/configs/dpo_tiny.yaml

The base model is loaded and the SFT adapter put on it as a trainable peft model; with `ref_model=None` trl keeps a
frozen copy of that adapter as the reference (so the reference is the SFT policy, as in the DPO paper, without a
second copy of the base weights). Reward margins and accuracies come from trl's logs; the final ones go to
OUT/metrics.json. Why thin: trl owns the loss, the reference pass and the logging.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from train.common import (
    apply_overrides,
    build_trl_config,
    common_parser,
    fmt,
    load_base_model,
    load_rows,
    load_tokenizer,
    loss_summary,
    report_peak_memory,
    require_columns,
    run_cli,
    say,
    setup_device,
    write_metrics,
)
from train.config import UsageError, load_recipe

PREFERENCE_COLUMNS = ["prompt", "chosen", "rejected"]
REWARD_KEYS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")


def prepare(ds, what: str):
    """Keep trl's conversational preference columns only; metadata columns must not reach the trainer."""
    require_columns(ds, PREFERENCE_COLUMNS, what)
    if len(ds) == 0:
        raise UsageError(f"the {what} split of the dpo config is empty")
    return ds.select_columns(PREFERENCE_COLUMNS)


def adapter_base(adapter: Path) -> str | None:
    """The base model the SFT adapter was trained on (peft records it), the default for --model."""
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    return config.get("base_model_name_or_path")


def last_logged(history: list[dict], prefix: str = "") -> dict[str, float]:
    """The most recent value of each reward metric in the trainer's log history ('eval_' prefix for evaluation)."""
    found: dict[str, float] = {}
    for entry in history:
        for key in REWARD_KEYS:
            if prefix + key in entry:
                found[prefix + key] = entry[prefix + key]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = common_parser("python -m train.dpo", "DPO on the published dpo config from an SFT LoRA adapter (trl).")
    parser.add_argument("--adapter", required=True, help="the SFT output folder (adapter_config.json + weights)")
    parser.add_argument("--model", help="base model path or Hub id (default: the base recorded in the adapter)")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.config, "dpo")
    adapter = Path(args.adapter)
    if not (adapter / "adapter_config.json").is_file():
        raise UsageError(f"--adapter {adapter}: no adapter_config.json (expected the output folder of train.sft)")
    apply_overrides(recipe, args)
    recipe.run["model"] = recipe.run["model"] or adapter_base(adapter)
    if not recipe.run["model"]:
        raise UsageError("no base model: pass --model or set `model` in the recipe")
    train_rows, eval_rows = load_rows(args.dataset, recipe, prepare)
    say(f"dpo: {len(train_rows)} train / {len(eval_rows)} eval preference pairs from {args.dataset}")

    on_gpu = setup_device(recipe)  # after the data: bad input fails before torch is imported

    from peft import PeftModel
    from trl import DPOConfig, DPOTrainer

    config = build_trl_config(DPOConfig, recipe)
    has_tokenizer = (adapter / "tokenizer_config.json").is_file()
    tokenizer = load_tokenizer(str(adapter) if has_tokenizer else recipe.run["model"])
    base = load_base_model(recipe.run["model"], recipe.run, on_gpu)
    model = PeftModel.from_pretrained(base, str(adapter), is_trainable=True)
    trainer = DPOTrainer(
        model=model,
        ref_model=None,  # peft: the reference is a frozen copy of the SFT adapter ("ref"), not a second model
        args=config,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=tokenizer,
    )
    if trainer.is_world_process_zero():
        trainer.model.print_trainable_parameters()
    trainer.train()  # load_best_model_at_end: the best checkpoint's adapter is active afterwards
    out = Path(config.output_dir)
    if trainer.is_world_process_zero():
        # Only the trained adapter: the frozen "ref" copy is the SFT adapter, which already lives in --adapter.
        trainer.model.save_pretrained(out, selected_adapters=["default"])
        tokenizer.save_pretrained(out)
    final_eval = trainer.evaluate()
    history = trainer.state.log_history
    metrics = {"stage": "dpo", "dataset": args.dataset, "model": recipe.run["model"], "sft_adapter": str(adapter)}
    metrics |= {"adapter": str(out), "beta": config.beta, "loss_type": config.loss_type}
    metrics |= loss_summary(trainer) | last_logged(history) | {"final_" + k: v for k, v in final_eval.items()}
    metrics_path = write_metrics(out, metrics)
    report_peak_memory()
    say(
        f"dpo done: {metrics['global_step']} steps, train loss {fmt(metrics['first_train_loss'])} -> "
        f"{fmt(metrics['last_train_loss'])}, eval loss {fmt(metrics['first_eval_loss'])} -> best "
        f"{fmt(metrics['best_eval_loss'])}, eval reward margin {fmt(final_eval.get('eval_rewards/margins'))}, "
        f"accuracy {fmt(final_eval.get('eval_rewards/accuracies'))}; adapter in {out} (metrics: {metrics_path})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
