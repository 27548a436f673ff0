"""Options of the `tasks` and `tasks_public` stages (one dataclass, so a recipe can share them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cmedins.tasks.registry import DEFAULT_TASKS


@dataclass
class TasksConfig:
    """Options of the instruction task builders.

    tasks: task ids to build, in output order (default: the six CMedINS tasks).
    weights: per task, expected rows per eligible record. Below 1 a deterministic, seeded fraction of records is
        kept; above 1 the integer part gives that many rows with distinct templates, the fraction one more row.
        A missing task means 1.0.
    english_fraction: fraction of rows whose instruction uses an English template (query and answer stay Chinese).
    max_query_chars / max_answer_chars: longer pairs are quarantined (query_too_long / answer_too_long), not cut,
        so that no answer refers to text the model never sees.
    system_prompt: optional system message prepended to `messages`.
    plugins: importable modules that call `register_task` to add tasks (they also need a templates file).
    cdee_paths: CHIP-CDEE JSON arrays (`text`, `event`) read by `tasks_public` for event extraction.
    cdn_paths: CHIP-CDN JSON arrays (`text`, `normalized_result`) read by `tasks_public` for normalisation;
        needs `icd10_path`, a TSV `code<TAB>name` (the public ICD-10 Beijing clinical v601 list).
    public_limit: at most this many entries per public file (None: all), for quick builds.
    min_subject_overlap: an extracted event counts as grounded when this share of its subject's characters occurs
        in the query (CHIP-CDEE normalises subjects: 腹痛 is annotated 疼痛 + 腹); below it the row is quarantined.
    event_sentences: at most this many annotated sentences of one record become task-1 rows (a stable choice by
        record hash and sentence, kept in record order); None for all. Synthetic records carry ~10 annotated
        sentences each, so without a cap task 1 would be two thirds of the dataset. A sentence refused by a check
        or by `query_cap` gives its place to the record's next sentence.
    leakage: how the diagnosis and triage queries lose the clauses that give their answer away (`leakage.py`):
        `clause` (drop the clause, default), `sentence` (drop its sentence), `mask` (replace the names with
        `leakage_mask`) or `off`. Rows whose answer is still readable in the query are quarantined either way
        (`answer_in_query`), except with `off`.
    leakage_scope: `primary` (default) removes the primary diagnosis wherever the query names it and every
        diagnosis of the answer where a diagnostic statement names it (诊断为…, 以“…”收入院); `all` removes every
        diagnosis of the answer wherever it is named (the past history loses its comorbidities too).
    leakage_mask: the replacement text of `leakage: mask`.
    query_cap: per task, at most this many rows share one normalised query (whitespace and punctuation removed);
        the rest are dropped (`capped:<task>`), or for task 1 replaced by another sentence of the same record.
        Common findings (`双下肢无水肿。`) otherwise dominate task 1.
    rules_dir: a directory holding reviewed replacements of the clinical data files of `cmedins/tasks/data/`
        (drug classes, allergy rules, contraindications, departments, diagnosis synonyms), file by file.
    """

    tasks: list[str] = field(default_factory=lambda: list(DEFAULT_TASKS))
    weights: dict[str, float] = field(default_factory=dict)
    english_fraction: float = 0.1
    max_query_chars: int = 6000
    max_answer_chars: int = 6000
    system_prompt: str | None = None
    plugins: list[str] = field(default_factory=list)
    cdee_paths: list[str] = field(default_factory=list)
    cdn_paths: list[str] = field(default_factory=list)
    icd10_path: str | None = None
    public_limit: int | None = None
    min_subject_overlap: float = 0.5
    event_sentences: int | None = 2
    leakage: str = "clause"
    leakage_scope: str = "primary"
    leakage_mask: str = "××"
    query_cap: dict[str, int] = field(default_factory=lambda: {"event_extraction": 10})
    rules_dir: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.english_fraction <= 1.0:
            raise ValueError(f"tasks: english_fraction must be in [0, 1], got {self.english_fraction}")
        for name, w in self.weights.items():
            if w < 0:
                raise ValueError(f"tasks: weight of {name!r} must be >= 0, got {w}")
        unknown = sorted(set(self.weights) - set(self.tasks))
        if unknown:
            raise ValueError(f"tasks: weights name task(s) not enabled: {', '.join(unknown)}")
        if self.event_sentences is not None and self.event_sentences < 1:
            raise ValueError(f"tasks: event_sentences must be >= 1 or null, got {self.event_sentences}")
        from cmedins.tasks.leakage import MODES, SCOPES

        if self.leakage not in MODES:
            raise ValueError(f"tasks: leakage must be one of {', '.join(MODES)}, got {self.leakage!r}")
        if self.leakage_scope not in SCOPES:
            raise ValueError(f"tasks: leakage_scope must be one of {', '.join(SCOPES)}, got {self.leakage_scope!r}")
        for name, cap in self.query_cap.items():
            if cap is not None and cap < 1:
                raise ValueError(f"tasks: query_cap of {name!r} must be >= 1 or null, got {cap}")
        if self.cdn_paths and not self.icd10_path:
            raise ValueError("tasks: cdn_paths needs icd10_path (the ICD-10 list that gives the codes)")
        from cmedins.tasks.build import enabled_specs

        enabled_specs(self)  # imports the plugins; an unknown task or a missing template file fails here
        from cmedins.tasks.rules import load_rules

        load_rules(self.rules_dir)  # a broken rule file fails here, naming the file and the rule
