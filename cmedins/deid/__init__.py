"""De-identification of Chinese clinical text: presidio + jieba, record-aware, with an independent residual scanner.

Public API:
  deidentify_texts(texts, config, *, groups=None, group_info=None, secret=None) -> list[DeidResult]
  scan_residual(texts, *, dates_shifted=False) -> list[Finding]
  build_analyzer(redact_institutions=True, threshold=0.5) -> presidio AnalyzerEngine (Chinese, jieba NLP engine)
The build stage lives in `cmedins.deid.stage` (importing it registers "deid"); the CLI is `python -m cmedins.deid`.
"""

from __future__ import annotations

from cmedins.deid.api import DeidEntity, DeidResult, GroupInfo, deidentify_texts
from cmedins.deid.config import DeidConfig
from cmedins.deid.record_aware import RecordValues
from cmedins.deid.residual import Finding, scan_residual

__all__ = ["DeidConfig", "DeidEntity", "DeidResult", "Finding", "GroupInfo", "RecordValues", "build_analyzer",
           "deidentify_texts", "scan_residual"]


def build_analyzer(redact_institutions: bool = True, threshold: float = 0.5):  # noqa: ANN201 - presidio type
    """The presidio AnalyzerEngine for Chinese (imported lazily: the fast path does not need it)."""
    from cmedins.deid.recognizers import build_analyzer as _build

    return _build(redact_institutions, threshold)
