"""`generate()`: the synthetic corpus, streamed chunk by chunk from a process pool into the output files.

Chunks are fixed-size and seeded from (seed, chunk index), and results are written in chunk order, so the bytes of
every file depend on the seed only, never on `workers`. Ground truth goes to `DIR/ground_truth/`, never into the
records file.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.contracts import load_contract
from cmedins.synth.chunk import GT_SCHEMAS, build_chunk, records_table
from cmedins.synth.formats import csv_header, serialise

CHUNK_SIZE = 1000
FORMATS = ("parquet", "csv", "jsonl")
ENCODINGS = ("utf-8", "gb18030")
_PARQUET = {"compression": "zstd", "compression_level": 3, "write_statistics": False, "use_dictionary": True}


class SynthError(ValueError):
    """Bad arguments to generate(); the message is one line, fit for a CLI."""


@dataclass
class SynthSummary:
    records: int
    seed: int
    fmt: str
    departments: int
    icd10_codes: int
    exact_duplicates: int
    near_duplicates: int
    corruptions: int
    pii_spans: int
    medical_terms: int
    pii_free_fields: int
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    department_counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"{self.records:,} records ({self.fmt}) seed={self.seed}: {self.departments} departments, "
            f"{self.icd10_codes} ICD-10 codes, {self.exact_duplicates} exact + {self.near_duplicates} near "
            f"duplicates, {self.corruptions} corrupted rows, {self.pii_spans:,} identifier spans, "
            f"{self.seconds:.1f}s -> {self.paths.get('records')}"
        )


@dataclass
class _Job:
    seed: int
    index: int
    n: int
    start: int
    fmt: str
    encoding: str
    corrupt_rate: float


@dataclass
class _Done:
    index: int
    n: int
    payload: pa.Table | bytes
    gt: dict[str, pa.Table]
    departments: dict[str, int]
    codes: set[str]


def _run(job: _Job) -> _Done:
    res = build_chunk(job.seed, job.index, CHUNK_SIZE, job.n, job.start)
    codes = {d["icd10_code"] for r in res.records for d in r["diagnoses"]}
    gt_cols = res.gt
    if job.fmt == "parquet":
        payload: pa.Table | bytes = records_table(res.records)
    else:
        rng = random.Random(f"cmedins-corrupt:{job.seed}:{job.index}")
        payload, labels = serialise(res.records, job.fmt, job.encoding, job.corrupt_rate, rng, job.start)
        gt_cols["corruptions"] = {name: [x[name] for x in labels] for name in GT_SCHEMAS["corruptions"].names}
    gt = {k: pa.Table.from_pydict(v, schema=GT_SCHEMAS[k]) for k, v in gt_cols.items()}
    return _Done(job.index, job.n, payload, gt, res.departments, codes)


def _results(jobs: list[_Job], workers: int) -> Iterator[_Done]:
    # A daemonic process (e.g. a build runner's own pool worker) may not start children: generate in-process then;
    # the output is the same bytes either way.
    if workers <= 1 or len(jobs) == 1 or multiprocessing.current_process().daemon:
        yield from map(_run, jobs)
        return
    from cmedins.runner.worker import exit_with_parent  # workers end with the build, even after kill -9

    main_thread = threading.current_thread() is threading.main_thread()
    with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent,
                             initargs=(os.getpid(), main_thread)) as pool:
        yield from pool.map(_run, jobs, chunksize=1)


def generate(
    records: int,
    seed: int,
    out: Path,
    *,
    corrupt_rate: float = 0.0,
    fmt: str = "parquet",
    encoding: str = "utf-8",
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Write `records` synthetic visits and their ground truth under `out`; same seed, same bytes.

    `progress`, if given, is called with the number of records finished after each chunk (CLIs draw a bar).
    """
    if records < 1:
        raise SynthError(f"--records must be at least 1, got {records}")
    if fmt not in FORMATS:
        raise SynthError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if encoding not in ENCODINGS:
        raise SynthError(f"--encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    if not 0.0 <= corrupt_rate <= 1.0:
        raise SynthError(f"--corrupt-rate must be within [0, 1], got {corrupt_rate}")
    if corrupt_rate > 0 and fmt == "parquet":
        raise SynthError(
            "--corrupt-rate needs --format csv or jsonl: corrupt values (bad dates, wrong types, "
            "broken bytes) cannot be stored in typed parquet columns"
        )
    if fmt != "csv" and encoding != "utf-8":
        raise SynthError(f"--encoding {encoding} applies to csv only ({fmt} is always UTF-8)")
    t0 = time.perf_counter()
    out = Path(out)
    gt_dir = out / "ground_truth"
    gt_dir.mkdir(parents=True, exist_ok=True)
    rec_path = out / f"records.{fmt}"
    paths = {"records": rec_path, **{k: gt_dir / f"{k}.parquet" for k in GT_SCHEMAS}}
    tmp = {k: p.with_name(p.name + ".tmp") for k, p in paths.items()}
    jobs = [
        _Job(seed, i, min(CHUNK_SIZE, records - s), s, fmt, encoding, corrupt_rate)
        for i, s in enumerate(range(0, records, CHUNK_SIZE))
    ]
    gt_writers = {k: pq.ParquetWriter(tmp[k], GT_SCHEMAS[k], **_PARQUET) for k in GT_SCHEMAS}
    counts = dict.fromkeys(GT_SCHEMAS, 0)
    dups = {"exact": 0, "near": 0}
    departments: dict[str, int] = {}
    codes: set[str] = set()
    done = 0
    rec_writer = None
    raw = None
    try:
        if fmt == "parquet":
            rec_writer = pq.ParquetWriter(tmp["records"], load_contract("record").schema, **_PARQUET)
        else:
            raw = open(tmp["records"], "wb")  # noqa: SIM115 - closed in finally
            if fmt == "csv":
                raw.write(csv_header(encoding))
        for res in _results(jobs, workers):
            if rec_writer is not None:
                rec_writer.write_table(res.payload, row_group_size=CHUNK_SIZE)
            else:
                raw.write(res.payload)
            for k, t in res.gt.items():
                if t.num_rows:
                    gt_writers[k].write_table(t)
                counts[k] += t.num_rows
            for kind in res.gt["duplicates"].column("kind").to_pylist():
                dups[kind] += 1
            for d, n in res.departments.items():
                departments[d] = departments.get(d, 0) + n
            codes |= res.codes
            done += res.n
            if progress is not None:
                progress(done)
    finally:
        if rec_writer is not None:
            rec_writer.close()
        if raw is not None:
            raw.close()
        for w in gt_writers.values():
            w.close()
    for k in paths:
        os.replace(tmp[k], paths[k])
    return SynthSummary(
        records=records,
        seed=seed,
        fmt=fmt,
        departments=len(departments),
        icd10_codes=len(codes),
        exact_duplicates=dups["exact"],
        near_duplicates=dups["near"],
        corruptions=counts["corruptions"],
        pii_spans=counts["pii_spans"],
        medical_terms=counts["medical_terms"],
        pii_free_fields=counts["pii_free"],
        seconds=time.perf_counter() - t0,
        paths=paths,
        department_counts=dict(sorted(departments.items())),
    )
