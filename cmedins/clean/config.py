"""Options of the `dedup` and `clean` stages (and of `python -m cmedins.clean dedup`).

Defaults were chosen by measurement on the synthetic corpus's planted duplicates (benchmarks/dedup_quality.py)
and on the default build's rows; the numbers behind each are in the option's line or the module that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmedins.clean.similarity import SIMILARITIES

PREFERENCES = ("longest", "first")


@dataclass
class DedupConfig:
    """Options of exact and near de-duplication.

    text_fields: columns joined (in this order) into the text compared; a duplicate must match all of them.
    group_by: columns that must be equal for two rows to be duplicates (rows of different tasks never are).
    shingle_chars: character n-gram size of the shingles (3: edited copies keep a Jaccard >= 0.68, distinct
        notes stay <= 0.35 on the synthetic corpus; 5-grams fall to 0.55 on 10 % edits).
    num_perm: MinHash permutations (datasketch affine32 scheme); at least bands * rows.
    bands / rows: LSH banding; a pair with Jaccard s becomes a candidate with probability 1 - (1 - s^rows)^bands
        (32 x 4: 0.87 at s = 0.5, 0.99 at 0.6, 0.9995 at 0.68); candidates whose MinHash estimate is far below
        the threshold are dropped before the exact comparison (jaccard only).
    threshold: exact similarity a candidate pair must reach to be a near duplicate (0.5 for clinical notes; the
        default recipe uses 0.7 on instruction rows, whose shared templates put distinct rows at 0.5-0.8).
    similarity: jaccard (|A∩B|/|A∪B|) or containment (|A∩B|/min(|A|,|B|): a text copied into a longer one).
    near_min_chars: texts shorter than this (normalised characters) are only de-duplicated exactly: in a short
        text one changed character is a different fact (阿司匹林100mg vs 10mg), not an edit of a copy.
    max_bucket: LSH buckets with more rows than this are compared over a sliding window, not all pairs.
    prefer: which row of a cluster is kept: longest (most normalised characters; ties: smallest id, then first)
        or first (input order).
    workers: processes computing signatures on large inputs (>= 20,000 rows); the result does not depend on it.
    seed: seed of the MinHash permutations.
    """

    text_fields: list[str] = field(default_factory=lambda: ["query", "answer"])
    group_by: list[str] = field(default_factory=lambda: ["task"])
    shingle_chars: int = 3
    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    threshold: float = 0.5
    similarity: str = "jaccard"
    near_min_chars: int = 50
    max_bucket: int = 64
    prefer: str = "longest"
    workers: int = 2
    seed: int = 1

    def __post_init__(self) -> None:
        if not self.text_fields:
            raise ValueError("dedup: text_fields must name at least one column")
        if self.shingle_chars < 1:
            raise ValueError(f"dedup: shingle_chars must be >= 1, got {self.shingle_chars}")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError(f"dedup: need bands >= 1, rows >= 1 and bands * rows <= num_perm, got {self.bands} x "
                             f"{self.rows} with num_perm {self.num_perm}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"dedup: threshold must be in (0, 1], got {self.threshold}")
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"dedup: similarity must be one of {', '.join(SIMILARITIES)}, got {self.similarity!r}")
        if self.prefer not in PREFERENCES:
            raise ValueError(f"dedup: prefer must be one of {', '.join(PREFERENCES)}, got {self.prefer!r}")
        if self.near_min_chars < 0 or self.max_bucket < 2 or self.workers < 1:
            raise ValueError("dedup: near_min_chars must be >= 0, max_bucket >= 2 and workers >= 1")


@dataclass
class CleanConfig:
    """Options of the per-row `clean` stage: decontamination first, then the quality filters; the first failing
    check gives the reason.

    eval_sets: evaluation sets, each {name, path}: a local JSON array or JSONL file (Huatuo26M-test and
        CMtMedQA-test layouts, alpaca, {question, answer}...) or builtin:NAME for a file shipped in
        cmedins/clean/data/. A row overlapping any item is quarantined as contaminated.
    ngram_chars: a run of this many normalised characters shared with an eval item is contamination. Against
        the real Huatuo26M-test + CMtMedQA-test: 13 matched 289 of the default build's 70,000 rows (clinical
        boilerplate), 16+ none; 20 matched 15 of ChatMed-Consult's 2,537 generated answers (stock phrases such as
        建议您寻求专业的心理帮助, none a copy), 32 none, while still finding the cMedQA-dev answers that copy a
        Huatuo26M-test answer (Huatuo-26M includes cMedQA).
    ngram_max_items: n-grams found in more eval items than this are the eval sets' own boilerplate, ignored.
    question_threshold: a query whose character 3-gram Jaccard with an eval question reaches this is contaminated
        (0.5: no hit among the default build's rows; 0.4 had 10).
    question_min_chars: eval questions and queries shorter than this (normalised) skip the question test.
    plant_eval: demo self-check: this many rows of the first batch are overwritten with eval items (a question
        as the query, or an answer as the answer), which the stage must then quarantine; counted as planted:<set>.
    min_query_chars / min_answer_chars: shorter normalised texts are too_short.
    max_tokens: token budget of the whole dialogue (every message, system prompt included): too_long above it.
    tokenizer: approx (1 token per CJK character, 1 per 3 others, 4 per message; errs long) or a Hugging Face
        tokenizer name or path (needs transformers).
    max_char_run: a letter or CJK character repeated this many times in a row is repeated_chars (digits and
        punctuation are not counted: 10000000, ——, …… are fine).
    max_unit_repeats: a 2-4 letter unit repeated this many times in a row is repeated_chars.
    copy_share: answer_copies_query when the answer is at least this long relative to the query and this share
        of its character 3-grams occurs in the query.
    min_script_share: a zh instruction needs this share of CJK among its letters, an en one this share of English
        letters (wrong_language). English letters are those of lower-case words of 4+ letters, so codes and
        abbreviations (ICD-10, IgAN, COPD, mg, bid) count for neither language.
    min_answer_cjk_share: an answer with 10 such letters or more needs this share of CJK among them.
    """

    eval_sets: list[dict[str, str]] = field(default_factory=list)
    ngram_chars: int = 32
    ngram_max_items: int = 3
    question_threshold: float = 0.5
    question_min_chars: int = 10
    plant_eval: int = 0
    min_query_chars: int = 2
    min_answer_chars: int = 2
    max_tokens: int = 4096
    tokenizer: str = "approx"
    max_char_run: int = 8
    max_unit_repeats: int = 5
    copy_share: float = 0.9
    min_script_share: float = 0.5
    min_answer_cjk_share: float = 0.2

    def __post_init__(self) -> None:
        names = []
        for spec in self.eval_sets:
            if not isinstance(spec, dict) or set(spec) != {"name", "path"}:
                raise ValueError("clean: each eval_sets entry needs exactly a name and a path")
            names.append(spec["name"])
        if len(set(names)) != len(names):
            raise ValueError("clean: eval_sets names must be unique")
        if self.ngram_chars < 8:
            raise ValueError(f"clean: ngram_chars must be >= 8 (shorter runs are common phrases), got "
                             f"{self.ngram_chars}")
        if self.plant_eval < 0 or (self.plant_eval and not self.eval_sets):
            raise ValueError("clean: plant_eval must be >= 0 and needs eval_sets to draw items from")
        for name in ("question_threshold", "copy_share", "min_script_share", "min_answer_cjk_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"clean: {name} must be in [0, 1], got {getattr(self, name)}")
        if min(self.ngram_max_items, self.max_tokens, self.max_char_run - 1, self.max_unit_repeats - 1) < 1:
            raise ValueError("clean: ngram_max_items and max_tokens must be >= 1, max_char_run and "
                             "max_unit_repeats >= 2")
