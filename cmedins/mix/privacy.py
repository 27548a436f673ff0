"""The residual-identifier screen of external texts.

Public consult data (ChatMed, CMtMedQA, Huatuo) was typed by patients online and carries their phone numbers,
names, addresses and dates. Every adapted text (each message, and a row's tool specs) goes through the independent
residual scan (cmedins/deid/residual.py, stricter than the de-identifier on purpose); a row with a finding is then
de-identified as one group (names found in one message are searched in the others) and scanned again, or sent to
quarantine, per the `identifiers` option. Counters name kinds and sources, never text.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from cmedins.deid.api import deidentify_texts
from cmedins.deid.config import DeidConfig
from cmedins.deid.residual import scan_residual


@dataclass
class Screened:
    """Rows kept (texts possibly de-identified, `deidentified` set), quarantine dicts, and counters."""

    kept: pl.DataFrame
    rejects: list[dict] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)


def _texts(df: pl.DataFrame) -> tuple[list[str], list[int]]:
    """Every text of every row (message contents, then the tool specs) and the row index of each."""
    contents = df.select(pl.col("messages").list.eval(pl.element().struct.field("content"))).to_series().to_list()
    tools = df.get_column("tools").to_list()
    texts: list[str] = []
    owners: list[int] = []
    for i, (msgs, tool) in enumerate(zip(contents, tools, strict=True)):
        for text in [*msgs, *([tool] if tool else [])]:
            texts.append(text)
            owners.append(i)
    return texts, owners


def _flagged(texts: list[str], owners: list[int], dates_shifted: bool) -> dict[int, Counter]:
    """Finding kinds per row. Each distinct text is scanned once: answers repeat a lot (templated advice, the
    same greeting), and the scan is the stage's costliest step."""
    distinct = list(dict.fromkeys(texts))
    found: dict[int, Counter] = {}
    for f in scan_residual(distinct, dates_shifted=dates_shifted):
        found.setdefault(f.index, Counter())[f.kind] += 1
    index = {t: i for i, t in enumerate(distinct)}
    kinds: dict[int, Counter] = {}
    for text, owner in zip(texts, owners, strict=True):
        hit = found.get(index[text])
        if hit:
            kinds.setdefault(owner, Counter()).update(hit)
    return kinds


def _reject(row: dict, reason: str, message: str) -> dict:
    payload = json.dumps({"messages": row["messages"], "tools": row["tools"]}, ensure_ascii=False)
    return {"source": row["source"], "file": row["file"], "line": row["line"], "row": row["row"], "sub": row["sub"],
            "reason": reason, "field": "messages", "message": message, "payload": payload}


def screen(df: pl.DataFrame, modes: dict[str, str], deid: DeidConfig, secret: bytes,
           dates_shifted: bool = False) -> Screened:
    """Scan every text of `df` (EXAMPLE_SCHEMA rows) and act on findings per its source's mode: `deid` (rows with
    findings), `deid_all` (every row), `quarantine` (rows with findings) or `keep` (count only)."""
    out = Screened(df.with_columns(deidentified=pl.lit(False)))
    if df.height == 0:
        return out
    texts, owners = _texts(df)
    flagged = _flagged(texts, owners, dates_shifted)
    sources = df.get_column("source").to_list()
    for i, kinds in flagged.items():
        out.stats[f"residual_rows:{sources[i]}"] += 1
        out.stats.update({f"residual_found:{k}": n for k, n in kinds.items()})
        if modes[sources[i]] == "keep":
            out.stats[f"residual_kept:{sources[i]}"] += 1
    to_quarantine = sorted(i for i in flagged if modes[sources[i]] == "quarantine")
    to_deid = sorted(i for i, src in enumerate(sources)
                     if modes[src] == "deid_all" or (modes[src] == "deid" and i in flagged))
    drop: set[int] = set(to_quarantine)
    for i, row in zip(to_quarantine, df[to_quarantine].to_dicts() if to_quarantine else [], strict=True):
        kinds = ", ".join(sorted(flagged[i]))
        out.rejects.append(_reject(row, "identifier_found",
                                   f"{row['file']} line {row['line']}: residual scan found {kinds}"))
    if to_deid:
        drop |= _deidentify(out, df, to_deid, texts, owners, deid, secret, dates_shifted)
    if drop:
        out.kept = out.kept.with_row_index("_i").filter(~pl.col("_i").is_in(sorted(drop))).drop("_i")
    return out


def _deidentify(out: Screened, df: pl.DataFrame, todo: list[int], texts: list[str], owners: list[int],
                deid: DeidConfig, secret: bytes, dates_shifted: bool) -> set[int]:
    """De-identify the rows `todo` (each row one group), scan them again, patch `out.kept`; returns the rows the
    scan still flags (quarantined as identifier_after_deid)."""
    todo_set = set(todo)
    sub_texts = [t for i, t in zip(owners, texts, strict=True) if i in todo_set]
    sub_owners = [i for i in owners if i in todo_set]
    results = deidentify_texts(sub_texts, deid, groups=sub_owners, secret=secret)
    out.stats.update(Counter(f"deid_entities:{e.entity_type}" for r in results for e in r.entities))
    still = _flagged([r.text for r in results], sub_owners, dates_shifted)
    by_row: dict[int, list[str]] = {}
    changed: dict[int, bool] = {}
    for i, r in zip(sub_owners, results, strict=True):
        by_row.setdefault(i, []).append(r.text)
        changed[i] = changed.get(i, False) or r.changed
    rows = df[todo].to_dicts()
    new_messages, new_tools, marks = [], [], []
    for i, row in zip(todo, rows, strict=True):
        texts_i = by_row[i]
        n = len(row["messages"])
        new_messages.append([{"role": m["role"], "content": t} for m, t in zip(row["messages"], texts_i[:n],
                                                                               strict=True)])
        new_tools.append(texts_i[n] if row["tools"] else None)
        marks.append(changed[i])
        if i in still:
            kinds = ", ".join(sorted(still[i]))
            out.rejects.append(_reject(row, "identifier_after_deid", f"{row['file']} line {row['line']}: residual "
                                                                     f"scan still finds {kinds} after deid"))
        elif changed[i]:
            out.stats[f"deidentified_rows:{row['source']}"] += 1
    patch = pl.DataFrame({"_i": todo, "_messages": new_messages, "_tools": new_tools, "_changed": marks},
                         schema={"_i": pl.UInt32, "_messages": df.schema["messages"], "_tools": pl.String,
                                 "_changed": pl.Boolean})
    kept = out.kept.with_row_index("_i").join(patch, on="_i", how="left", maintain_order="left")
    out.kept = kept.with_columns(
        messages=pl.coalesce("_messages", "messages"),
        tools=pl.when(pl.col("_i").is_in(todo)).then(pl.col("_tools")).otherwise(pl.col("tools")),
        deidentified=pl.col("_changed").fill_null(False),
    ).drop("_i", "_messages", "_tools", "_changed")
    return set(still)
