"""Embedded synthetic hospital corpus: realistic Chinese EMR visits with ground-truth identifiers, events and
planted duplicates, so every stage can be developed and scored without real patient data.

`generate(records, seed, out)` writes `out/records.<fmt>` (the `schemas/record.v1.yaml` contract) and
`out/ground_truth/*.parquet`; `python -m cmedins.synth --help` is the CLI. Records are written under clinical
constraints kept as data (`vocab_constraints`, `vocab_clinical`), and `python -m cmedins.synth check --in DIR` audits
a corpus with the independent rules of `cmedins.synth.plausibility`.
"""

from cmedins.synth.generate import CHUNK_SIZE, SynthError, SynthSummary, generate

__all__ = ["CHUNK_SIZE", "SynthError", "SynthSummary", "generate"]
