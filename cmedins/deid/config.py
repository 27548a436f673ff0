"""Settings of the de-identifier (the `deid` stage's recipe options)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

DEID_CODE_VERSION = "deid-1.4"
DATE_MODES = ("year", "shift", "year_month")
SAFE_HARBOR_DATE_MODES = ("year", "shift")  # shift: no real date survives, only intervals


@dataclass(frozen=True)
class DeidConfig:
    """Recipe options of the `deid` stage, also used by the CLI and the library API.

    mode: "placeholder" replaces every identifier by its typed placeholder ([姓名], [身份证号]); "pseudonym" replaces
        it by a consistent keyed code ([姓名-3fa29c]): the same value of the same patient always gets the same code,
        derived by HMAC from the build secret, so no lookup table exists anywhere.
    date_mode: "year" (default, HIPAA Safe Harbor) keeps only the year of every date tied to the patient
        (2023年3月5日 -> 2023年, a date without a year -> [日期]); "shift" moves every date of a patient by the same
        HMAC-derived number of days, so intervals survive; "year_month" keeps year and month (2023年3月) and is NOT
        Safe Harbor: the build report flags it. Birth dates are always removed; ages over 89 become 90岁以上.
    redact_institutions: also replace hospital names ([医院]) and workplaces / schools ([单位]); on by default because
        a small hospital plus a date and a diagnosis can single out a patient.
    record_aware: search the record's own patient block (name, ID, phone, address, birth date, MRN…) in its free
        text, including partial forms (张某, the given name alone); adds to, never replaces, bare-text detection.
    max_date_shift_days: the shift is drawn from [-max, +max] days, never 0.
    threshold: minimum detector confidence (0-1) for a span to be redacted; lower means more redaction.
    workers: processes used by `deidentify_texts` for large inputs (the CLI and benchmarks); the build runner already
        runs the stage in a process pool, so the stage itself always uses one.
    ner: also run the learned NER model (cmedins/deid/ner.py, Baidu LAC) and add the person names it finds that
        read as names (detect_ner.py); a union with the rules, never a replacement. The default recipe and the CLI
        turn it on; the library default stays off because the model costs ~65k characters/s per core (about 5x the
        rules' time). On held-out hand-written set C it lifts person recall from 0.58 (rules) to 0.85.
    ner_model: folder of another NER model with the same files (a hospital's own); None: the packaged LAC.
    rules: run the rule detectors (turn off only to measure the model alone, as benchmarks/deid_independent.py does).
    keep_masked_names: leave names that are already masked (张某, 李某某, 王XX, 赵**) as they are when the surname is
        one of the 100 commonest (most of the population): a masked name is the standard Chinese way of writing a
        de-identified name, and such a surname identifies no one. A rare or compound surname (訾某, 万俟某某) is
        still removed, and so is the record's own patient's masked name. Off: every masked surname goes ([姓名]).
    """

    mode: str = "placeholder"
    date_mode: str = "year"
    redact_institutions: bool = True
    record_aware: bool = True
    max_date_shift_days: int = 180
    threshold: float = 0.5
    workers: int = 1
    ner: bool = False
    ner_model: str | None = None
    rules: bool = True
    keep_masked_names: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("placeholder", "pseudonym"):
            raise ValueError(f"deid: mode must be 'placeholder' or 'pseudonym', not {self.mode!r}")
        if self.date_mode not in DATE_MODES:
            raise ValueError(f"deid: date_mode must be one of {', '.join(DATE_MODES)}, not {self.date_mode!r}")
        if self.max_date_shift_days < 1:
            raise ValueError("deid: max_date_shift_days must be at least 1")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("deid: threshold must be between 0 and 1")

    @property
    def deid_version(self) -> str:
        """Code version plus every setting that changes output (workers does not)."""
        d = asdict(self)
        d.pop("workers")
        opts = ",".join(f"{k}={d[k]}" for k in sorted(d))
        return f"{DEID_CODE_VERSION};{opts}"
