"""Load the data contracts (`cmedins/schemas/*.yaml`, package data) into pyarrow schemas.

The YAML files are the single source of truth: code, docs and validation suites all read them, so a field is
described in exactly one place. They ship inside the package and are read through `importlib.resources`, so a
wheel install finds them; the top-level `schemas/` folder is an identical copy for people to read (a test checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import pyarrow as pa
import yaml

SCHEMAS = files("cmedins") / "schemas"

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "list<string>": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a contract, as documented in its YAML file."""

    name: str
    type: str
    required: bool = False
    identifier: bool = False
    description: str = ""
    enum: tuple[str, ...] | None = None
    max_chars: int | None = None
    free_text: bool = False
    label: str | None = None
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    @property
    def arrow_type(self) -> pa.DataType:
        if self.type == "list<struct>":
            return pa.list_(pa.struct([pa.field(f.name, f.arrow_type) for f in self.fields]))
        try:
            return _SCALARS[self.type]
        except KeyError:
            raise ValueError(f"unknown contract type {self.type!r} for field {self.name!r}") from None


@dataclass(frozen=True)
class Contract:
    """A versioned table contract: its fields and the matching pyarrow schema."""

    name: str
    version: int
    fields: tuple[FieldSpec, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(f.name, f.arrow_type, nullable=not f.required) for f in self.fields],
            metadata={"contract": f"{self.name}.v{self.version}"},
        )

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _field(raw: dict) -> FieldSpec:
    return FieldSpec(
        name=raw["name"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        identifier=bool(raw.get("identifier", False)),
        description=str(raw.get("description", "")).strip(),
        enum=tuple(raw["enum"]) if raw.get("enum") else None,
        max_chars=raw.get("max_chars"),
        free_text=bool(raw.get("free_text", False)),
        label=raw.get("label"),
        fields=tuple(_field(f) for f in raw.get("fields", [])),
    )


@cache
def load_contract(name: str, version: int = 1) -> Contract:
    """Load `cmedins/schemas/<name>.v<version>.yaml`."""
    raw = yaml.safe_load((SCHEMAS / f"{name}.v{version}.yaml").read_text(encoding="utf-8"))
    return Contract(name=raw["name"], version=int(raw["version"]), fields=tuple(_field(f) for f in raw["fields"]))


def empty_table(name: str, version: int = 1) -> pa.Table:
    """An empty table with the contract's schema."""
    return load_contract(name, version).schema.empty_table()


def _section_labels() -> dict[str, str]:
    return {f.name: f.label or f.name for f in load_contract("record").fields if f.free_text}


# The free-text sections of a record (record.v1 and deid_record.v1), in the order a Chinese EMR presents them, with
# their Chinese labels: read from the `free_text: true` fields of record.v1, the one place they are declared.
SECTION_LABELS: dict[str, str] = _section_labels()
TEXT_FIELDS: tuple[str, ...] = tuple(SECTION_LABELS)
