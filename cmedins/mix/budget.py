"""The token budget: no training row longer than `token_budget` approximate tokens, history included.

The paper caps a response with its history at 4096 tokens. A longer conversation is either dropped or split at
turn boundaries (a turn = a user message and everything up to the next one) into pieces that each fit, each
repeating the system message; the pieces keep the conversation's group key, so they land in the same split. A
single turn longer than the budget cannot be split and drops the row (`turn_over_token_budget`). Task rows are one
turn: over the budget they are dropped (`over_token_budget`).

Only the rows over the budget (a handful) go through Python; the lengths are Polars columns.
"""

from __future__ import annotations

import polars as pl

REJECT_COLUMNS = ("kind", "source", "file", "line", "row", "sub", "key", "reason", "field", "message", "payload")


def split_turns(roles: list[str], tokens: list[int], budget: int) -> list[list[int]] | None:
    """Message indices of each piece (greedy, in order), or None when one turn alone exceeds the budget."""
    system = [0] if roles and roles[0] == "system" else []
    base = tokens[0] if system else 0
    turns: list[list[int]] = []
    for i in range(len(system), len(roles)):
        if roles[i] == "user" or not turns:
            turns.append([])
        turns[-1].append(i)
    pieces: list[list[int]] = []
    current: list[int] = []
    used = base
    for turn in turns:
        cost = sum(tokens[i] for i in turn)
        if base + cost > budget:
            return None
        if current and used + cost > budget:
            pieces.append(current)
            current, used = [], base
        current += turn
        used += cost
    pieces.append(current)
    return [system + p for p in pieces]


def _rejects(rows: pl.DataFrame, reason: str, message: pl.Expr) -> pl.DataFrame:
    return rows.select(
        "kind", "source", "file", "line", "row", "sub", pl.col("original_id").alias("key"),
        pl.lit(reason).alias("reason"), pl.lit("messages").alias("field"), message.alias("message"),
        pl.lit(None, dtype=pl.String).alias("payload"),
    )


def apply_budget(df: pl.DataFrame, budget: int, mode: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(rows within the budget, rejected rows with reasons, number of rows split). `df` has `tokens` (row total)
    and `_msg_tokens` (per message) columns."""
    over = pl.col("tokens") > budget
    long = df.filter(over)
    kept = df.filter(~over)
    too_long = pl.format("{} tokens over the budget of {}", pl.col("tokens"), pl.lit(budget))
    rejects = [_rejects(long.filter((pl.col("kind") == "task") | pl.lit(mode == "drop")), "over_token_budget",
                        pl.format("row {}: ", pl.col("row")) + too_long)]
    splittable = long.filter((pl.col("kind") != "task") & pl.lit(mode == "split"))
    pieces: list[dict] = []
    unsplittable: list[int] = []
    for i, row in enumerate(splittable.to_dicts()):
        roles = [m["role"] for m in row["messages"]]
        parts = split_turns(roles, row["_msg_tokens"], budget)
        if parts is None:
            unsplittable.append(i)
            continue
        for k, idx in enumerate(parts, 1):
            msgs = [row["messages"][j] for j in idx]
            toks = [row["_msg_tokens"][j] for j in idx]
            pieces.append({**row, "messages": msgs, "_msg_tokens": toks, "tokens": sum(toks), "piece": k,
                           "user_turns": sum(1 for m in msgs if m["role"] == "user")})
    if unsplittable:
        bad = splittable.with_row_index("_i").filter(pl.col("_i").is_in(unsplittable)).drop("_i")
        rejects.append(_rejects(bad, "turn_over_token_budget",
                                pl.format("row {}: one turn is longer than the budget of {} tokens", pl.col("row"),
                                          pl.lit(budget))))
    if pieces:
        kept = pl.concat([kept, pl.DataFrame(pieces, schema=df.schema)])
    return kept, pl.concat(rejects), splittable.height - len(unsplittable)
