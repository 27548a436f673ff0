"""The `preference` build stage: the DPO preference set (dpo_row.v1) next to the mixed sft table.

Steps: sample prompts (in-distribution from the sft train split, out-of-distribution from the recipe's sources,
each passed through the residual identifier scan) -> candidate answers (derived offline, or from a file) -> pairs,
each assigned to two annotators -> Label Studio import files -> judgements (Label Studio exports, or the simulated
annotators) -> agreement, adjudication queue and the expert's round -> lexicographic decision -> dpo rows with a
grouped train/validation split.

The stage passes the sft table through unchanged (a `reduce` over the mixed rows, sft_row.v1, wherever they are
in the recipe after `mix`; it declares no contract so that `kanon`, which declares none either, may precede it)
and writes its own table to
`work/preference/dpo.parquet`, with the files people work from in `work/preference/labelstudio/` (tasks.json,
label_config.xml, plan.csv, adjudication.json) and the agreement per annotator pair in `agreement.csv`. The gate
checks the dpo table and `publish` releases it as the `dpo` config.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import xxhash

from cmedins.contracts import load_contract
from cmedins.deid.config import DeidConfig
from cmedins.mix.privacy import screen
from cmedins.mix.sample import seeded_hash
from cmedins.parquet_io import write_table, write_text
from cmedins.preference import agreement, candidates, labelstudio, prompts, simulate
from cmedins.sources.adapt import EXAMPLE_SCHEMA, load_source
from cmedins.sources.spec import SourceSpec
from cmedins.stage import StageContext, StageError, StageOutput, register_stage

STAGE = "preference"
CANDIDATE_MODES = ("derived", "file")


@dataclass
class PreferenceConfig:
    """The preference (DPO) set: prompts, candidates, cross-annotation, adjudication, chosen / rejected.

    in_distribution / out_of_distribution: prompts to sample (paper: 10,000 and 5,000); one prompt per assistant
      turn of a conversation, from the train split only.
    ood_sources: out-of-distribution prompt sources, written like the mix stage's `sources` (path, hub or generate;
      format; identifiers: deid | quarantine | keep for the residual scan, default quarantine).
    candidates: `derived` (the reference answer and one that violates safety, professionalism or fluency on
      purpose) or `file` (candidates_file: JSONL/Parquet rows {prompt_id, answer, generator}, e.g. written by
      `python -m cmedins.preference generate`; the reference is added as a candidate).
    annotators: the pool each pair draws its two annotators from (annotator_1...).
    annotations: Label Studio JSON exports of the annotators' project; empty: simulated annotators (demo only).
    adjudications: Label Studio JSON exports of the expert's project (the queued pairs); empty with simulated
      annotations: a simulated expert.
    error_rate / expert_error_rate: simulated annotators' and expert's chance of a wrong label per dimension.
    validation_fraction: share of prompt groups (patients, dialogues) held out as the dpo validation split.
    """

    in_distribution: int = 10_000
    out_of_distribution: int = 5_000
    ood_sources: list[dict[str, Any]] = field(default_factory=list)
    candidates: str = "derived"
    candidates_file: str = ""
    annotators: int = 4
    annotations: list[str] = field(default_factory=list)
    adjudications: list[str] = field(default_factory=list)
    error_rate: float = 0.1
    expert_error_rate: float = 0.0
    validation_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.candidates not in CANDIDATE_MODES:
            raise ValueError(f"preference: candidates must be one of {', '.join(CANDIDATE_MODES)}")
        if self.candidates == "file" and not self.candidates_file:
            raise ValueError("preference: candidates: file needs candidates_file")
        if self.candidates == "file" and not self.annotations:
            raise ValueError("preference: simulated annotators only judge derived candidates; give `annotations` "
                             "(Label Studio exports) for candidates from a file")
        if self.annotators < 2:
            raise ValueError("preference: annotators must be at least 2 (each pair is judged by two)")
        for name in ("error_rate", "expert_error_rate", "validation_fraction"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"preference: {name} must be in [0, 1)")
        if self.in_distribution < 0 or self.out_of_distribution < 0:
            raise ValueError("preference: prompt counts must not be negative")
        self.specs()

    def specs(self) -> list[SourceSpec]:
        return [SourceSpec.from_dict({"group": "dialogue", "identifiers": "quarantine", **s})
                for s in self.ood_sources]

    @property
    def simulated(self) -> bool:
        return not self.annotations


def preference_files(config: PreferenceConfig) -> list[Path]:
    """Files that change the preference set: sources, candidates, annotation exports."""
    files = [p for spec in config.specs() for p in spec.files()]
    named = [config.candidates_file, *config.annotations, *config.adjudications]
    missing = [p for p in named if p and not Path(p).is_file()]
    if missing:
        raise StageError(f"preference: no such file: {missing[0]}")
    return files + [Path(p) for p in named if p]


def _screened(df: pl.DataFrame, config: PreferenceConfig, ctx: StageContext, stats: Counter) -> pl.DataFrame:
    """OOD examples through the residual identifier scan (each source's `identifiers` mode)."""
    modes = {spec.name: spec.identifiers or "quarantine" for spec in config.specs()}
    out = screen(df, modes, DeidConfig(), ctx.secret)
    stats.update({f"ood_{k}": v for k, v in out.stats.items()})
    stats["ood_identifier_rows_dropped"] = len(out.rejects)
    return out.kept.drop("deidentified")


def _ood(config: PreferenceConfig, ctx: StageContext, stats: Counter) -> pl.DataFrame:
    examples = [pl.DataFrame(schema=EXAMPLE_SCHEMA)]
    for spec in config.specs():
        loaded = load_source(spec, ctx.workdir, ctx.seed)
        stats[f"ood_rows:{spec.name}"] = loaded.rows_read
        stats[f"ood_unreadable:{spec.name}"] = len(loaded.rejects)
        examples.append(loaded.examples)
    df = pl.concat(examples)
    return prompts.out_of_distribution(_screened(df, config, ctx, stats) if df.height else df,
                                       config.out_of_distribution, ctx.seed)


def _pairs(sampled: pl.DataFrame, cands: pl.DataFrame, config: PreferenceConfig, seed: int) -> pl.DataFrame:
    """One pair per prompt: its first two candidates by generator (the reference first), in a seeded A/B order,
    with two annotators of the pool and the expected judgement of a derived pair."""
    rows = []
    grouped = cands.sort("prompt_id", "generator").group_by("prompt_id", maintain_order=True).agg("answer",
                                                                                                  "generator")
    by_prompt = {r["prompt_id"]: r for r in grouped.iter_rows(named=True)}
    pool = [f"annotator_{i}" for i in range(1, config.annotators + 1)]
    for p in sampled.iter_rows(named=True):
        c = by_prompt.get(p["prompt_id"])
        if c is None or len(c["answer"]) < 2:
            continue
        order = sorted(zip(c["generator"], c["answer"], strict=True), key=lambda ga: (ga[0] != "reference", ga[0]))
        (g1, a1), (g2, a2) = order[:2]
        h = xxhash.xxh3_64_intdigest(f"{seed}\x1fpair\x1f{p['prompt_id']}".encode())
        if h & 1:
            (g1, a1), (g2, a2) = (g2, a2), (g1, a1)
        first = (h >> 1) % len(pool)
        second = (first + 1 + (h >> 17) % (len(pool) - 1)) % len(pool)
        pair_id = xxhash.xxh3_128_hexdigest(f"{p['prompt_id']}\x1f{g1}\x1f{g2}".encode())
        rows.append({**p, "pair_id": pair_id, "answer_a": a1, "answer_b": a2, "generator_a": g1, "generator_b": g2,
                     "annotators": [pool[first], pool[second]], "truth": candidates.truth(g1, g2)})
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def _judgements(pairs: pl.DataFrame, config: PreferenceConfig, ctx: StageContext,
                stats: Counter) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Annotators' labels and the expert's (None: no adjudication round), from exports or simulated."""
    folder = ctx.workdir / "labelstudio"
    if not config.simulated:
        labels = [labelstudio.read_export(Path(p)) for p in config.annotations]
        expert = [labelstudio.read_export(Path(p)) for p in config.adjudications]
        for _, skipped in labels + expert:
            stats.update({f"labels_skipped:{k}": v for k, v in skipped.items() if v})
        return (pl.concat([df for df, _ in labels]),
                pl.concat([df for df, _ in expert]) if expert else None)
    plan = pairs.select("pair_id", "annotators", "truth").to_dicts()
    export = folder / "simulated_annotations.json"
    write_text(json.dumps(labelstudio.as_export(simulate.annotate(plan, config.error_rate, ctx.seed)),
                          ensure_ascii=False) + "\n", export)
    labels, _ = labelstudio.read_export(export)
    queue = set(agreement.adjudication_queue(agreement.outcomes(labels)))
    expert_file = folder / "simulated_adjudications.json"
    write_text(json.dumps(labelstudio.as_export(simulate.adjudicate(plan, queue, config.expert_error_rate, ctx.seed)),
                          ensure_ascii=False) + "\n", expert_file)
    return labels, labelstudio.read_export(expert_file)[0]


def _split(group_keys: list[str], fraction: float, seed: int) -> list[str]:
    h = seeded_hash(seed, "preference:split", group_keys).to_list()
    return ["validation" if x / 2**64 < fraction else "train" for x in h]


def _rows(pairs: pl.DataFrame, results: list[agreement.Outcome], config: PreferenceConfig,
          seed: int) -> pa.Table:
    decided = {o.pair_id: o for o in results if o.winner is not None}
    rows = []
    for p in pairs.iter_rows(named=True):
        o = decided.get(p["pair_id"])
        if o is None:
            continue
        win, lose = (("a", "b") if o.winner == "A" else ("b", "a"))
        rows.append({
            "id": p["pair_id"], "prompt": p["prompt"],
            "chosen": [{"role": "assistant", "content": p[f"answer_{win}"]}],
            "rejected": [{"role": "assistant", "content": p[f"answer_{lose}"]}],
            "distribution": p["distribution"], "source": p["source"], "task": p["task"], "turn": p["turn"],
            "record_key": p["record_key"], "group_key": p["group_key"],
            "chosen_generator": p[f"generator_{win}"], "rejected_generator": p[f"generator_{lose}"],
            "deciding_dimension": o.dimension, "agreement": o.agreement, "adjudicated": o.adjudicated,
            "simulated": config.simulated and config.candidates == "derived"})
    contract = load_contract("dpo_row")
    if not rows:
        return contract.schema.empty_table()
    splits = _split([r["group_key"] for r in rows], config.validation_fraction, seed)
    for r, s in zip(rows, splits, strict=True):
        r["split"] = s
    rows.sort(key=lambda r: (r["split"], r["id"]))
    return pa.Table.from_pylist([{n: r[n] for n in contract.names} for r in rows], schema=contract.schema)


def _figures(pairs: pl.DataFrame, results: list[agreement.Outcome], table: pa.Table, agree: pl.DataFrame,
             stats: Counter) -> None:
    stats["pairs"] = pairs.height
    stats.update({f"pairs_dropped:{k}": v for k, v in Counter(o.dropped for o in results if o.dropped).items()})
    stats["pairs_adjudicated"] = sum(o.adjudicated for o in results)
    stats["dpo_rows"] = table.num_rows
    for col in ("distribution", "deciding_dimension", "split", "chosen_generator"):
        stats.update({f"{col}:{v}": n for v, n in Counter(table.column(col).to_pylist()).items()})
    for dim, mean_kappa in agree.group_by("dimension").agg(pl.col("kappa").mean()).iter_rows():
        if mean_kappa is not None:
            stats[f"kappa_x1000:{dim}"] = round(mean_kappa * 1000)
    for dim, mean_agree in agree.group_by("dimension").agg(pl.col("agreement").mean()).iter_rows():
        stats[f"agreement_x1000:{dim}"] = round(mean_agree * 1000)


@register_stage(STAGE, config=PreferenceConfig, kind="reduce", input_files=preference_files)
def preference_stage(table: pa.Table, config: PreferenceConfig, ctx: StageContext) -> StageOutput:
    """The sft table, unchanged; the dpo table and the annotation files in the stage's folder."""
    missing = sorted({"id", "split", "messages", "source_group", "record_key", "group_key", "copy", "source", "task"}
                     - set(table.column_names))
    if missing:
        raise StageError(f"preference: reads the mixed rows (sft_row.v1) and they lack {', '.join(missing)}: put "
                         "it after `mix`")
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    stats: Counter = Counter()
    sft = pl.from_arrow(table)
    assert isinstance(sft, pl.DataFrame)
    ind = prompts.in_distribution(sft, config.in_distribution, ctx.seed)
    ood = _ood(config, ctx, stats) if config.ood_sources and config.out_of_distribution else ind.clear()
    sampled = pl.concat([ind, ood])
    stats.update({"prompts_in": ind.height, "prompts_out": ood.height})
    if config.candidates == "derived":
        cands = candidates.derived(sampled, ctx.seed)
    else:
        try:
            imported = candidates.from_file(Path(config.candidates_file), Path(config.candidates_file).stem)
        except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
            raise StageError(f"preference: {exc}" if isinstance(exc, ValueError) else
                             f"preference: cannot read {config.candidates_file} ({type(exc).__name__})") from None
        reference = sampled.select("prompt_id", answer=pl.col("reference"), generator=pl.lit("reference"))
        cands = pl.concat([reference, imported])
    write_table(sampled.to_arrow(), ctx.workdir / "prompts.parquet")  # `python -m cmedins.preference generate` reads
    pairs = _pairs(sampled, cands, config, ctx.seed)
    if pairs.height == 0:
        raise StageError("preference: no prompt has two candidate answers; nothing to annotate")
    labelstudio.write_export(pairs, ctx.workdir / "labelstudio")
    try:
        labels, expert = _judgements(pairs, config, ctx, stats)
    except ValueError as exc:
        raise StageError(f"preference: {exc}") from None
    results = agreement.outcomes(labels, expert)
    queue = set(agreement.adjudication_queue(agreement.outcomes(labels)))
    write_text(json.dumps(labelstudio.export_tasks(pairs.filter(pl.col("pair_id").is_in(sorted(queue)))),
                          ensure_ascii=False, indent=1) + "\n", ctx.workdir / "labelstudio" / "adjudication.json")
    agree = agreement.agreement_table(labels)
    agree.write_csv(ctx.workdir / "agreement.csv")
    dpo = _rows(pairs, results, config, ctx.seed)
    write_table(dpo, ctx.workdir / "dpo.parquet")
    stats["adjudication_queue"] = len(queue)
    _figures(pairs, results, dpo, agree, stats)
    return StageOutput(kept=table, stats=dict(sorted((k, int(v)) for k, v in stats.items())))
