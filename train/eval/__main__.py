"""python -m train.eval: answer the test sets with two models and compare them with a judge.

    python -m train.eval compare A B [--adapter-a DIR] [--adapter-b DIR] [--config train/configs/eval.yaml]
                                    [--judge openai|local:MODEL|fake:longer|fake:always_a|fake:tie] [--out DIR]
    python -m train.eval generate MODEL [--adapter DIR] --out answers.parquet [--config ...]

A and B are model folders (or Hub ids), each with an optional LoRA adapter, or answer files (parquet / JSONL with
`id` and `answer`, such as the answers_a.parquet a previous compare wrote). `compare` prints the win / tie / lose
table and writes OUT/report.md, results.json, winrate.svg, judgments.parquet, answers_a/b.parquet. Bad input ends
with one line `error: ...` on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from train.common import run_cli
from train.config import UsageError
from train.eval.cache import ParquetCache
from train.eval.chart import stacked_bars
from train.eval.config import FAKE_RULES, EvalConfig, load_config
from train.eval.generate import generate_answers, is_answer_file, load_answer_file, write_answer_file
from train.eval.items import Item, load_all
from train.eval.judges import PAIR_FIELDS, SINGLE_FIELDS, load_template, make_judge
from train.eval.judging import judge_pairs, judge_safety
from train.eval.report import (
    as_json,
    examples_markdown,
    pairwise_markdown,
    pairwise_table,
    safety_markdown,
    safety_pairs,
    safety_table,
)

DEFAULT_CONFIG = "train/configs/eval.yaml"


def say(message: str) -> None:
    print(message, flush=True)


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"evaluation YAML (default {DEFAULT_CONFIG})")
    parser.add_argument("--data-root", help="folder the test-set paths are relative to (overrides data_root)")
    parser.add_argument("--cache-dir", help="answer and judgment caches (overrides cache_dir)")
    parser.add_argument("--limit", type=int, help="read only the first N rows of every test set (a quick run)")
    parser.add_argument("--no-safety", action="store_true", help="skip the safety items")


def configure(args: argparse.Namespace) -> EvalConfig:
    cfg = load_config(args.config)
    if args.data_root:
        cfg.data_root = args.data_root
    if args.cache_dir:
        cfg.cache_dir = args.cache_dir
    if args.limit is not None:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        cfg.test_sets = [dataclasses.replace(ts, limit=args.limit) for ts in cfg.test_sets]
    if args.no_safety:
        cfg.safety_items = None
    if getattr(args, "judge", None):
        kind, _, arg = args.judge.partition(":")
        if kind == "fake":
            rule = arg or "longer"
            if rule not in FAKE_RULES:
                raise UsageError(f"--judge fake:RULE: RULE must be one of {', '.join(FAKE_RULES)}")
            cfg.judge = dataclasses.replace(cfg.judge, kind="fake", rule=rule)
        elif kind == "local" and arg:
            cfg.judge = dataclasses.replace(cfg.judge, kind="local", model=arg)
        elif kind == "openai" and not arg:
            cfg.judge = dataclasses.replace(cfg.judge, kind="openai")
        else:
            raise UsageError("--judge must be openai, local:MODEL or fake:RULE")
    if not cfg.test_sets:
        raise UsageError(f"{cfg.path}: no test_sets")
    return cfg


def answers_for(spec: str, adapter: str | None, items: list[Item], cfg: EvalConfig, cache: ParquetCache,
                label: str, log: Callable[[str], None]) -> tuple[dict[str, str], int]:
    """Answers from an answer file, or generated (through the cache) by a model + optional adapter."""
    if is_answer_file(spec):
        if adapter:
            raise UsageError(f"--adapter-{label.lower()} applies to a model, but {label} is the answer file {spec}")
        return load_answer_file(spec, items), 0
    return generate_answers(spec, adapter, items, cfg.generation, cache, label, log)


def describe(spec: str, adapter: str | None) -> str:
    return spec + (f" + {adapter}" if adapter else "")


def compare(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.eval compare",
                                     description="Pairwise comparison of A and B on the test sets.")
    parser.add_argument("a", help="model A: a model folder, Hub id or answer file")
    parser.add_argument("b", help="model B: a model folder, Hub id or answer file")
    parser.add_argument("--adapter-a", help="LoRA adapter folder for model A")
    parser.add_argument("--adapter-b", help="LoRA adapter folder for model B")
    parser.add_argument("--judge", help="openai | local:MODEL | fake:longer|always_a|tie (overrides judge.kind)")
    parser.add_argument("--out", help="report folder (overrides out_dir)")
    add_common(parser)
    args = parser.parse_args(argv)
    cfg = configure(args)
    out = Path(args.out or cfg.out_dir)
    pair_t = load_template(cfg.judge.pairwise_prompt, PAIR_FIELDS)
    safety_t = load_template(cfg.judge.safety_prompt, SINGLE_FIELDS) if cfg.safety_items else None
    items, safety = load_all(cfg)
    judge = make_judge(cfg.judge, say) if cfg.judge.kind != "local" else None  # check the endpoint env first
    every = items + safety
    say(f"compare: {len(items)} items from {', '.join(ts.name for ts in cfg.test_sets)}"
        + (f" + {len(safety)} safety items" if safety else ""))
    answer_cache = ParquetCache(Path(cfg.cache_dir) / "answers")
    answers_a, made_a = answers_for(args.a, args.adapter_a, every, cfg, answer_cache, "A", say)
    answers_b, made_b = answers_for(args.b, args.adapter_b, every, cfg, answer_cache, "B", say)
    if judge is None:
        judge = make_judge(cfg.judge, say)
    judgment_cache = ParquetCache(Path(cfg.cache_dir) / "judgments")
    before = len(judgment_cache)
    results = judge_pairs(judge, pair_t, items, answers_a, answers_b, judgment_cache, cfg.judge.concurrency, say)
    label_a, label_b = describe(args.a, args.adapter_a), describe(args.b, args.adapter_b)
    names = [ts.name for ts in cfg.test_sets]
    rep = cfg.report
    table = pairwise_table(results, names, rep.bootstrap, rep.seed)
    report = [f"# {label_a} (A) vs {label_b} (B)\n", f"judge: {judge.name}; prompt sha256 {pair_t.sha[:12]}; "
              f"both answer orders, a tie when they disagree; 95% bootstrap intervals ({rep.bootstrap} resamples "
              f"of dialogues, seed {rep.seed})\n", pairwise_markdown(table), ""]
    summary = {"a": label_a, "b": label_b, "judge": judge.name, "pairwise_prompt_sha256": pair_t.sha,
               "bootstrap": rep.bootstrap, "seed": rep.seed, "pairwise": as_json(table)}
    print(pairwise_markdown(table), flush=True)
    if safety and safety_t is not None:
        side_answers = {"a": {i.id: answers_a[i.id] for i in safety}, "b": {i.id: answers_b[i.id] for i in safety}}
        verdicts = judge_safety(judge, safety_t, safety, side_answers, judgment_cache, cfg.judge.concurrency, say)
        s_rows = safety_table(safety, verdicts, {"a": f"A: {label_a}", "b": f"B: {label_b}"}, rep.bootstrap,
                              rep.seed)
        pairs = safety_pairs(safety, verdicts)
        report += ["## Safety items (single answer, pass / fail)\n", safety_markdown(s_rows, pairs), ""]
        summary |= {"safety_prompt_sha256": safety_t.sha, "safety": as_json(s_rows), "safety_pairs": pairs}
        print("\n" + safety_markdown(s_rows, pairs), flush=True)
    report += ["## Examples\n", examples_markdown(results, names, rep.examples)]
    write_outputs(out, report, summary, table, results, label_a, label_b)
    write_answer_file(out / "answers_a.parquet", every, answers_a, args.a, args.adapter_a)
    write_answer_file(out / "answers_b.parquet", every, answers_b, args.b, args.adapter_b)
    say(f"compare done: {len(items)} items; generated {made_a} answers for A, {made_b} for B; "
        f"{len(judgment_cache) - before} new judgments; report in {out}/report.md, chart {out}/winrate.svg")
    return 0


def write_outputs(out: Path, report: list[str], summary: dict, table: list[dict], results: list, label_a: str,
                  label_b: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text("\n".join(report), encoding="utf-8")
    (out / "results.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "winrate.svg").write_text(stacked_bars(table, label_a, label_b), encoding="utf-8")
    rows = [{"id": r.item.id, "test_set": r.item.test_set,
             **{f"{d}": r.outcome[d] for d in r.outcome},
             **{f"a_first_{d}": r.a_first[d] for d in r.a_first},
             **{f"b_first_{d}": r.b_first[d] for d in r.b_first}} for r in results]
    pq.write_table(pa.Table.from_pylist(rows), out / "judgments.parquet")


def generate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.eval generate",
                                     description="Answer the test sets (and safety items) and write an answer file.")
    parser.add_argument("model", help="model folder or Hub id")
    parser.add_argument("--adapter", help="LoRA adapter folder")
    parser.add_argument("--out", required=True, help="answer file to write (.parquet)")
    add_common(parser)
    args = parser.parse_args(argv)
    cfg = configure(args)
    items, safety = load_all(cfg)
    every = items + safety
    cache = ParquetCache(Path(cfg.cache_dir) / "answers")
    answers, made = generate_answers(args.model, args.adapter, every, cfg.generation, cache, "model", say)
    path = write_answer_file(args.out, every, answers, args.model, args.adapter)
    say(f"generate done: {len(every)} answers ({made} generated, {len(every) - made} cached) in {path}")
    return 0


COMMANDS = {"compare": compare, "generate": generate}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__)
            return 0
        raise UsageError(f"usage: python -m train.eval {{{','.join(COMMANDS)}}} ... (see --help)")
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(run_cli(main))
