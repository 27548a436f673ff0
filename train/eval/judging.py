"""Position-swapped pairwise judging and single-answer safety judging, through the judgment cache.

Why both orders: LLM judges favour a position (often the first answer). Each pair is judged with A as Answer1 and
again with B as Answer1; a dimension counts as a win or a loss for A only when the two orders agree, and as a tie
when they disagree, so a judge that always picks the first answer produces nothing but ties. The cache key is the
judge, the prompt template's hash and the two answers in their order (the question included), so the same request
is never sent twice, and a model compared against itself asks once per order at most.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

from train.eval.cache import ParquetCache, digest
from train.eval.items import Item
from train.eval.judges import DIMENSIONS, Judge, Request, Template, parse_pair, parse_single

FLIP = {"win": "lose", "lose": "win", "tie": "tie"}


@dataclass(frozen=True)
class PairResult:
    """One item judged in both orders; `outcome` is A's result per dimension (None when a verdict was unreadable)."""

    item: Item
    answer_a: str
    answer_b: str
    a_first: dict[str, str | None]  # Answer1 = A: A's result as the judge gave it
    b_first: dict[str, str | None]  # Answer1 = B: B's result as the judge gave it
    outcome: dict[str, str | None]


def combine(a_first: str | None, b_first: str | None) -> str | None:
    """A's result from both orders: agreement counts, disagreement is a tie, an unreadable verdict is None."""
    if a_first is None or b_first is None:
        return None
    return a_first if a_first == FLIP[b_first] else "tie"


def run_requests(judge: Judge, requests: dict[str, Request], cache: ParquetCache, concurrency: int,
                 say: Callable[[str], None], label: str) -> dict[str, str]:
    """{key: the judge's raw text} for every request; only keys the cache lacks are sent (in parallel threads)."""
    todo = {k: r for k, r in requests.items() if cache.get(k) is None}
    keys = sorted(todo)
    start = time.perf_counter()
    progress = {"done": 0, "logged": start}
    lock = threading.Lock()

    def one(key: str) -> None:
        req = todo[key]
        cache.put({"key": key, "kind": req.kind, "judge": judge.name, "raw": judge.ask(req)})
        with lock:
            progress["done"] += 1
            now = time.perf_counter()
            if now - progress["logged"] > 30:
                progress["logged"] = now
                say(f"judge {label}: {progress['done']}/{len(keys)} requests ({now - start:.1f} s)")

    try:
        if concurrency <= 1 or len(keys) <= 1:
            for key in keys:
                one(key)
        else:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                futures = [pool.submit(one, key) for key in keys]
                done, pending = wait(futures, return_when=FIRST_EXCEPTION)
                for f in pending:
                    f.cancel()
                for f in done:
                    f.result()  # re-raise the first failure (already-finished judgments stay cached)
    finally:
        cache.flush()
    if keys:
        say(f"judge {label}: {len(keys)} new requests, {len(requests) - len(keys)} cached "
            f"({time.perf_counter() - start:.1f} s)")
    return {k: cache.get(k)["raw"] for k in requests}


def pair_request(judge: Judge, template: Template, item: Item, first: str, second: str) -> tuple[str, Request]:
    question = item.judge_question()
    fields = {"question": question, "answer1": first, "answer2": second}
    key = digest("pair", judge.name, template.sha, question, first, second)
    return key, Request("pair", template.render(**fields), fields)


def judge_pairs(judge: Judge, template: Template, items: list[Item], answers_a: dict[str, str],
                answers_b: dict[str, str], cache: ParquetCache, concurrency: int = 1,
                say: Callable[[str], None] = print) -> list[PairResult]:
    """Every item judged with A first and with B first; outcomes per dimension for A."""
    requests: dict[str, Request] = {}
    keys: dict[str, tuple[str, str]] = {}
    for item in items:
        a, b = answers_a[item.id], answers_b[item.id]
        k1, r1 = pair_request(judge, template, item, a, b)
        k2, r2 = pair_request(judge, template, item, b, a)
        requests[k1], requests[k2] = r1, r2
        keys[item.id] = (k1, k2)
    raw = run_requests(judge, requests, cache, concurrency, say, "pairwise")
    results = []
    for item in items:
        k1, k2 = keys[item.id]
        a_first, b_first = parse_pair(raw[k1]), parse_pair(raw[k2])
        outcome = {d: combine(a_first[d], b_first[d]) for d in DIMENSIONS}
        results.append(PairResult(item, answers_a[item.id], answers_b[item.id], a_first, b_first, outcome))
    return results


def judge_safety(judge: Judge, template: Template, items: list[Item], answers: dict[str, dict[str, str]],
                 cache: ParquetCache, concurrency: int = 1,
                 say: Callable[[str], None] = print) -> dict[str, dict[str, str | None]]:
    """{side: {item id: 'pass' / 'fail' / None}}: each answer judged on its own against the item's rubric."""
    requests: dict[str, Request] = {}
    keys: dict[tuple[str, str], str] = {}
    for side, side_answers in answers.items():
        for item in items:
            question = item.judge_question()
            fields = {"question": question, "answer": side_answers[item.id], "rubric": item.rubric or ""}
            key = digest("single", judge.name, template.sha, question, fields["rubric"], fields["answer"])
            requests[key] = Request("single", template.render(**fields), fields)
            keys[(side, item.id)] = key
    raw = run_requests(judge, requests, cache, concurrency, say, "safety")
    return {side: {item.id: parse_single(raw[keys[(side, item.id)]]) for item in items} for side in answers}
