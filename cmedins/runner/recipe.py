"""Recipes: the *what* of a build (sources, stages and their options, seed), as YAML files like `pipelines/`.

Validation happens here, before anything runs, so that a typo in a recipe is one clear line and not a failure
twenty minutes into a build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

# The embedded default recipe ships inside the package (a wheel install has it); `pipelines/default.yaml` at the top
# of the repository is an identical copy for people to read and copy.
DEFAULT_RECIPE = Path(str(files("cmedins") / "pipelines" / "default.yaml"))


class RecipeError(ValueError):
    """A recipe that cannot be run; the message is one line naming the recipe and the problem."""


@dataclass(frozen=True)
class StageStep:
    name: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Recipe:
    path: Path
    name: str
    version: str
    seed: int
    batch_rows: int
    workers: int
    sources: list[dict[str, Any]]
    stages: list[StageStep] = field(default_factory=list)

    @property
    def stage_names(self) -> list[str]:
        return ["ingest", *(s.name for s in self.stages)]


def _stage_step(path: Path, raw: Any) -> StageStep:
    if isinstance(raw, str):
        return StageStep(raw, {})
    if isinstance(raw, dict) and len(raw) == 1:
        (name, options), = raw.items()
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise RecipeError(f"{path}: options of stage {name!r} must be a mapping")
        return StageStep(str(name), dict(options))
    raise RecipeError(f"{path}: each entry of 'stages' must be a stage name or {{name: {{options}}}}")


def load_recipe(path: Path | str | None = None) -> Recipe:
    """Read and check a recipe file (the embedded default when `path` is None)."""
    path = Path(path) if path else DEFAULT_RECIPE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"recipe not found: {path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: not valid YAML ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping")
    known = {"name", "version", "seed", "batch_rows", "workers", "sources", "stages", "description"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RecipeError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    sources = raw.get("sources") or []
    if not isinstance(sources, list) or not sources or not all(isinstance(s, dict) for s in sources):
        raise RecipeError(f"{path}: 'sources' must be a non-empty list of mappings")
    names = [s.get("name") for s in sources]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise RecipeError(f"{path}: every source needs a unique 'name'")
    stages = [_stage_step(path, s) for s in raw.get("stages") or []]
    if any(s.name == "ingest" for s in stages):
        raise RecipeError(f"{path}: 'ingest' always runs first; list only the stages after it")
    try:
        seed = int(raw.get("seed", 0))
        batch_rows, workers = int(raw.get("batch_rows", 2000)), int(raw.get("workers", 2))
    except (TypeError, ValueError):
        raise RecipeError(f"{path}: seed, batch_rows and workers must be integers") from None
    if batch_rows < 1 or workers < 1:
        raise RecipeError(f"{path}: batch_rows and workers must be at least 1")
    return Recipe(
        path=path.resolve(),
        name=str(raw.get("name", path.stem)),
        version=str(raw.get("version", "0.0.0")),
        seed=seed,
        batch_rows=batch_rows,
        workers=workers,
        sources=[dict(s) for s in sources],
        stages=stages,
    )
