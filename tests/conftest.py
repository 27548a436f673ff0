"""Shared fixtures: paths to the public real-data samples and small recipes written into tmp dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# The public real-data samples live beside the checkout in ../shared/realdata (never copied into the repo);
# CMEDINS_REALDATA points elsewhere when the checkout lives somewhere else.
REALDATA = Path(os.environ.get("CMEDINS_REALDATA") or REPO.parent / "shared" / "realdata")


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.exists():
        pytest.skip("../shared/realdata is not present")
    return REALDATA


def write_recipe(path: Path, ner: bool = False, **overrides) -> Path:
    """A small copy of the default recipe with overrides (sources, stages, batch_rows...).

    ner: keep the de-identifier's NER model on, as the default recipe has it. Off by default here to keep the
    suite's many builds fast; the privacy test and the default-recipe tests build with it on."""
    recipe = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    if not ner:
        recipe["stages"] = [{"deid": {**s["deid"], "ner": False}} if isinstance(s, dict) and "deid" in s else s
                            for s in recipe["stages"]]
    recipe.update(overrides)
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path
