"""Ingest speed: records/s and peak memory at 22,000 and 220,000 records, next to a no-checks DuckDB baseline.

    python benchmarks/ingest_speed.py                 # 22,000 and 220,000 records, parquet + csv (utf-8, gb18030)
    python benchmarks/ingest_speed.py --records 22000 --formats parquet

Input comes from `cmedins.synth.generate` (parquet, and CSV in UTF-8 transcoded here to GB18030) when it exists,
else from a small built-in generator of contract-shaped records (about 1.9 KB each as CSV). Every measurement runs
in a fresh subprocess, so "peak MB" is that process's peak resident set size (VmHWM: Python, Arrow and DuckDB
memory included). The baseline reads the same file with DuckDB and no checks (`read_parquet(...).to_arrow_table()`,
or `read_csv(..., all_varchar=true)` for CSV; DuckDB cannot decode GB18030 offline, so that baseline reads the
UTF-8 copy).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv-utf8", "csv-gb18030")
_SENTENCES = ("患者于{n}天前无明显诱因出现胸闷、气促，活动后加重，休息后可缓解。", "无发热、咳嗽，无恶心、呕吐。",
              "既往高血压病史{n}年，规律口服苯磺酸氨氯地平片5mg每日一次。", "查体：血压{n}/85mmHg，双肺呼吸音清。",
              "心电图示窦性心律，ST段压低。", "入院后予抗血小板、调脂、改善循环等治疗，症状好转。")


def _fallback_records(n: int, seed: int) -> pa.Table:
    """Contract-shaped rows without cmedins.synth: varied text, JSON-free nested columns."""
    rng = random.Random(seed)
    depts, visit = ["心血管内科", "呼吸内科", "消化内科", "神经内科", "内分泌科"], ["门诊", "住院", "急诊"]

    def text(k: int) -> str:
        return "".join(rng.choice(_SENTENCES).format(n=rng.randint(1, 30)) for _ in range(k))

    rows = []
    for i in range(n):
        rows.append({
            "record_id": f"ZY{i:08d}", "patient_id": f"P{i // 3:07d}", "hospital": "示例医院",
            "department": rng.choice(depts), "visit_type": rng.choice(visit),
            "admission_date": f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 20):02d}",
            "discharge_date": f"2023/12/{rng.randint(21, 28)}", "patient_name": "某某", "patient_sex": "男",
            "chief_complaint": text(1), "present_illness": text(6), "past_history": text(2),
            "physical_exam": text(3), "auxiliary_exam": text(2), "discharge_summary": text(4),
            "labs": [{"item": "血红蛋白", "value": str(rng.randint(80, 160)), "unit": "g/L",
                      "reference_range": "130-175", "flag": "N"}] * rng.randint(1, 6),
            "diagnoses": [{"text": "高血压", "icd10_code": "I10", "icd10_name": "原发性高血压", "primary": True}],
            "medications": [{"drug": "苯磺酸氨氯地平片", "dose": "5mg", "route": "口服", "frequency": "qd"}],
        })
    return pa.Table.from_pylist(rows)


def make_inputs(n: int, out: Path) -> dict[str, Path]:
    """parquet, csv (UTF-8) and csv (GB18030) copies of the same n records."""
    try:
        from cmedins.synth import generate  # type: ignore[attr-defined]
    except ImportError:
        generate = None
    if generate is not None:
        generate(n, 7, out / "parquet", fmt="parquet")
        generate(n, 7, out / "csv", fmt="csv", encoding="utf-8")
        files = {"parquet": out / "parquet" / "records.parquet", "csv-utf8": out / "csv" / "records.csv"}
    else:
        files = _fallback_files(n, out)
    gb = out / "records.gb18030.csv"
    with open(files["csv-utf8"], encoding="utf-8", newline="") as src, open(gb, "w", encoding="gb18030",
                                                                             newline="") as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk)
    files["csv-gb18030"] = gb
    return files


def _fallback_files(n: int, out: Path) -> dict[str, Path]:
    table = _fallback_records(n, 7)
    pq.write_table(table, out / "records.parquet", compression="zstd")
    flat = pa.table({
        name: (pa.array([json.dumps(v, ensure_ascii=False) for v in col.to_pylist()])
               if pa.types.is_list(col.type) else col)
        for name, col in zip(table.column_names, table.columns, strict=True)
    })
    pacsv.write_csv(flat, out / "records.csv")
    return {"parquet": out / "records.parquet", "csv-utf8": out / "records.csv"}


def _measure(mode: str, fmt: str, path: str) -> dict:
    """Runs inside the subprocess: one read (imports done before the clock starts), and this process's peak RSS."""
    import duckdb

    from cmedins.contracts import load_contract
    from cmedins.ingest import SourceSpec, read_source

    contract = load_contract("record")
    start = time.perf_counter()
    if mode == "baseline":
        if fmt == "parquet":
            rows = duckdb.read_parquet(path).to_arrow_table().num_rows
        else:
            sql = f"SELECT * FROM read_csv('{path}', all_varchar = true, header = true)"
            rows = duckdb.sql(sql).to_arrow_table().num_rows
    else:
        kind, encoding = ("parquet", "utf-8") if fmt == "parquet" else ("csv", fmt.split("-")[1])
        encoding = {"utf8": "utf-8"}.get(encoding, encoding)
        spec = SourceSpec.from_dict({"name": "bench", "kind": kind, "path": path, "encoding": encoding})
        rows = 0
        for out in read_source(spec, contract, batch_rows=10_000):
            rows += out.kept.num_rows + out.quarantined.num_rows
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "peak_mb": _peak_mb()}


def _peak_mb() -> float:
    """This process's peak RSS. ru_maxrss would carry over the parent's peak across fork+exec; VmHWM does not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(mode: str, fmt: str, path: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, fmt, str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"benchmark: {mode} {fmt} failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[22_000, 220_000])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(*args.child)))
        return
    print(f"{'records':>8} {'format':<12} {'MB':>6} | {'ingest rec/s':>12} {'peak MB':>8} | "
          f"{'baseline rec/s':>14} {'peak MB':>8} | baseline = DuckDB read, no checks")
    for n in args.records:
        with tempfile.TemporaryDirectory(prefix="cmedins-bench-") as tmp:
            files = make_inputs(n, Path(tmp))
            for fmt in args.formats:
                path = files[fmt]
                base_path = files["csv-utf8"] if fmt == "csv-gb18030" else path
                ours, base = _run("ingest", fmt, path), _run("baseline", fmt, base_path)
                assert ours["rows"] == n, f"ingest read {ours['rows']} of {n} rows"
                size = path.stat().st_size / 1e6
                print(f"{n:>8} {fmt:<12} {size:>6.0f} | {n / ours['seconds']:>12,.0f} {ours['peak_mb']:>8,.0f} | "
                      f"{n / base['seconds']:>14,.0f} {base['peak_mb']:>8,.0f}", flush=True)


if __name__ == "__main__":
    main()
