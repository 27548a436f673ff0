"""Near-duplicate detection on the synthetic corpus's planted duplicates: precision, recall by edit-rate band,
documents/s and peak memory, for cmedins.clean and baselines on the same documents in the same run.

    python benchmarks/dedup_quality.py                       # 20,000 records, seed 5
    python benchmarks/dedup_quality.py --records 220000      # the large run (minutes)
    python benchmarks/dedup_quality.py --datatrove-python /tmp/dtv/bin/python   # + datatrove (its own venv)

Documents are each record's free-text sections joined by newlines, exactly what the planter measured its edit
rates on (Levenshtein distance / length of the original; `ground_truth/duplicates.parquet`). On top of the
planted pairs, `--stress N` copies N distinct documents with scattered single-character edits made by this script
(nominal rates 1-10 %, uniform): the hardest case for shingles, and an edit model the deduplicator was not tuned on.

Each system runs in its own child process (so peak memory is its own, pool workers included):
- cmedins: `cmedins.clean.dedup.find_duplicates`, default `DedupConfig` (what `python -m cmedins.clean dedup` runs);
- datasketch: plain MinHashLSH at threshold 0.7, character 5-grams, 128 permutations, union-find over the LSH
  results (no verification): the setting the issue measured;
- datatrove: its MinHash dedup pipeline (signatures, buckets, clusters, filter; language cmn, 5-grams, 14x8),
  only with `--datatrove-python` (a separate virtual environment: it needs xxhash<4; not a project dependency).

Recall: planted pairs whose two documents end in one cluster. Precision: removed documents whose kept document is
a planted copy of the same original (a false removal has no edit rate, so precision is over all removals).
The deduplicator shares no similarity code with the planter (cmedins/synth/duplicates.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BANDS = [(0.0, 0.0, "exact"), (0.01, 0.03, "1-3%"), (0.03, 0.05, "3-5%"), (0.05, 0.075, "5-7.5%"),
         (0.075, 0.1000001, "7.5-10%")]
_FILL = "的了是有无及并后前明显未可者与等患右左下上中见约于一二三四五六七八九十"


# ---------------------------------------------------------------- corpus


def build_corpus(records: int, seed: int, stress: int, work: Path, corpus: Path | None) -> tuple[Path, list[dict]]:
    """docs.parquet (id, text) and the truth pairs: [{a, b, rate, kind}]."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cmedins.contracts import TEXT_FIELDS
    from cmedins.synth import generate

    if corpus is None:
        corpus = work / "corpus"
        t0 = time.perf_counter()
        generate(records, seed, corpus, workers=os.cpu_count() or 2)
        print(f"generated {records:,} records in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    table = pq.read_table(corpus / "records.parquet", columns=["record_id", *TEXT_FIELDS])
    cols = [table.column(f).to_pylist() for f in TEXT_FIELDS]
    ids = table.column("record_id").to_pylist()
    texts = ["\n".join(c[i] or "" for c in cols) for i in range(len(ids))]
    truth = [{"a": t["record_id_a"], "b": t["record_id_b"], "rate": t["edit_rate"], "kind": "planted"}
             for t in pq.read_table(corpus / "ground_truth" / "duplicates.parquet").to_pylist()]
    involved = {x for t in truth for x in (t["a"], t["b"])}
    rng = random.Random(seed)
    pool = [i for i, x in enumerate(ids) if x not in involved]
    for n, i in enumerate(rng.sample(pool, min(stress, len(pool)))):
        rate = 0.01 + 0.09 * (n + 0.5) / stress
        ids.append(f"{ids[i]}~stress")
        texts.append(scatter_edits(texts[i], rate, rng))
        truth.append({"a": ids[i], "b": ids[-1], "rate": rate, "kind": "stress"})
    docs = work / "docs.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts}), docs)
    return docs, truth


def scatter_edits(text: str, rate: float, rng: random.Random) -> str:
    """Substitute, insert or delete single characters at random places: round(rate * len) edits."""
    chars = list(text)
    for _ in range(max(1, round(rate * len(text)))):
        pos = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.5:
            chars[pos] = rng.choice(_FILL)
        elif op < 0.75:
            chars.insert(pos, rng.choice(_FILL))
        elif len(chars) > 1:
            del chars[pos]
    return "".join(chars)


# ---------------------------------------------------------------- systems (each in a child process)


def run_cmedins(ids: list[str], texts: list[str], workers: int) -> dict[str, str]:
    from cmedins.clean.config import DedupConfig
    from cmedins.clean.dedup import find_duplicates

    d = find_duplicates(ids, texts, config=DedupConfig(workers=workers))
    return {ids[i]: ids[int(d.survivor[i])] for i in d.removed.tolist()}


def run_datasketch(ids: list[str], texts: list[str], workers: int) -> dict[str, str]:
    import xxhash
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    shingles = ([t[i:i + 5].encode("utf-8") for i in range(max(1, len(t) - 4))] for t in texts)
    sigs = MinHash.bulk(shingles, num_perm=128, hashfunc=xxhash.xxh32_intdigest)
    for i, m in enumerate(sigs):
        lsh.insert(i, m)
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {ids[i]: ids[find(i)] for i in range(len(ids)) if find(i) != i}


DATATROVE_SCRIPT = r"""
import inspect, json, resource, struct, sys, tempfile, time
from pathlib import Path
import pyarrow.parquet as pq
from datatrove.data import Document
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupSignature)

docs_path, out_path = sys.argv[1], sys.argv[2]
t = pq.read_table(docs_path)
ids, texts = t.column("id").to_pylist(), t.column("text").to_pylist()
start, cpu = time.perf_counter(), time.process_time()
cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)


def drain(result):
    if inspect.isgenerator(result):
        for _ in result:
            pass


with tempfile.TemporaryDirectory() as tmp:
    docs = (Document(text=x, id=i) for i, x in zip(ids, texts))
    drain(MinhashDedupSignature(output_folder=f"{tmp}/sigs", config=cfg, language="cmn").run(docs, 0, 1))
    for rank in range(cfg.num_buckets):
        drain(MinhashDedupBuckets(input_folder=f"{tmp}/sigs", output_folder=f"{tmp}/buckets", config=cfg).run(
            None, rank, cfg.num_buckets))
    drain(MinhashDedupCluster(input_folder=f"{tmp}/buckets", output_folder=f"{tmp}/ids", config=cfg,
                              save_cluster_id=True).run(None, 0, 1))
    def tuples(name, fmt):
        path = Path(tmp) / "ids" / name
        data = path.read_bytes() if path.exists() else b""
        size = struct.calcsize(fmt)
        return [struct.unpack(fmt, data[i:i + size]) for i in range(0, len(data), size)]
    removed = {i for (i,) in tuples("000000.remove", "<I")}
    cluster = dict(tuples("000000.clusters", "<2I"))
kept = {}
for doc, c in sorted(cluster.items()):
    if doc not in removed:
        kept.setdefault(c, doc)
out = {ids[d]: ids[kept.get(cluster.get(d), d)] for d in sorted(removed)}
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump({"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak, "removed": out}, open(out_path, "w"))
"""


def child(system: str, docs: Path, workers: int, out: Path) -> None:
    """Run one system, write {seconds, cpu, peak_rss_mb, removed: {id: kept id}}."""
    import pyarrow.parquet as pq

    table = pq.read_table(docs)
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    start, cpu = time.perf_counter(), time.process_time()
    removed = {"cmedins": run_cmedins, "datasketch": run_datasketch}[system](ids, texts, workers)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    out.write_text(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak / 1024, "removed": removed}))


def run_child(system: str, docs: Path, workers: int, work: Path, python: str = sys.executable) -> dict:
    out = work / f"{system}.json"
    cmd = [python, __file__, "--child", system, "--docs", str(docs), "--workers", str(workers), "--result", str(out)]
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return json.loads(out.read_text())


# ---------------------------------------------------------------- scoring


def score(removed: dict[str, str], truth: list[dict], ids: list[str]) -> dict:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for t in truth:
        a, b = find(t["a"]), find(t["b"])
        if a != b:
            parent[a] = b
    kept_of = {x: removed.get(x, x) for x in ids}
    bands = {}
    for kind in ("planted", "stress"):
        for lo, hi, name in BANDS:
            sel = [t for t in truth if t["kind"] == kind and (lo <= t["rate"] < hi or (hi == lo == t["rate"]))]
            if sel:
                found = sum(kept_of[t["a"]] == kept_of[t["b"]] for t in sel)
                bands[(kind, name)] = (found, len(sel))
    wrong = sum(1 for r, k in removed.items() if find(r) != find(k))
    return {"bands": bands, "removed": len(removed), "wrong": wrong,
            "precision": 1 - wrong / len(removed) if removed else 1.0}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=20000)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--stress", type=int, default=1000, help="extra copies with scattered edits (0: none)")
    p.add_argument("--corpus", type=Path, help="an existing `python -m cmedins.synth` output folder")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--systems", default="cmedins,datasketch", help="comma-separated: cmedins, datasketch")
    p.add_argument("--datatrove-python", help="python of a venv with datatrove installed (adds datatrove)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--docs", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.docs, args.workers, args.result)
        return 0
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        docs, truth = build_corpus(args.records, args.seed, args.stress, work, args.corpus)
        ids = pq.read_table(docs, columns=["id"]).column("id").to_pylist()
        results = {s: run_child(s, docs, args.workers, work) for s in args.systems.split(",")}
        if args.datatrove_python:
            results["datatrove"] = run_datatrove(args.datatrove_python, docs, work)
    print(f"\n{len(ids):,} documents ({args.records:,} records, seed {args.seed}, +{args.stress} stress copies); "
          f"planted pairs {sum(t['kind'] == 'planted' for t in truth):,}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs\n")
    names = list(results)
    scores = {s: score(results[s]["removed"], truth, ids) for s in names}
    print(f"| {'pairs':<22} | n | " + " | ".join(f"recall {s}" for s in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for key in scores[names[0]]["bands"]:
        n = scores[names[0]]["bands"][key][1]
        cells = " | ".join(f"{scores[s]['bands'][key][0] / n:.3f}" for s in names)
        print(f"| {key[0]} {key[1]:<14} | {n:,} | {cells} |")
    print()
    print("| system | removed | wrong removals | precision | seconds | CPU s | docs/s | docs/CPU-s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in names:
        r, sc = results[s], scores[s]
        print(f"| {s} | {sc['removed']:,} | {sc['wrong']:,} | {sc['precision']:.4f} | {r['seconds']:.1f} | "
              f"{r['cpu']:.1f} | {len(ids) / r['seconds']:,.0f} | {len(ids) / r['cpu']:,.0f} | "
              f"{r['peak_rss_mb']:,.0f} |")
    return 0


def run_datatrove(python: str, docs: Path, work: Path) -> dict:
    """datatrove's four MinHash steps, in-process in its own interpreter (one rank per bucket, one cluster step)."""
    script, out = work / "datatrove_run.py", work / "datatrove.json"
    script.write_text(DATATROVE_SCRIPT, encoding="utf-8")
    subprocess.run([python, str(script), str(docs), str(out)], check=True)
    return json.loads(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
