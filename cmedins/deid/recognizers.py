"""presidio recognizers for Chinese clinical text and the AnalyzerEngine built from them.

Each recognizer wraps one of our detectors, so the stock presidio loop (`AnalyzerEngine.analyze` per text) and the
fast batch path (`detect.py`) find the same identifiers. Recognizers declare their context words, so presidio's
LemmaContextAwareEnhancer raises weak matches (a bare 10-digit number, a jieba `nr` token) that sit next to a
label (住院号, 患者). `JiebaPersonRecognizer` is presidio-only: it reads the POS tags of `JiebaNlpEngine`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts

from cmedins.deid.detect_dates import detect_dates
from cmedins.deid.detect_names import detect_names
from cmedins.deid.detect_numbers import detect_numbers
from cmedins.deid.detect_places import detect_addresses, detect_institutions
from cmedins.deid.lexicon import lexicon
from cmedins.deid.nlp_engine import JiebaNlpEngine
from cmedins.deid.spans import Span
from cmedins.deid.text_norm import fold, fold_alnum, simplified

LANG = "zh"


def _folded(text: str) -> str:
    return fold(simplified(text))


def _alnum(text: str) -> str:
    return fold_alnum(simplified(text))


class DetectorRecognizer(EntityRecognizer):
    """A presidio recognizer over one of our detector functions (text -> spans)."""

    def __init__(self, name: str, entities: list[str], detector: Callable[[str], list[Span]],
                 view: Callable[[str], str], context: list[str] | None = None):
        self._detector = detector
        self._view = view  # the same-length view of the text the detector reads, as in `detect.raw_spans`
        super().__init__(supported_entities=entities, name=name, supported_language=LANG, context=context or [])

    def load(self) -> None:  # nothing to load: patterns are compiled lazily and cached
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        spans = self._detector(self._view(text))
        wanted = set(entities) if entities else set(self.supported_entities)
        return [
            RecognizerResult(s.entity_type, s.start, s.end, s.score,
                             analysis_explanation=AnalysisExplanation(self.name, s.score, textual_explanation=s.source),
                             recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                   RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                                   "source": s.source})
            for s in spans if s.entity_type in wanted
        ]


class JiebaPersonRecognizer(EntityRecognizer):
    """PERSON from jieba `nr` tags that start with a known surname: weak alone (0.3), raised by context (患者)."""

    def __init__(self) -> None:
        lx = lexicon()
        super().__init__(supported_entities=["PERSON"], name="JiebaPersonRecognizer", supported_language=LANG,
                         context=list(lx.strong_person_labels + lx.weak_person_labels))

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        tags = getattr(nlp_artifacts, "pos_tags", None)
        if not tags:
            return []
        lx = lexicon()
        out = []
        for tok, start, tag in zip(nlp_artifacts.tokens, nlp_artifacts.tokens_indices, tags, strict=True):
            if tag == "nr" and 2 <= len(tok) <= 4 and (tok[0] in lx.surnames or tok[:2] in lx.compound_surnames) \
                    and not lx.starts_with_allowed(tok):
                out.append(RecognizerResult("PERSON", start, start + len(tok), 0.3,
                                            analysis_explanation=AnalysisExplanation(self.name, 0.3),
                                            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                                                  "source": "jieba_nr"}))
        return out


def _ner_detector(model_path: str | None) -> Callable[[str], list[Span]]:
    from cmedins.deid.detect_ner import ner_person_spans

    return lambda text: ner_person_spans([text], model_path)[0]


def build_recognizers(redact_institutions: bool = True, ner: bool = False,
                      ner_model: str | None = None) -> list[EntityRecognizer]:
    """Our detectors as presidio recognizers; `ner`: also the learned NER model (`ChineseNerPersonRecognizer`, the
    names `detect_ner.py` keeps), fused by presidio's own overlap handling, with `ner_model` as its folder."""
    ctx = lexicon().context
    number_ctx = [w for e in ("MEDICAL_RECORD_NO", "INSURANCE_NO", "BANK_CARD", "PASSPORT", "SOCIAL_ACCOUNT",
                              "ID_NUMBER", "PHONE", "OTHER_ID") for w in ctx.get(e, ())]
    recs: list[EntityRecognizer] = [
        DetectorRecognizer("ChineseNumberRecognizer",
                           ["ID_NUMBER", "PHONE", "MEDICAL_RECORD_NO", "INSURANCE_NO", "BANK_CARD", "EMAIL",
                            "IP_ADDRESS", "URL", "LICENSE_PLATE", "PASSPORT", "SOCIAL_ACCOUNT", "OTHER_ID"],
                           detect_numbers, view=_folded, context=number_ctx),
        DetectorRecognizer("ChineseDateRecognizer", ["DATE", "BIRTH_DATE", "AGE"], detect_dates, view=_folded,
                           context=list(ctx.get("BIRTH_DATE", ()))),
        DetectorRecognizer("ChineseNameRecognizer", ["PERSON"], detect_names, view=simplified),
        DetectorRecognizer("ChineseAddressRecognizer", ["ADDRESS"], detect_addresses, view=_alnum,
                           context=list(lexicon().address_labels)),
        JiebaPersonRecognizer(),
    ]
    if redact_institutions:
        recs.append(DetectorRecognizer("ChineseInstitutionRecognizer", ["HOSPITAL", "ORGANIZATION"],
                                       detect_institutions, view=_alnum, context=list(lexicon().org_labels)))
    if ner:
        recs.append(DetectorRecognizer("ChineseNerPersonRecognizer", ["PERSON"], _ner_detector(ner_model),
                                       view=simplified))
    return recs


@cache
def build_analyzer(redact_institutions: bool = True, threshold: float = 0.5, ner: bool = False,
                   ner_model: str | None = None) -> AnalyzerEngine:
    """The presidio AnalyzerEngine for Chinese clinical text, built once per process and settings."""
    registry = RecognizerRegistry(recognizers=build_recognizers(redact_institutions, ner, ner_model),
                                  supported_languages=[LANG])
    return AnalyzerEngine(registry=registry, nlp_engine=JiebaNlpEngine(LANG), supported_languages=[LANG],
                          default_score_threshold=threshold)
