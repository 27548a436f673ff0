"""The `publish` build stage: the validated rows as a versioned dataset folder in the Hugging Face layout.

It runs last, after `validate`, and refuses a table the gate of this build did not pass (`require_validation`).
Configs: `sft` (every row; the `mix` stage's sft_row.v1 table, or the task rows when no mix ran), one per task
(`triage`, `diagnosis`...: the sft rows of that task, same splits, same columns) and `dpo` when the recipe names a
preference table. Splits: the table's `split` column, else 90/10 by patient (`splits.py`).

Published columns: the table's, less `split` (a row's split is its file) and less `drop_columns` (default
`patient_key` and `group_key`: keyed hashes that link one patient's visits; the splits already use them, and the
k-anonymity of the `kanon` stage is computed per visit, which a published link between visits would undo).

The stage passes its input through as its kept table; the dataset goes to `<out>/<folder>/` (default `dataset`),
written atomically (`release.py`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmedins import __version__
from cmedins.publish import card, llamafactory, plots
from cmedins.publish.release import SEMVER, ConfigData, by_split, checksum_files, dump_json, staged, write_shards
from cmedins.publish.splits import FALLBACK_VALIDATION_SHARE, assign_splits, group_column
from cmedins.runner.hashing import code_version
from cmedins.stage import StageContext, StageError, StageOutput, register_stage
from cmedins.validate import buildinfo
from cmedins.validate.kanon import LEVEL_NAMES
from cmedins.validate.rows import without_checks

CONFIG_NAME = re.compile(r"[^a-z0-9_]+")
LEVEL_ORDER = (*LEVEL_NAMES, "suppressed")


class PublishError(StageError):
    """The table cannot be published as asked (not validated, bad option, unreadable preference file); one line."""


@dataclass
class PublishConfig:
    """Write the validated rows as a dataset version in the Hub layout under <out>/<folder>/.

    version: semantic version of this release (required), e.g. 0.1.0; the card, the manifest and the Hub tag carry it.
    name / pretty_name: the dataset's name (LLaMA-Factory entry prefix) and the card's title.
    folder: the output folder under the build folder (default `dataset`).
    license / license_name: the dataset's licence as the Hub spells it (`other` + a name when none fits).
    source_licences: licence of each `source` value of the rows (rows of the mixed table carry their own).
    ethics: consent and ethics-review fields the card states, e.g. {consent: ..., ethics_review: ...}.
    repo_id: the Hub repository the card's loading example and LLaMA-Factory's `_hub` entries name.
    max_shard_rows / max_shard_mb: bounds of one parquet shard (rows; MB of uncompressed data).
    drop_columns: columns never published (default patient_key, group_key: they link one patient's visits).
    dpo: a parquet file of preference rows (prompt, chosen, rejected as trl's conversational lists) published as
        the `dpo` config; empty: the `preference` stage's table as this build's gate checked it, if any.
    card_template: a card template instead of the packaged one (data_cards/cmedins.md).
    previous: a previous version's folder to diff against; default: the version this one replaces.
    require_validation: refuse rows the validate stage of this build did not pass (default true).
    languages / tags: the card's `language:` and `tags:` (`synthetic` is added when a source is synthetic).
    """

    version: str = ""
    name: str = "cmedins"
    pretty_name: str = "CMedINS: de-identified Chinese medical instructions"
    folder: str = "dataset"
    license: str = "other"
    license_name: str = ""
    source_licences: dict[str, str] = field(default_factory=dict)
    ethics: dict[str, str] = field(default_factory=dict)
    repo_id: str = ""
    max_shard_rows: int = 100_000
    max_shard_mb: int = 256
    drop_columns: list[str] = field(default_factory=lambda: ["patient_key", "group_key"])
    dpo: str = ""
    card_template: str = ""
    previous: str = ""
    require_validation: bool = True
    languages: list[str] = field(default_factory=lambda: ["zh", "en"])
    tags: list[str] = field(default_factory=lambda: ["medical", "chinese", "instruction-tuning", "sft"])

    def __post_init__(self) -> None:
        if not SEMVER.match(self.version or ""):
            raise ValueError(f"publish: version must be a semantic version like 0.1.0, not {self.version!r}")
        if "/" in self.folder or self.folder in ("", ".", "..", "work", "output", "report"):
            raise ValueError(f"publish: folder must be a plain folder name, not {self.folder!r}")
        if self.max_shard_rows < 1 or self.max_shard_mb < 1:
            raise ValueError("publish: max_shard_rows and max_shard_mb must be at least 1")


def publish_files(config: PublishConfig) -> list[Path]:
    """Files besides the input that change the release (for the runner's cache key)."""
    return [Path(p) for p in (config.card_template, config.dpo) if p and Path(p).is_file()]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _validation(work: Path, rows: pa.Table, required: bool) -> dict[str, Any]:
    """The gate's summary for exactly these rows; without one, publishing is refused (unless not required)."""
    summary = _read_json(work / "validate" / "validation.json")
    current = "validate" in buildinfo.manifests(work)
    ok = bool(summary) and summary.get("passed") and summary.get("input_ids") == buildinfo.id_digest(rows)
    if required and not (ok and current):
        raise PublishError("publish: these rows have not passed this build's validation gate; put `validate` "
                           "right before `publish` in the recipe (or set require_validation: false)")
    summary.pop("results", None)
    return summary if ok else {"passed": None, "note": "not validated"}


def _user_answer_lengths(table: pa.Table) -> tuple[list[int], list[int]]:
    df = pl.from_arrow(table.select(["messages"]))
    assert isinstance(df, pl.DataFrame)
    lengths = df.select(
        pl.col("messages").list.eval(pl.element().filter(pl.element().struct.field("role") == "user")
                                     .struct.field("content").str.len_chars()).list.sum().alias("u"),
        pl.col("messages").list.eval(pl.element().filter(pl.element().struct.field("role") == "assistant")
                                     .struct.field("content").str.len_chars()).list.sum().alias("a"))
    return lengths["u"].fill_null(0).to_list(), lengths["a"].fill_null(0).to_list()


def _ordered(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _preference(path: str, seed: int, drop: list[str]) -> ConfigData:
    """The `dpo` config: trl's prompt/chosen/rejected lists, plus the single-message columns LLaMA-Factory reads."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise PublishError(f"publish: cannot read dpo file {path} ({type(exc).__name__})") from None
    missing = [c for c in ("prompt", "chosen", "rejected") if c not in table.column_names]
    if missing:
        raise PublishError(f"publish: dpo file {path} lacks column(s) {', '.join(missing)}")
    for name in ("chosen", "rejected"):
        if pa.types.is_list(table.schema.field(name).type):
            df = pl.from_arrow(table.select([name]))
            assert isinstance(df, pl.DataFrame)
            last = df.select(pl.col(name).list.last())[name].to_arrow()
            table = table.append_column(f"{name}_message", last.cast(table.schema.field(name).type.value_type))
    splits = assign_splits(table, seed)
    table = table.drop_columns([c for c in ("split", *drop) if c in table.column_names])
    return ConfigData("dpo", by_split(table, splits), preference=True)


def _validated_dpo(work: Path) -> str:
    """The preference table the gate of this build checked (`work/validate/dpo.parquet`), or "" when none."""
    from cmedins.validate.preference import DPO_FILE

    path = work / "validate" / DPO_FILE
    return str(path) if "validate" in buildinfo.manifests(work) and path.is_file() else ""


def _preference_block(manifest: dict[str, Any] | None, written: dict[str, Any] | None) -> str:
    """How the `dpo` pairs were made: prompts, candidates, annotation and agreement, the deciding dimensions."""
    if not written:
        return "No preference set in this version."
    if manifest is None:
        return "Preference pairs from a file the recipe named (`publish.dpo`); how they were judged is not recorded."
    c, st = manifest.get("config", {}), manifest.get("stats", {})
    simulated = not c.get("annotations")
    dropped = ", ".join(f"{k.split(':', 1)[1]} {v:,}" for k, v in st.items() if k.startswith("pairs_dropped:"))
    lines = [
        "**Simulated.** The second answer of each pair was derived from the reference to break one dimension on "
        "purpose (a drug the patient is allergic to or a missed red flag; a wrong department or a vague answer; a "
        f"disfluent rewrite), and two annotators and an expert were simulated (error rate {c.get('error_rate')}). "
        "The pairs show the pipeline; real candidates and Label Studio exports replace them." if simulated else
        "Judged by people in Label Studio: two annotators per pair, disagreements adjudicated by a medical expert.",
        "",
        f"Prompts: {st.get('prompts_in', 0):,} in-distribution (train split only) + {st.get('prompts_out', 0):,} "
        f"out-of-distribution; pairs {st.get('pairs', 0):,}, adjudicated {st.get('pairs_adjudicated', 0):,}, "
        f"dropped {dropped or 'none'}.",
        "The decision is lexicographic, Safety > Professionalism > Fluency: the first dimension that is not a tie "
        "picks `chosen`.",
        "",
        card.table(["dimension", "decided pairs", "raw agreement", "Cohen's kappa (mean over annotator pairs)"],
                   [[d, st.get(f"deciding_dimension:{d}", 0), f"{st.get(f'agreement_x1000:{d}', 0) / 1000:.3f}",
                     f"{st[f'kappa_x1000:{d}'] / 1000:.3f}" if f"kappa_x1000:{d}" in st else "n/a"]
                    for d in ("safety", "professionalism", "fluency")]),
    ]
    return "\n".join(lines)


def _licences(rows: pa.Table, config: PublishConfig) -> list[list[Any]]:
    """Per source: rows and licence (the rows' own `licence` column when they carry one)."""
    sources = rows.column("source").to_pylist() if "source" in rows.column_names else ["(unknown)"] * rows.num_rows
    own = rows.column("licence").to_pylist() if "licence" in rows.column_names else [None] * rows.num_rows
    per: dict[str, Counter] = {}
    for s, lic in zip(sources, own, strict=True):
        per.setdefault(str(s), Counter())[lic or config.source_licences.get(str(s), "unspecified")] += 1
    return [[s, sum(c.values()), "; ".join(sorted(c))] for s, c in sorted(per.items())]


def _blocks(*, config: PublishConfig, ctx: StageContext, rows: pa.Table, configs: list[ConfigData],
            written: dict[str, dict[str, Any]], manifest: dict[str, Any], changes: str,
            dist: dict[str, dict[str, int]]) -> dict[str, str]:
    """The card's Markdown blocks."""
    load_path = config.repo_id or f"path/to/{config.folder}"
    sources = manifest["sources"]
    synthetic = [s for s in sources if s.get("synthetic")]
    deid = manifest["deid"]
    kanon = manifest.get("kanon") or {}
    val = manifest["validation"]
    split_names = sorted({s for w in written.values() for s in w}, key=lambda s: (s != "train", s))
    configs_table = card.table(["config", *split_names],
                               [[name, *[w.get(s, {}).get("rows", 0) for s in split_names]]
                                for name, w in written.items()])
    if "department" in dist:
        department_block = "![Rows per department](plots/departments.svg)\n\n" + card.table(
            ["department", "rows"], [[k, v] for k, v in dist["department"].items()])
    else:
        department_block = "(The rows carry no department column.)"
    if deid.get("ran"):
        policy = ("HIPAA Safe Harbor dates: only the year of dates tied to the patient is kept"
                  if deid.get("date_mode") == "year" else
                  "dates shifted by a keyed per-patient offset" if deid.get("date_mode") == "shift" else
                  f"**NOT HIPAA Safe Harbor**: dates keep {deid.get('date_mode')}")
        deid_block = (f"Every free-text field was de-identified before any later step read it (mode "
                      f"`{deid.get('mode')}`: typed placeholders such as [姓名] or keyed pseudonyms; record and "
                      f"patient keys are HMACs with the build's secret). Date policy: {policy}. Ages over 89 are "
                      f"published as 90岁以上. Identifiers replaced in {deid.get('records', 0):,} records:\n\n"
                      + card.table(["type", "replaced"], [[k, v] for k, v in
                                                          sorted(deid.get("identifiers_replaced", {}).items(),
                                                                 key=lambda kv: (-kv[1], kv[0]))]))
    else:
        deid_block = "This build ran no de-identification stage."
    withheld = (val.get("quarantined") or {}).get("residual_pii", 0)
    deid_block += ("\n\nAfter the build, an independent residual scan (no code or pattern shared with the "
                   "de-identifier) read every published text and found no identifier"
                   + (f"; {withheld:,} rows of records in which it found a suspected one were withheld (the "
                      "de-identifier's misses, to be fixed there)" if withheld else "") + ".")
    if kanon:
        qis = kanon.get("quasi_identifiers", {})
        kanon_block = (
            f"k = {kanon.get('k')}: every visit shares its quasi-identifiers, as published, with visits of at least "
            f"k-1 other patients. Quasi-identifiers the rows carry: department (a column), sex and age (stated in the "
            f"text), visit year (where a summary states it); region is not carried. Visits in scope: "
            f"{kanon.get('records_in_scope', 0):,} (with department {qis.get('department', 0):,}, sex "
            f"{qis.get('sex', 0):,}, age {qis.get('age', 0):,}, visit year {qis.get('year', 0):,}). Rows of one "
            f"visit count once; published rows carry no link between a patient's visits.\n\n"
            "Generalisation applied, by visits:\n\n"
            + card.table(["level", "visits"], [[k, kanon.get("levels", {}).get(k, 0)] for k in LEVEL_ORDER])
            + "\n\n![Visits by class size](plots/kanon.svg)\n\n"
            f"{kanon.get('rows_quarantined', 0) + (val.get('quarantined') or {}).get('k_anonymity', 0):,} rows of "
            "suppressed visits were left out.")
    else:
        kanon_block = "No k-anonymity stage ran for this version."
    preference_block = _preference_block(buildinfo.manifests(buildinfo.out_dir(ctx) / "work").get("preference"),
                                         written.get("dpo"))
    ethics = config.ethics or {"consent": "not declared by the recipe", "ethics_review": "not declared by the recipe"}
    ethics_block = card.table(["field", "value"], [[k.replace("_", " "), v] for k, v in sorted(ethics.items())],
                              "ll")
    if val.get("passed"):
        validation_block = (
            f"Great Expectations suites derived from `{val.get('contract') or 'the table'}` and the gate's rules "
            f"passed: {val.get('evaluated', 0)} expectations (ids, required fields, enums, lengths, messages "
            "well-formed, no residual identifier, instruction-quality rules with their largest allowed shares "
            f"{json.dumps(val.get('max_share', {}), sort_keys=True)}, splits and leakage, k-anonymity, row "
            "accounting).")
    else:
        validation_block = "**This version was published without the validation gate.**"
    split_method = manifest["split"]["method"]
    prov = [f"- cmedins {manifest['cmedins_version']}, code version `{manifest['code_version']}`, build seed "
            f"{manifest['seed']}, build key `{manifest.get('build_key') or 'n/a'}`"]
    for s in sources:
        rev = f"sha256 `{s['sha256'][:16]}…`" if s.get("sha256") else "revision unknown"
        syn = f", synthetic: {json.dumps(s['synthetic'], sort_keys=True)}" if s.get("synthetic") else ""
        prov.append(f"- source `{s.get('name')}` ({s.get('kind')}): {rev}{syn}")
    return {
        "pretty_name": config.pretty_name, "name": f"`{config.name}`", "version": config.version,
        "synthetic_note": ("> **Synthetic.** This version is built from a synthetic hospital corpus generated by "
                           "cmedins itself: no real patient is in it. It shows the pipeline; do not train a clinical "
                           "model on it." if synthetic else ""),
        "load_path": load_path, "lf_example": f"{config.name}_sft",
        "configs_table": configs_table, "split_method": split_method,
        "task_table": (card.table(["mixture group", "rows"], [[k, v] for k, v in dist["source_group"].items()])
                       + "\n\n" if "source_group" in dist else "")
        + card.table(["task", "rows"], [[k, v] for k, v in dist.get("task", {}).items()]),
        "department_block": department_block,
        "sources_table": card.table(["source", "rows", "licence"], _licences(rows, config), "lrl"),
        "license_line": f"`{config.license}`" + (f" ({config.license_name})" if config.license_name else ""),
        "deid_block": deid_block, "kanon_block": kanon_block, "ethics_block": ethics_block,
        "preference_block": preference_block,
        "validation_block": validation_block, "changes_block": changes, "provenance_block": "\n".join(prov),
    }


@register_stage("publish", config=PublishConfig, kind="reduce", input_files=publish_files)
def publish_stage(table: pa.Table, config: PublishConfig, ctx: StageContext) -> StageOutput:
    """Write the release; the input passes through unchanged (less the gate's check columns)."""
    from cmedins.publish.diff import diff_versions, load_version, render

    out = buildinfo.out_dir(ctx)
    work = out / "work"
    rows = without_checks(table)
    validation = _validation(work, rows, config.require_validation)
    splits = assign_splits(rows, ctx.seed)
    published = rows.drop_columns([c for c in ("split", *config.drop_columns) if c in rows.column_names])
    configs = [ConfigData("sft", by_split(published, splits))]
    if "task" in published.column_names:
        tasks = published.column("task")
        for task in sorted({t for t in tasks.to_pylist() if t}):
            name = CONFIG_NAME.sub("_", str(task).lower()).strip("_")
            if name in ("sft", "dpo") or not name:
                continue
            mask = pc.equal(tasks, task)
            keep = [s for s, m in zip(splits, mask.to_pylist(), strict=True) if m]
            configs.append(ConfigData(name, by_split(published.filter(mask), keep)))
    dpo = config.dpo or _validated_dpo(work)
    if dpo:
        configs.append(_preference(dpo, ctx.seed, config.drop_columns))
    dist: dict[str, dict[str, int]] = {}
    for col in ("task", "department", "source", "source_group"):
        if col in published.column_names:
            dist[col] = _ordered(Counter(str(v) if v is not None else "(not a task row)"
                                         for v in published.column(col).to_pylist()))
    if "department" not in dist and {"category", "task"} <= set(published.column_names):  # mixed rows
        dist["department"] = _ordered(Counter(str(c) for c, t in zip(published.column("category").to_pylist(),
                                                                      published.column("task").to_pylist(),
                                                                      strict=True) if t is not None and c))
    user_len, answer_len = _user_answer_lengths(published)
    kanon = _read_json(work / "kanon" / "kanon.json") if "kanon" in buildinfo.manifests(work) else {}
    kanon.pop("output_ids", None)
    previous = Path(config.previous) if config.previous else out / config.folder
    build_key_file = ctx.workdir / "parts" / "KEY"
    with staged(out, config.folder) as tmp:
        written = write_shards(tmp, configs, max_rows=config.max_shard_rows, max_bytes=config.max_shard_mb << 20)
        (tmp / "plots").mkdir()
        figures = {"plots/tasks.svg": plots.bar_chart(dist.get("task", {}), "Rows per task"),
                   "plots/lengths.svg": plots.histogram({"user text": user_len, "answer": answer_len},
                                                        "Lengths in characters", "characters")}
        if "department" in dist:
            figures["plots/departments.svg"] = plots.bar_chart(dist["department"], "Rows per department")
        if kanon.get("class_sizes"):
            figures["plots/kanon.svg"] = plots.bar_chart(kanon["class_sizes"], "Visits by k-anonymity class size")
        for rel, svg in figures.items():
            (tmp / rel).write_text(svg, encoding="utf-8")
        lf = llamafactory.dataset_info({c.name: list(c.splits) for c in configs}, prefix=config.name,
                                       repo_id=config.repo_id, tools="tools" in published.column_names)
        dump_json(lf, tmp / "dataset_info.json")
        group = group_column(rows)
        manifest = {
            "name": config.name, "version": config.version, "cmedins_version": __version__,
            "code_version": code_version(), "seed": ctx.seed,
            "build_key": build_key_file.read_text(encoding="utf-8").strip() if build_key_file.is_file() else None,
            "configs": written.configs,
            "files": checksum_files(tmp, written, [*sorted(figures), "dataset_info.json"]),
            "sources": buildinfo.sources(work), "source_licences": {r[0]: r[2] for r in _licences(rows, config)},
            "license": config.license, "license_name": config.license_name, "ethics": config.ethics,
            "deid": buildinfo.deid_policy(work), "kanon": kanon, "validation": validation,
            "split": {"method": "the table's split column (mix stage)" if "split" in rows.column_names else
                      f"by {group} hash with the build seed, {FALLBACK_VALIDATION_SHARE:.0%} validation",
                      "validation_share": FALLBACK_VALIDATION_SHARE if "split" not in rows.column_names else None},
            "dropped_columns": sorted(c for c in config.drop_columns if c in rows.column_names),
        }
        dump_json(manifest, tmp / "manifest.json")
        if previous.is_dir() and (previous / "data").is_dir():
            diff = diff_versions(load_version(previous, "previous version"), load_version(tmp, "this version"))
            changes = render(diff)
        else:
            changes = "First version: nothing to compare with."
        fields = _blocks(config=config, ctx=ctx, rows=rows, configs=configs, written=written.configs,
                         manifest=manifest, changes=changes, dist=dist)
        fields["front_matter"] = card.front_matter(
            pretty_name=config.pretty_name, license_id=config.license, license_name=config.license_name,
            languages=config.languages,
            tags=[*config.tags, *(["synthetic"] if any(s.get("synthetic") for s in manifest["sources"]) else [])],
            configs={c.name: {s: (t.num_rows, t.nbytes) for s, t in c.splits.items()} for c in configs},
            schemas={c.name: next(iter(c.splits.values())).schema for c in configs if c.splits})
        template = Path(config.card_template) if config.card_template else None
        (tmp / "README.md").write_text(card.render(fields, template), encoding="utf-8")
    stats = {f"published:{c.name}/{s}": t.num_rows for c in configs for s, t in c.splits.items()}
    stats.update({"files": len(manifest["files"]), "bytes": sum(f["bytes"] for f in manifest["files"].values())})
    return StageOutput(kept=rows, stats=dict(sorted(stats.items())))
