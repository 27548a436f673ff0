"""Speed of `deidentify_texts` against the stock presidio per-record loop, side by side in one run.

    python benchmarks/deid_speed.py --records 2000 --seed 515151 [--stock-records 300] [--workers 2]

Both sides de-identify the same free-text fields of the same synthetic records (bare text, no record around it,
as the CLI does) with the same recognizers:
  * stock: for every text, `AnalyzerEngine.analyze` (our JiebaNlpEngine + the Chinese recognizers, presidio's
    context enhancement) then `AnonymizerEngine.anonymize` with typed placeholders: the loop a presidio user
    writes;
  * ours: one `deidentify_texts` call over the batch (cheap prefilters, jieba only on candidate windows,
    `--workers` processes).
The stock loop runs on a subset (`--stock-records`, it is slow); rates are per second, so they compare directly.
Prints records/s, MB/s (UTF-8) and the ratio. Also prints the stock loop with presidio's NoOp engine (no jieba
pass), to show how much of the gap is the NLP pass, and both sides again with the NER model on (ours: batched
over all texts; stock: `ChineseNerPersonRecognizer` in the registry, one text per call), with records/s per core
at 1,000 characters. No text is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from cmedins.contracts import TEXT_FIELDS
from cmedins.deid import DeidConfig, deidentify_texts


def _records(args: argparse.Namespace, tmp: Path) -> list[list[str]]:
    corpus = args.corpus
    if corpus is None:
        from cmedins.synth import generate

        corpus = tmp / "corpus"
        generate(args.records, args.seed, corpus)
    rows = pq.read_table(corpus / "records.parquet", columns=list(TEXT_FIELDS)).to_pylist()
    return [[r[f] for f in TEXT_FIELDS if r.get(f)] for r in rows[: args.records]]


def _stock(records: list[list[str]], noop: bool, ner: bool = False) -> float:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    from cmedins.deid.recognizers import LANG, build_analyzer, build_recognizers
    from cmedins.entities import PLACEHOLDERS

    if noop:
        analyzer = AnalyzerEngine(registry=RecognizerRegistry(recognizers=build_recognizers(),
                                                              supported_languages=[LANG]),
                                  nlp_engine=NoOpNlpEngine(models=[{"lang_code": LANG, "model_name": "none"}]),
                                  supported_languages=[LANG])
    else:
        analyzer = build_analyzer(ner=ner)
    anonymizer = AnonymizerEngine()
    operators = {k: OperatorConfig("replace", {"new_value": v}) for k, v in PLACEHOLDERS.items()}
    analyzer.analyze(text="预热", language=LANG)
    t0 = time.perf_counter()
    for texts in records:
        for text in texts:
            results = analyzer.analyze(text=text, language=LANG)
            anonymizer.anonymize(text=text, analyzer_results=results, operators=operators)
    return time.perf_counter() - t0


def _ours(records: list[list[str]], workers: int, ner: bool = False) -> float:
    texts = [t for r in records for t in r]
    groups = [i for i, r in enumerate(records) for _ in r]
    cfg = DeidConfig(workers=workers, ner=ner)
    deidentify_texts(texts[:20], DeidConfig(ner=ner))  # load word lists, jieba, the model outside the timing
    t0 = time.perf_counter()
    deidentify_texts(texts, cfg, groups=groups)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("--seed", type=int, default=515151)
    p.add_argument("--corpus", type=Path, default=None)
    p.add_argument("--stock-records", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        records = _records(a, Path(tmp))
    stock_recs = records[: a.stock_records]

    def mb(recs: list[list[str]]) -> float:
        return sum(len(t.encode("utf-8")) for r in recs for t in r) / 1e6

    rows = []
    dt = _ours(records, a.workers)
    ours_rps = len(records) / dt
    rows.append((f"ours, rules (deidentify_texts, {a.workers} proc)", len(records), ours_rps, mb(records) / dt))
    dt = _stock(stock_recs, noop=False)
    stock_rps = len(stock_recs) / dt
    rows.append(("stock presidio loop (jieba engine)", len(stock_recs), stock_rps, mb(stock_recs) / dt))
    dt = _stock(stock_recs, noop=True)
    rows.append(("stock presidio loop (NoOp engine)", len(stock_recs), len(stock_recs) / dt, mb(stock_recs) / dt))
    dt = _ours(records, a.workers, ner=True)
    ner_rps = len(records) / dt
    rows.append((f"ours, rules + model ({a.workers} proc)", len(records), ner_rps, mb(records) / dt))
    dt = _stock(stock_recs, noop=False, ner=True)
    stock_ner_rps = len(stock_recs) / dt
    rows.append(("stock presidio loop + model recognizer", len(stock_recs), stock_ner_rps, mb(stock_recs) / dt))
    chars = sum(len(t) for r in records for t in r) / max(1, len(records))
    source = f"corpus {a.corpus}" if a.corpus else f"seed {a.seed}"
    print(f"records: {len(records)} synthetic ({source}), {chars:.0f} chars of free text per record")
    print(f"{'path':<42}{'records':>9}{'records/s':>12}{'MB/s':>9}")
    for name, n, rps, mbs in rows:
        print(f"{name:<42}{n:>9}{rps:>12.1f}{mbs:>9.3f}")
    print(f"speed ratio ours / stock presidio loop (jieba engine): {ours_rps / stock_rps:.1f}x (goal >= 10x)")
    print(f"speed ratio ours / stock presidio loop (NoOp engine): {ours_rps / rows[2][2]:.1f}x")
    print(f"speed ratio with the model, ours / stock presidio loop + model recognizer: "
          f"{ner_rps / stock_ner_rps:.1f}x (goal >= 5x)")
    per_core = ner_rps * chars / 1000 / max(1, a.workers)
    print(f"rules + model: {per_core:.1f} records/s per core at 1,000 characters "
          f"(rules alone: {ours_rps * chars / 1000 / max(1, a.workers):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
