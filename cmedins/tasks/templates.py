"""Instruction templates (data files under `templates/`) and the seeded, stable choice among them.

The choice is a pure function of (seed, record hash, task, item key): re-running a build picks the same template
for the same record, a new seed reshuffles them, and nothing depends on Python's `hash()` or global random state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import xxhash
import yaml

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_SCALE = float(1 << 64)
# Template files of plugin tasks that live outside this package (set by `register_task(..., templates=path)`).
EXTRA_TEMPLATE_FILES: dict[str, Path] = {}


@dataclass(frozen=True)
class Template:
    id: str  # e.g. triage.zh.3
    language: str  # zh or en
    text: str


def template_file(task: str) -> Path:
    """The template file of `task`: a plugin's own file, or `templates/<task>.yaml` in this package."""
    return EXTRA_TEMPLATE_FILES.get(task, TEMPLATE_DIR / f"{task}.yaml")


@cache
def load_templates(task: str) -> dict[str, tuple[Template, ...]]:
    """Templates of `task` by language; a task without a file has no templates (an error at build time)."""
    path = template_file(task)
    if not path.exists():
        raise FileNotFoundError(f"no instruction templates for task {task!r} ({path.name} missing)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, tuple[Template, ...]] = {}
    for lang in ("zh", "en"):
        texts = [str(t).strip() for t in raw.get(lang) or []]
        out[lang] = tuple(Template(f"{task}.{lang}.{i + 1}", lang, t) for i, t in enumerate(texts))
    if not out["zh"]:
        raise ValueError(f"{path.name}: no zh templates")
    return out


def unit(seed: int, *parts: str) -> float:
    """A stable pseudo-random number in [0, 1) from the seed and the parts."""
    msg = "\x1f".join((str(seed), *parts)).encode("utf-8")
    return xxhash.xxh64_intdigest(msg) / _SCALE


def choose(task: str, seed: int, record_hash: str, key: str, english_fraction: float, offset: int = 0) -> Template:
    """Pick the template for one item. `offset` gives distinct templates to repeated items (weight > 1)."""
    templates = load_templates(task)
    lang = "en" if templates["en"] and unit(seed, "lang", record_hash, task, key) < english_fraction else "zh"
    pool = templates[lang]
    base = xxhash.xxh64_intdigest("\x1f".join((str(seed), "tpl", record_hash, task, key)).encode("utf-8"))
    return pool[(base + offset) % len(pool)]
