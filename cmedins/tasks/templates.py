"""Instruction templates (data files under `templates/`) and the seeded, stable choice among them.

The choice is a pure function of (seed, record hash, task, item key) and the formats the item can be written in:
re-running a build picks the same template for the same record, a new seed reshuffles them, and nothing depends
on Python's `hash()` or global random state. An `offset` walks on to the next template of the pool (a copy of a
weighted item, or a row that would otherwise repeat an existing row word for word).

A template entry is a string, or a mapping with `text` (before the query), `after` (after the query: the
PromptCBLUE layout `任务：\n<query>\n说明：…\n答：`) and `format` (the answer format it asks for, one of
`formats.FORMATS[task]`; default `default`).
"""

from __future__ import annotations

import re
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
    text: str  # the instruction before the query
    after: str = ""  # the instruction after the query (说明 / 答：), PromptCBLUE style
    format: str = "default"  # the answer format the template asks for

    @property
    def instruction(self) -> str:
        """The whole instruction as one text (the `instruction` column): before and after parts, without the
        trailing `答：` cue that only makes sense after the query."""
        return _instruction(self.text, self.after)

    def user_message(self, query: str) -> str:
        """What the user turn of `messages` says: instruction, query, then the after part."""
        return "\n".join(x for x in (self.text, query, self.after) if x)


@cache
def _instruction(text: str, after: str) -> str:
    after = re.sub(r"\n?答：$", "", after).strip()
    return "\n".join(x for x in (text, after) if x)


def template_file(task: str) -> Path:
    """The template file of `task`: a plugin's own file, or `templates/<task>.yaml` in this package."""
    return EXTRA_TEMPLATE_FILES.get(task, TEMPLATE_DIR / f"{task}.yaml")


@cache
def load_templates(task: str) -> dict[str, tuple[Template, ...]]:
    """Templates of `task` by language; a task without a file has no templates (an error at build time)."""
    path = template_file(task)
    if not path.exists():
        raise FileNotFoundError(f"no instruction templates for task {task!r} ({path.name} missing)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML ({type(exc).__name__})") from None
    out: dict[str, tuple[Template, ...]] = {}
    from cmedins.tasks.formats import FORMATS

    known = FORMATS.get(task)
    for lang in ("zh", "en"):
        templates = []
        for i, entry in enumerate(raw.get(lang) or []):
            if isinstance(entry, dict):
                text, after = str(entry.get("text") or "").strip(), str(entry.get("after") or "").strip()
                fmt = str(entry.get("format") or "default")
            else:
                text, after, fmt = str(entry).strip(), "", "default"
            if not (text or after):
                raise ValueError(f"{path.name}: {lang} template {i + 1} is empty")
            if known is not None and fmt not in known:
                raise ValueError(f"{path.name}: {lang} template {i + 1}: unknown format {fmt!r} "
                                 f"(known: {', '.join(known)})")
            templates.append(Template(f"{task}.{lang}.{i + 1}", lang, text, after, fmt))
        out[lang] = tuple(templates)
    if not out["zh"]:
        raise ValueError(f"{path.name}: no zh templates")
    return out


def unit(seed: int, *parts: str) -> float:
    """A stable pseudo-random number in [0, 1) from the seed and the parts."""
    msg = "\x1f".join((str(seed), *parts)).encode("utf-8")
    return xxhash.xxh64_intdigest(msg) / _SCALE


def choose(task: str, seed: int, record_hash: str, key: str, english_fraction: float, offset: int = 0,
           formats: frozenset[str] | set[str] | None = None) -> Template:
    """Pick the template for one item among those asking for a format the item has (all when `formats` is None).
    `offset` gives distinct templates to repeated items (weight > 1) and walks past would-be duplicate rows."""
    pool = pool_for(task, seed, record_hash, key, english_fraction, formats)
    return pool[offset % len(pool)]


def pool_for(task: str, seed: int, record_hash: str, key: str, english_fraction: float,
             formats: frozenset[str] | set[str] | None = None) -> list[Template]:
    """The eligible templates of one item, rotated so that index 0 is its seeded choice and index i the i-th
    alternative: language by `english_fraction` (Chinese when no English template fits), then the item's formats."""
    templates = load_templates(task)
    lang = "en" if templates["en"] and unit(seed, "lang", record_hash, task, key) < english_fraction else "zh"
    fmts = frozenset(formats) if formats is not None else None
    pool = _eligible(task, lang, fmts) or _eligible(task, "zh", fmts) or list(templates["zh"])
    base = xxhash.xxh64_intdigest("\x1f".join((str(seed), "tpl", record_hash, task, key)).encode("utf-8"))
    start = base % len(pool)
    return pool[start:] + pool[:start]



@cache
def _eligible(task: str, lang: str, formats: frozenset[str] | None) -> list[Template]:
    return [t for t in load_templates(task)[lang] if formats is None or t.format in formats]
