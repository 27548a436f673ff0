"""De-identification of Chinese clinical text: presidio + jieba, record-aware, with an independent residual scanner.

Public API:
  deidentify_texts(texts, config, *, groups=None, group_info=None, secret=None) -> list[DeidResult]
  scan_residual(texts, *, dates_shifted=False) -> list[Finding]
  build_analyzer(redact_institutions=True, threshold=0.5, ner=False) -> presidio AnalyzerEngine (Chinese, jieba)
The build stage lives in `cmedins.deid.stage` (importing it registers "deid"); the CLI is `python -m cmedins.deid`.
"""

from __future__ import annotations

from cmedins.deid.api import DeidEntity, DeidResult, GroupInfo, deidentify_texts
from cmedins.deid.config import DeidConfig
from cmedins.deid.record_aware import RecordValues
from cmedins.deid.residual import Finding, scan_residual

__all__ = ["DeidConfig", "DeidEntity", "DeidResult", "Finding", "GroupInfo", "RecordValues", "build_analyzer",
           "deidentify_texts", "scan_residual"]


def build_analyzer(redact_institutions: bool = True, threshold: float = 0.5, ner: bool = False,  # noqa: ANN201
                   ner_model: str | None = None):
    """The presidio AnalyzerEngine for Chinese (imported lazily: the fast path does not need it); `ner` adds the
    learned NER model's recognizer to the registry."""
    from cmedins.deid.recognizers import build_analyzer as _build

    return _build(redact_institutions, threshold, ner, ner_model)
