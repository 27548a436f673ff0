"""De-identification of Chinese clinical text: presidio + jieba, record-aware, with an independent residual scanner.

Public API:
  deidentify_texts(texts, config, *, groups=None, group_info=None, secret=None) -> list[DeidResult]
  scan_residual(texts, *, dates_shifted=False) -> list[Finding]
  build_analyzer(redact_institutions=True, threshold=0.5, ner=False) -> presidio AnalyzerEngine (Chinese, jieba)
The build stage lives in `cmedins.deid.stage` (importing it registers "deid"); the CLI is `python -m cmedins.deid`.
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use (PEP 562), not when the package is imported: the API pulls in presidio (and spaCy), ~0.35 GB
# and 5 s per process, and many processes import only a submodule (the recipe check reads `cmedins.deid.config`).
_PUBLIC = {"DeidEntity": "api", "DeidResult": "api", "GroupInfo": "api", "deidentify_texts": "api",
           "DeidConfig": "config", "RecordValues": "record_aware", "Finding": "residual", "scan_residual": "residual"}

__all__ = ["DeidConfig", "DeidEntity", "DeidResult", "Finding", "GroupInfo", "RecordValues", "build_analyzer",
           "deidentify_texts", "scan_residual"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"cmedins.deid.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'cmedins.deid' has no attribute {name!r}")


def build_analyzer(redact_institutions: bool = True, threshold: float = 0.5, ner: bool = False,  # noqa: ANN201
                   ner_model: str | None = None):
    """The presidio AnalyzerEngine for Chinese (imported lazily: the fast path does not need it); `ner` adds the
    learned NER model's recognizer to the registry."""
    from cmedins.deid.recognizers import build_analyzer as _build

    return _build(redact_institutions, threshold, ner, ner_model)
