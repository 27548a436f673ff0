"""Prompt sampling for the preference set: N in-distribution prompts from the training split of the mixed table and
M out-of-distribution prompts from sources the recipe names (the paper: 10,000 + 5,000).

A conversation with several assistant turns gives one prompt per assistant turn (the history up to that user turn,
and the dataset's own answer to it as the reference). Only the `train` split is read: a validation prompt in the
preference set would leak the validation split into DPO. Medical groups only (task rows and dialogue): general CoT /
code / wiki rows are there against forgetting, not to be judged on medical safety. Sampling is a sort on seeded
hashes of prompt ids, so the same table and seed always give the same prompts.
"""

from __future__ import annotations

import polars as pl

from cmedins.mix.sample import seeded_hash

MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
PROMPT_SCHEMA = {"prompt_id": pl.String, "prompt": MESSAGES, "reference": pl.String, "distribution": pl.String,
                 "source": pl.String, "task": pl.String, "turn": pl.Int32, "record_key": pl.String,
                 "group_key": pl.String}
MEDICAL_GROUPS = ("cmedins_tasks", "dialogue_single", "dialogue_multi")


def turns(df: pl.DataFrame, distribution: str) -> pl.DataFrame:
    """One row per assistant turn of each conversation (id, messages, source, task, record_key, group_key):
    the messages before it as the prompt, its content as the reference."""
    rows: list[dict] = []
    for r in df.select("id", "messages", "source", "task", "record_key", "group_key").iter_rows(named=True):
        messages = r["messages"] or []
        turn = 0
        for i, m in enumerate(messages):
            if m["role"] != "assistant" or i == 0 or messages[i - 1]["role"] != "user":
                continue
            turn += 1
            rows.append({"prompt_id": f"{r['id']}#{turn}", "prompt": messages[:i], "reference": m["content"],
                         "distribution": distribution, "source": r["source"], "task": r["task"], "turn": turn,
                         "record_key": r["record_key"], "group_key": r["group_key"]})
    return pl.DataFrame(rows, schema=PROMPT_SCHEMA)


def sample(prompts: pl.DataFrame, n: int, seed: int, purpose: str) -> pl.DataFrame:
    """`n` prompts (all when fewer), the lowest seeded hashes of their ids, at most one per conversation turn."""
    if prompts.height == 0 or n <= 0:
        return prompts.clear()
    keyed = prompts.with_columns(_h=seeded_hash(seed, purpose, prompts["prompt_id"].to_list()))
    return keyed.sort("_h", "prompt_id").head(n).drop("_h").sort("prompt_id")


def in_distribution(sft: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """`n` prompts from the medical rows of the training split (never validation)."""
    train = sft.filter((pl.col("split") == "train") & pl.col("source_group").is_in(MEDICAL_GROUPS)
                       & (pl.col("copy") == 0))
    return sample(turns(train, "in"), n, seed, "preference:in")


def out_of_distribution(examples: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """`n` prompts from adapted source examples (cmedins/sources EXAMPLE_SCHEMA)."""
    ids = examples.select(pl.concat_str("source", pl.lit("#"), pl.col("row").cast(pl.String), pl.lit("."),
                                        pl.col("sub").cast(pl.String)).alias("id"))["id"]
    df = examples.with_columns(id=ids, task=pl.lit(None, dtype=pl.String))
    return sample(turns(df, "out"), n, seed, "preference:out")
