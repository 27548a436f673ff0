"""The dataset card: `README.md` rendered from a template in `data_cards/` (shipped in the package as
`cmedins/publish/data/`; a test keeps the two identical), with YAML front matter the Hub and `datasets` read.

Front matter: `configs:` (one per config, `sft` the default, data files per split by glob), `dataset_info:`
(features from the shards' Arrow schema, as `datasets` writes them, and rows per split), language, licence, task
categories, size category, tags. The body is Markdown blocks computed here and substituted into the template's
`${...}` fields (string.Template: no template engine, and a missing field is an error, not an empty gap).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

import pyarrow as pa
import yaml

TEMPLATE = Path(str(files("cmedins") / "publish" / "data" / "cmedins.md"))
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"))


def size_category(rows: int) -> str:
    return next((label for limit, label in SIZE_CATEGORIES if rows < limit), "10M<n<100M")


def features_yaml(schema: pa.Schema) -> list[dict[str, Any]]:
    """The `features:` list of the card, exactly as `datasets` writes it for this Arrow schema."""
    import datasets

    return datasets.Features.from_arrow_schema(schema)._to_yaml_list()


def front_matter(*, pretty_name: str, license_id: str, license_name: str, languages: list[str], tags: list[str],
                 configs: dict[str, dict[str, tuple[int, int]]], schemas: dict[str, pa.Schema],
                 default: str = "sft") -> str:
    """The YAML between the card's `---` lines (deterministic: fixed key order, no timestamps). `configs`: per
    config and split, (rows, bytes of the Arrow data)."""
    main = configs[default] if default in configs else {f"{c}/{s}": v for c, d in configs.items() for s, v in d.items()}
    total = sum(rows for rows, _ in main.values())
    meta: dict[str, Any] = {"pretty_name": pretty_name, "language": languages, "license": license_id}
    if license_id == "other" and license_name:
        meta["license_name"] = license_name
    meta.update({
        "task_categories": ["text-generation", "question-answering"],
        "tags": tags,
        "size_categories": [size_category(total)],
        "configs": [
            {"config_name": name, **({"default": True} if name == default else {}),
             "data_files": [{"split": split, "path": f"data/{name}/{split}-*"} for split in splits]}
            for name, splits in configs.items()
        ],
        "dataset_info": [
            {"config_name": name, "features": features_yaml(schemas[name]),
             "splits": [{"name": split, "num_bytes": size, "num_examples": rows}
                        for split, (rows, size) in splits.items()]}
            for name, splits in configs.items()
        ],
    })
    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=120).rstrip("\n")


def table(header: list[str], rows: list[list[Any]], align: str = "") -> str:
    """A Markdown table; `align` has one `l` or `r` per column (default: first left, others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def render(fields: dict[str, str], template: Path | None = None) -> str:
    """The card: the template with every `${field}` substituted."""
    text = (template or TEMPLATE).read_text(encoding="utf-8")
    try:
        return Template(text).substitute(fields)
    except KeyError as exc:
        raise ValueError(f"card template {(template or TEMPLATE).name}: no value for ${{{exc.args[0]}}}") from None
