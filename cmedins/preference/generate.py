"""Candidate answers from a local causal LM (transformers `generate`), for the `candidates: file` route.

Reads the prompts the `preference` stage wrote (`work/preference/prompts.parquet`), renders each with the model's
chat template, samples `num` answers per prompt in batches (left padding, GPU when there is one, bf16 there), and
writes JSONL rows {prompt_id, answer, generator: model:<name>#<k>} that the recipe's `candidates_file` reads. Needs
the training extra (`pip install torch==2.13.0` first, then `pip install -e '.[train]'`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass
class Sampling:
    """Generation settings (transformers GenerationConfig fields)."""

    num: int = 2
    batch_size: int = 8
    max_new_tokens: int = 512
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int = 0


def generate(prompts_file: Path, model_path: str, out: Path, settings: Sampling) -> int:
    """Write `settings.num` candidates per prompt to `out`; returns the number written."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(settings.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device).eval()
    name = Path(model_path).name or model_path
    df = pl.read_parquet(prompts_file, columns=["prompt_id", "prompt"])
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for start in range(0, df.height, settings.batch_size):
            batch = df.slice(start, settings.batch_size)
            texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                     for p in batch["prompt"].to_list()]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.no_grad():
                ids = model.generate(**enc, do_sample=True, temperature=settings.temperature, top_p=settings.top_p,
                                     max_new_tokens=settings.max_new_tokens, num_return_sequences=settings.num,
                                     pad_token_id=tokenizer.pad_token_id)
            answers = tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            for i, pid in enumerate(batch["prompt_id"].to_list()):
                for k in range(settings.num):
                    fh.write(json.dumps({"prompt_id": pid, "answer": answers[i * settings.num + k].strip(),
                                         "generator": f"model:{name}#{k + 1}"}, ensure_ascii=False) + "\n")
                    written += 1
    return written
