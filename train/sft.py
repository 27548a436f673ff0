"""LoRA SFT on the published `sft` config with trl's SFTTrainer (the IIMedGPT recipe's first stage).

    python -m train.sft --dataset <folder or ORG/NAME> --model <path or id> --config train/configs/sft_tiny.yaml

Loss on assistant turns only, through the model's own chat template; evaluation on the validation split and the
best checkpoint by eval_loss kept; the LoRA adapter (+ tokenizer) saved to output_dir, merged weights with --merge.
Why thin: trl owns the loop, the collator and the masking; this file only maps the recipe onto it.
"""

from __future__ import annotations

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
    lora_config,
    loss_summary,
    report_peak_memory,
    require_columns,
    run_cli,
    say,
    setup_device,
    write_metrics,
)
from train.config import UsageError, load_recipe

TRAINABLE_ROLES = {"system", "user", "assistant"}


def trainable(row: dict) -> bool:
    """Rows with tool calls are left out: their `tools` schema and tool turns need a tool-aware template."""
    return row.get("tools") is None and all(m["role"] in TRAINABLE_ROLES for m in row["messages"])


def prepare(ds, what: str):
    """Keep only `messages` (the trainer must not see metadata columns) of the rows that can be trained on."""
    require_columns(ds, ["messages"], what)
    kept = ds.filter(trainable)
    dropped = len(ds) - len(kept)
    if dropped:
        say(f"{what}: dropped {dropped} of {len(ds)} rows with tool turns or a tools schema")
    if len(kept) == 0:
        raise UsageError(f"the {what} split has no trainable rows")
    return kept.select_columns(["messages"])


def main(argv: list[str] | None = None) -> int:
    parser = common_parser("python -m train.sft", "LoRA SFT on the published sft config (trl SFTTrainer + peft).")
    parser.add_argument("--model", help="base model path or Hub id (default: the recipe's `model`)")
    parser.add_argument("--merge", action="store_true", help="also save adapter merged into the base, in OUT/merged")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.config, "sft")
    apply_overrides(recipe, args)
    if not recipe.run["model"]:
        raise UsageError("no model: pass --model or set `model` in the recipe")
    train_rows, eval_rows = load_rows(args.dataset, recipe, prepare)
    say(f"sft: {len(train_rows)} train / {len(eval_rows)} eval conversations from {args.dataset}")

    on_gpu = setup_device(recipe)  # after the data: bad input fails before torch is imported

    from trl import SFTConfig, SFTTrainer

    config = build_trl_config(SFTConfig, recipe)
    tokenizer = load_tokenizer(recipe.run["model"])
    model = load_base_model(recipe.run["model"], recipe.run, on_gpu)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=tokenizer,
        peft_config=lora_config(recipe),
    )
    if trainer.is_world_process_zero():
        trainer.model.print_trainable_parameters()
    trainer.train()  # load_best_model_at_end: the best checkpoint's adapter is active afterwards
    out = Path(config.output_dir)
    trainer.save_model(str(out))  # adapter_config.json + adapter_model.safetensors + tokenizer
    final_eval = trainer.evaluate()
    metrics = {"stage": "sft", "dataset": args.dataset, "model": recipe.run["model"], "adapter": str(out)}
    metrics |= loss_summary(trainer) | {"final_" + k: v for k, v in final_eval.items()}
    if args.merge:
        merged_dir = out / "merged"
        merged = trainer.model.merge_and_unload()
        if trainer.is_world_process_zero():
            merged.save_pretrained(merged_dir)
            tokenizer.save_pretrained(merged_dir)
        metrics["merged"] = str(merged_dir)
    metrics_path = write_metrics(out, metrics)
    report_peak_memory()
    say(
        f"sft done: {metrics['global_step']} steps, train loss {fmt(metrics['first_train_loss'])} -> "
        f"{fmt(metrics['last_train_loss'])}, eval loss {fmt(metrics['first_eval_loss'])} -> best "
        f"{fmt(metrics['best_eval_loss'])}; adapter in {out} (metrics: {metrics_path})"
        + (f"; merged model in {metrics['merged']}" if args.merge else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
