"""Benchmark the synthetic corpus generator: records/s, peak memory, and the corpus-level acceptance checks.

    python benchmarks/synth_speed.py                      # 20,000 records (checks departments / ICD codes)
    python benchmarks/synth_speed.py --records 220000     # the paper's scale
    python benchmarks/synth_speed.py --check              # also the plausibility audit: zero violations to pass

Peak memory is the max resident set size of this process and of its worker processes (getrusage self + children).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from cmedins.synth import generate

ICD_TSV = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "realdata"
    / "ICD10_Beijing_clinical_v601"
    / "DERIVED_icd10_beijing_v601.tsv"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="keep the output here (default: a temp dir)")
    ap.add_argument("--check", action="store_true", help="run `python -m cmedins.synth check` on the output too")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = a.out or Path(tmp)
        t0 = time.perf_counter()
        s = generate(a.records, a.seed, out, workers=a.workers)
        dt = time.perf_counter() - t0
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self_kb, child_kb = me.ru_maxrss, kids.ru_maxrss
        cpu_main, cpu_workers = me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime
        size = sum(p.stat().st_size for p in s.paths.values())
        print(f"records={a.records} workers={a.workers} seconds={dt:.1f} records/s={a.records / dt:,.0f}")
        print(
            f"peak RSS: main {self_kb / 1024:.0f} MiB, largest worker {child_kb / 1024:.0f} MiB; "
            f"output {size / 2**20:.1f} MiB"
        )
        print(
            f"cpu seconds: main {cpu_main:.1f}, workers {cpu_workers:.1f} "
            f"(on {a.workers} idle cores the wall time would be about {(cpu_main + cpu_workers) / a.workers:.0f} s; "
            f"load average now {os.getloadavg()[0]:.1f})"
        )
        print(s.line())
        codes = set(
            pq.read_table(s.paths["records"], columns=["diagnoses"])
            .column("diagnoses")
            .combine_chunks()
            .flatten()
            .field("icd10_code")
            .to_pylist()
        )
        ok = s.departments >= 15 and len(codes) >= 150
        if ICD_TSV.exists():
            with ICD_TSV.open(encoding="utf-8") as fh:
                real = {row["code"] for row in csv.DictReader(fh, delimiter="\t")}
            unknown = codes - real
            print(f"departments={s.departments} distinct ICD-10 codes={len(codes)} not in real list={len(unknown)}")
            ok = ok and not unknown
        else:
            print(f"departments={s.departments} distinct ICD-10 codes={len(codes)} (real list not found)")
        print(
            f"duplicates: exact={s.exact_duplicates} near={s.near_duplicates}; spans={s.pii_spans:,} "
            f"medical_terms={s.medical_terms:,} pii_free_fields={s.pii_free_fields:,}"
        )
        if a.check:
            from cmedins.synth.plausibility import audit_dir

            t1 = time.perf_counter()
            rep = audit_dir(out)
            for line in rep.lines(examples=1):
                print(line)
            print(f"audit seconds={time.perf_counter() - t1:.1f}")
            ok = ok and rep.total == 0
        print("acceptance:", "PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
