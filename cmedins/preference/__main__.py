"""`python -m cmedins.preference`: the human side of the preference set.

  generate   candidates from a local model for the prompts the build sampled (then `candidates: file`)
  agreement  raw agreement and Cohen's kappa per annotator pair and dimension of Label Studio exports
  queue      the adjudication tasks (pairs whose two annotators decided differently) for the expert's project

The build itself (`preference` stage) writes tasks.json, label_config.xml and plan.csv for the annotators'
project; the recipe's `annotations:` and `adjudications:` then name the exports. Errors are one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from cmedins.preference import agreement, labelstudio


def _labels(exports: list[str]) -> pl.DataFrame:
    frames = []
    for path in exports:
        labels, skipped = labelstudio.read_export(Path(path))
        if any(skipped.values()):
            print(f"{path}: skipped " + ", ".join(f"{k} {v}" for k, v in skipped.items() if v), file=sys.stderr)
        frames.append(labels)
    return pl.concat(frames)


def _agreement(args: argparse.Namespace) -> int:
    labels = _labels(args.exports)
    table = agreement.agreement_table(labels)
    print(f"{'annotators':<32} {'dimension':<16} {'pairs':>6} {'agreement':>10} {'kappa':>7}")
    for r in table.iter_rows(named=True):
        kappa = "n/a" if r["kappa"] is None else f"{r['kappa']:.3f}"
        print(f"{r['annotator_a'] + ' / ' + r['annotator_b']:<32} {r['dimension']:<16} {r['pairs']:>6} "
              f"{r['agreement']:>10.3f} {kappa:>7}")
    results = agreement.outcomes(labels)
    print(f"pairs {len(results)}: decided {sum(o.winner is not None for o in results)}, ties "
          f"{sum(o.dropped == 'tie' for o in results)}, to adjudicate {len(agreement.adjudication_queue(results))}")
    return 0


def _queue(args: argparse.Namespace) -> int:
    tasks = json.loads(Path(args.tasks).read_text(encoding="utf-8"))
    queue = set(agreement.adjudication_queue(agreement.outcomes(_labels(args.exports))))
    chosen = [t for t in tasks if t.get("data", {}).get("pair_id") in queue]
    Path(args.out).write_text(json.dumps(chosen, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(chosen)} pairs to adjudicate -> {args.out}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from cmedins.preference.generate import Sampling, generate

    n = generate(Path(args.prompts), args.model, Path(args.out),
                 Sampling(num=args.num, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                          temperature=args.temperature, top_p=args.top_p, seed=args.seed))
    print(f"{n} candidates -> {args.out} (set the preference stage's candidates: file, candidates_file: {args.out})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cmedins.preference", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="candidate answers from a local model")
    g.add_argument("--prompts", default="cmedins-build/work/preference/prompts.parquet")
    g.add_argument("--model", required=True, help="local model folder (or a Hub id where the Hub is reachable)")
    g.add_argument("--out", required=True, help="JSONL of {prompt_id, answer, generator}")
    g.add_argument("--num", type=int, default=2, help="answers per prompt")
    g.add_argument("--batch-size", type=int, default=8)
    g.add_argument("--max-new-tokens", type=int, default=512)
    g.add_argument("--temperature", type=float, default=0.8)
    g.add_argument("--top-p", type=float, default=0.95)
    g.add_argument("--seed", type=int, default=0)
    a = sub.add_parser("agreement", help="agreement and Cohen's kappa of Label Studio exports")
    a.add_argument("exports", nargs="+")
    q = sub.add_parser("queue", help="adjudication tasks for the expert")
    q.add_argument("--tasks", required=True, help="the tasks.json the build wrote")
    q.add_argument("--out", required=True)
    q.add_argument("exports", nargs="+")
    args = parser.parse_args(argv)
    try:
        return {"generate": _generate, "agreement": _agreement, "queue": _queue}[args.command](args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"error: {exc.name} is missing: pip install torch==2.13.0, then pip install -e '.[train]'",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
