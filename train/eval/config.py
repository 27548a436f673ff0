"""The evaluation YAML (train/configs/eval*.yaml) as typed settings; every problem is a UsageError naming the key.

Why typed sections with fixed keys: the generation settings are part of the answer cache key and the judge settings
of the judgment cache key, so a misspelt key silently falling back to a default would mix results of different
settings. Paths are taken relative to the working directory (the repository root), test-set paths relative to
`data_root` (overridden by `--data-root`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train.config import UsageError, read_yaml_mapping

FORMATS = ("auto", "huatuo26m", "cmtmedqa", "messages", "alpaca", "sharegpt", "firefly", "chatmed")
ROWS = ("dialogues", "safety", "all")  # CMtMedQA-test: 1000 dialogues, then 144 safety rows {instruct, output}
TURNS = ("all", "last")
JUDGE_KINDS = ("openai", "local", "fake")
FAKE_RULES = ("longer", "always_a", "tie")


@dataclass(frozen=True)
class TestSet:
    """One evaluation file: every assistant turn of every row becomes an item (with the rows before it as history)."""

    __test__ = False  # not a pytest class, despite the name

    name: str
    path: str
    format: str = "auto"
    limit: int | None = None  # the first N rows (after the `rows` filter); null = all
    rows: str = "dialogues"  # cmtmedqa only: which of its two schemas to read
    turns: str = "all"  # `last`: only the final assistant turn of each row


@dataclass(frozen=True)
class Generation:
    """Decoding settings; all but batch_size are part of the answer cache key."""

    batch_size: int = 8
    max_new_tokens: int = 512
    do_sample: bool = False
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.0
    seed: int = 0
    max_input_tokens: int = 3584  # oldest history turns are dropped first to fit
    dtype: str = "bfloat16"  # GPU only; the CPU always uses float32

    def key_fields(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "batch_size"}


@dataclass(frozen=True)
class Judge:
    """Who judges and how it is called; endpoint URL, model and key come from the environment, never from here."""

    kind: str = "openai"
    rule: str = "longer"  # fake judge: longer | always_a | tie
    model: str | None = None  # local judge: a transformers model folder or Hub id
    temperature: float = 0.0
    max_tokens: int = 256
    timeout_s: float = 120.0
    max_retries: int = 5
    backoff_s: float = 2.0
    requests_per_minute: float = 60.0
    concurrency: int = 4
    pairwise_prompt: str = "train/prompts/judge_pairwise.txt"
    safety_prompt: str = "train/prompts/judge_safety.txt"


@dataclass(frozen=True)
class Report:
    bootstrap: int = 1000
    seed: int = 0
    examples: int = 3  # wins and losses shown per test set


@dataclass
class EvalConfig:
    path: Path
    test_sets: list[TestSet] = field(default_factory=list)
    safety_items: str | None = "train/eval/data/safety_items.jsonl"
    data_root: str = "../shared/realdata"
    cache_dir: str = "runs/eval-cache"
    out_dir: str = "runs/eval"
    generation: Generation = field(default_factory=Generation)
    judge: Judge = field(default_factory=Judge)
    report: Report = field(default_factory=Report)

    def test_set_path(self, ts: TestSet) -> Path:
        path = Path(ts.path)
        return path if path.is_absolute() else Path(self.data_root) / path


def _section(cls: type, raw: Any, where: str):
    """Build a frozen settings dataclass from a mapping, checking key names and value types."""
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in fields:
            raise UsageError(f"{where}: unknown key '{key}' (known: {', '.join(fields)})")
        default = fields[key].default
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            if isinstance(value, str):  # YAML 1.1 reads 1e-3 as a string
                try:
                    value = float(value)
                except ValueError:
                    pass
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            value = float(value) if ok else value
        else:
            ok = value is None or isinstance(value, str | int)
        if key == "limit":
            ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)
        if not ok:
            raise UsageError(f"{where}: '{key}' has the wrong type ({type(value).__name__}: {value!r})")
        values[key] = value
    return cls(**values)


def _choice(value: str, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise UsageError(f"{where} must be one of {', '.join(allowed)}, not {value!r}")


def load_config(path: str | Path) -> EvalConfig:
    path = Path(path)
    raw = read_yaml_mapping(path)
    known = {"test_sets", "safety_items", "data_root", "cache_dir", "out_dir", "generation", "judge", "report"}
    for key in raw:
        if key not in known:
            raise UsageError(f"{path}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    sets_raw = raw.get("test_sets") or []
    if not isinstance(sets_raw, list):
        raise UsageError(f"{path}: test_sets must be a list")
    test_sets = []
    for i, entry in enumerate(sets_raw):
        where = f"{path}: test_sets[{i}]"
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("path"):
            raise UsageError(f"{where}: needs at least `name` and `path`")
        ts = _section(TestSet, entry, where)
        _choice(ts.format, FORMATS, f"{where}: format")
        _choice(ts.rows, ROWS, f"{where}: rows")
        _choice(ts.turns, TURNS, f"{where}: turns")
        test_sets.append(ts)
    names = [ts.name for ts in test_sets]
    if len(set(names)) != len(names):
        raise UsageError(f"{path}: test set names must be unique")
    cfg = EvalConfig(path=path, test_sets=test_sets)
    for key in ("safety_items", "data_root", "cache_dir", "out_dir"):
        if key in raw:
            if raw[key] is not None and not isinstance(raw[key], str):
                raise UsageError(f"{path}: '{key}' must be a path")
            setattr(cfg, key, raw[key])
    cfg.generation = _section(Generation, raw.get("generation"), f"{path}: generation")
    cfg.judge = _section(Judge, raw.get("judge"), f"{path}: judge")
    cfg.report = _section(Report, raw.get("report"), f"{path}: report")
    _choice(cfg.judge.kind, JUDGE_KINDS, f"{path}: judge.kind")
    _choice(cfg.judge.rule, FAKE_RULES, f"{path}: judge.rule")
    if cfg.generation.batch_size < 1 or cfg.generation.max_new_tokens < 1 or cfg.judge.concurrency < 1:
        raise UsageError(f"{path}: batch_size, max_new_tokens and concurrency must be at least 1")
    if cfg.generation.dtype not in ("bfloat16", "float16", "float32", "auto"):
        raise UsageError(f"{path}: generation.dtype must be bfloat16, float16, float32 or auto")
    return cfg
