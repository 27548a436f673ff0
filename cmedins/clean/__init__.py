"""Cleaning of instruction rows: quality filters, decontamination against evaluation sets, exact and near
de-duplication.

Two build stages share this package (`cmedins/clean/stage.py`):
- `clean` (map): per-row checks that need no other row: decontamination against the evaluation sets named in the
  recipe, then the quality filters. Each batch runs in the runner's process pool.
- `dedup` (reduce): exact and near duplicates need the whole table. Signatures are computed in chunks (a small
  process pool of its own on large inputs), candidate pairs come from LSH banding, every candidate pair is
  verified by an exact similarity, clusters by union-find, one deterministic survivor per cluster.

`python -m cmedins.clean dedup` runs the same `find_duplicates` over any JSONL or Parquet file. The similarity
code here shares nothing with the synthetic corpus's duplicate planter (`cmedins/synth/duplicates.py`), whose
planted pairs and measured edit rates are what `benchmarks/dedup_quality.py` scores this package against.
"""
