"""What one dialogue or general-data source of the mixture is: where its rows come from, their format, the mixture
group they count in and their licence. Parsed from the `mix` stage's `sources:` list; every problem is one line.
"""

from __future__ import annotations

import codecs
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmedins.sources.embedded import GENERATORS

# Adapter formats (cmedins/sources/formats.py). The dataset names are aliases of the generic shape they publish in.
FORMATS = ("auto", "alpaca", "cmtmedqa", "huatuo26m", "chatmed", "sharegpt", "firefly", "messages", "self_instruct")
DIALOGUE = "dialogue"  # group: split by user turns into DIALOGUE_SINGLE / DIALOGUE_MULTI
DIALOGUE_SINGLE, DIALOGUE_MULTI = "dialogue_single", "dialogue_multi"
_OPTIONS = ("name", "group", "format", "path", "hub", "hub_config", "split", "revision", "generate", "rows", "seed",
            "licence", "encoding", "delimiter", "columns", "json_key", "fields", "id_field", "group_field",
            "category_field", "unescape_newlines", "max_rows", "identifiers")
IDENTIFIER_MODES = ("deid", "deid_all", "quarantine", "keep")


class SourceSpecError(ValueError):
    """A source entry of the recipe that cannot be used; one line naming the source and the option."""


@dataclass(frozen=True)
class SourceSpec:
    """One external source of the mixture.

    Exactly one of `path` (a local file or glob: .json, .jsonl, .csv, .tsv, .parquet), `hub` (a Hugging Face dataset
    id, read with `datasets.load_dataset` when that package is installed; `hub_config`, `split`, `revision` pin it)
    or `generate` (an embedded generator of cmedins/sources/embedded.py, `rows` rows from `seed`).

    group: the mixture group its rows count in (a key of the mix `shares`); `dialogue` puts rows with one user turn
        in dialogue_single and the others in dialogue_multi; a mapping sends each row by its category
        (`{code: general_code, "*": general_wiki}`; "*" is required and catches the rest).
    format: the adapter (cmedins/sources/formats.py); `auto` picks one from the first row's keys.
    fields: renames, adapter field -> the file's field (BELLE eval: `{instruction: question, output: std_answer}`).
    id_field / group_field / category_field: the file's field holding the row's own id, the key rows are grouped by
        for the train/validation split (a conversation or patient id; default: the id, else the row), and the
        category (default: the format's own, e.g. CMtMedQA cate1, Firefly category).
    unescape_newlines: turn literal backslash-n sequences into line breaks (Alpaca-CoT's files are double-escaped).
    max_rows: read only the first N rows (large sources in a quick build).
    identifiers: this source's action on residual-scan findings, overriding the stage's `identifiers`; `keep` (only
        here: count the findings, change nothing) is for sources known to hold no personal data, such as
        encyclopedic text, where place names are content and the de-identifier would erase them.
    """

    name: str
    group: str | dict[str, str]
    format: str = "auto"
    path: str | None = None
    hub: str | None = None
    hub_config: str | None = None
    split: str = "train"
    revision: str | None = None
    generate: str | None = None
    rows: int = 500
    seed: int | None = None  # generators: default the build's seed
    licence: str = "unknown"
    encoding: str = "utf-8"
    delimiter: str | None = None
    columns: tuple[str, ...] | None = None
    json_key: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    id_field: str | None = None
    group_field: str | None = None
    category_field: str | None = None
    unescape_newlines: bool = False
    max_rows: int | None = None
    identifiers: str | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> SourceSpec:
        """Check one recipe entry; every problem is a one-line SourceSpecError."""
        if not isinstance(raw, dict):
            raise SourceSpecError("mix: each entry of `sources` must be a mapping with at least name and group")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or ":" in name:
            raise SourceSpecError("mix: every source needs a non-empty `name` without ':'")
        label = f"mix: source {name!r}"
        unknown = sorted(set(raw) - set(_OPTIONS))
        if unknown:
            raise SourceSpecError(f"{label}: unknown option(s) {', '.join(unknown)}; known: {', '.join(_OPTIONS)}")
        where = [k for k in ("path", "hub", "generate") if raw.get(k) is not None]
        if len(where) != 1:
            raise SourceSpecError(f"{label}: give exactly one of path, hub or generate (got {len(where)})")
        values = dict(raw)
        if raw.get("generate") is not None:
            gen = GENERATORS.get(raw["generate"])
            if gen is None:
                raise SourceSpecError(f"{label}: generate must be one of {', '.join(GENERATORS)}")
            if raw.get("format", gen.format) not in ("auto", gen.format):
                raise SourceSpecError(f"{label}: generator {raw['generate']!r} writes format {gen.format!r}")
            values["format"] = gen.format
        fmt = values.get("format", "auto")
        if fmt not in FORMATS:
            raise SourceSpecError(f"{label}: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        group = raw.get("group")
        if isinstance(group, dict):
            if "*" not in group or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in group.items()):
                raise SourceSpecError(f"{label}: a group mapping maps category -> group and needs a '*' entry")
        elif not isinstance(group, str) or not group:
            raise SourceSpecError(f"{label}: `group` names the mixture group of its rows (or is a mapping)")
        try:
            codecs.lookup(str(raw.get("encoding", "utf-8")))
        except LookupError:
            raise SourceSpecError(f"{label}: unknown encoding {raw.get('encoding')!r}") from None
        fields = raw.get("fields") or {}
        if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in fields.items()):
            raise SourceSpecError(f"{label}: `fields` maps adapter field names to the file's field names")
        for key in ("rows", "seed", "max_rows"):
            if raw.get(key) is not None and (not isinstance(raw[key], int) or isinstance(raw[key], bool)
                                             or raw[key] < (0 if key == "seed" else 1)):
                raise SourceSpecError(f"{label}: {key} must be a positive integer")
        if raw.get("identifiers") not in (None, *IDENTIFIER_MODES):
            raise SourceSpecError(f"{label}: identifiers must be one of {', '.join(IDENTIFIER_MODES)}")
        columns = raw.get("columns")
        if columns is not None and (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)):
            raise SourceSpecError(f"{label}: `columns` lists the column names of a file without a header row")
        delimiter = raw.get("delimiter")
        if delimiter == "\\t":
            values["delimiter"] = "\t"
        values["fields"] = dict(fields)
        values["columns"] = tuple(columns) if columns is not None else None
        return cls(**values)

    @property
    def label(self) -> str:
        return f"mix: source {self.name!r}"

    def files(self) -> list[Path]:
        """The local files this source reads, sorted (a glob may name several); empty for hub and generated data."""
        if self.path is None:
            return []
        if glob.has_magic(self.path):
            return [Path(p) for p in sorted(glob.glob(self.path))]
        return [Path(self.path)]

    def group_of(self, category: str | None, user_turns: int) -> str:
        """The mixture group of one row."""
        if isinstance(self.group, dict):
            return self.group.get(category or "", self.group["*"])
        if self.group == DIALOGUE:
            return DIALOGUE_SINGLE if user_turns <= 1 else DIALOGUE_MULTI
        return self.group

    def groups(self) -> list[str]:
        """Every group this source's rows can count in (checked against the mix shares before anything runs)."""
        if isinstance(self.group, dict):
            return sorted(set(self.group.values()))
        if self.group == DIALOGUE:
            return [DIALOGUE_SINGLE, DIALOGUE_MULTI]
        return [self.group]
