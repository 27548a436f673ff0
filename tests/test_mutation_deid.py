"""Fast deid checks written to kill surviving mutants (benchmarks/mutation.py): the per-patient date shift's range
and the typing of masked numbers (the placeholder a reader sees)."""

from __future__ import annotations

import pytest

from cmedins.deid.anonymize import date_offset
from cmedins.deid.detect import candidate_spans


@pytest.mark.parametrize("max_days", [1, 5, 180])
def test_date_shift_is_never_zero_and_covers_both_signs_within_max(max_days: int) -> None:
    shifts = {date_offset(b"k" * 32, f"patient-{i}", max_days) for i in range(600)}
    assert 0 not in shifts
    assert min(shifts) >= -max_days and max(shifts) <= max_days
    assert min(shifts) < 0 < max(shifts)
    if max_days <= 5:  # every allowed value is reachable
        assert shifts == set(range(-max_days, 0)) | set(range(1, max_days + 1))
    assert date_offset(b"k" * 32, "patient-1", max_days) == date_offset(b"k" * 32, "patient-1", max_days)


@pytest.mark.parametrize("text, etype", [
    ("138****5678", "PHONE"),
    ("238****5678", "MEDICAL_RECORD_NO"),  # 11 digits not starting with 1: not a mobile number
    ("1234****5678", "MEDICAL_RECORD_NO"),
    ("110101********1234", "ID_NUMBER"),
    ("110101*****1234", "ID_NUMBER"),  # 15-character (old) ID
])
def test_masked_numbers_are_typed_by_length_and_prefix(text: str, etype: str) -> None:
    spans = [s for s in candidate_spans(f"联系：{text}，已核对。") if s.source == "masked_number"]
    assert [(s.entity_type, s.end - s.start) for s in spans] == [(etype, len(text))]


def test_a_record_number_at_the_start_of_a_text_is_found_whatever_ends_the_text() -> None:
    """The record's own phone at position 0 is found even when the text ends in an ASCII letter or digit (the left
    boundary check must not look at the last character); inside a longer number it is not the record's value."""
    from cmedins.deid.record_aware import DigitTerm

    term = DigitTerm("13812345678")
    assert term.find("138-1234-5678 电话 A9") == [(0, 13)]
    assert term.find("13812345678已核对，编号9") == [(0, 11)]
    assert term.find("电话：13812345678") == [(3, 14)]
    assert term.find("913812345678 x") == [] and term.find("138123456789") == []


def test_resolve_keeps_every_character_of_overlapping_spans_covered_once() -> None:
    """A lower-scored span clipped on its right by a stronger one keeps its free run; the bookkeeping of taken
    characters must not shift, or a third span loses a character (left unredacted) or overlaps the strong one."""
    from cmedins.deid.spans import Span, resolve

    spans = [Span(5, 10, "PHONE", 0.9, "a"), Span(2, 7, "NAME", 0.8, "b"), Span(10, 13, "ADDRESS", 0.7, "c"),
             Span(4, 6, "DATE", 0.6, "d")]
    kept = resolve(spans)
    covered = [i for s in kept for i in range(s.start, s.end)]
    assert sorted(covered) == list(range(2, 13))  # every character once: no gap, no overlap
    assert {(s.start, s.end, s.entity_type) for s in kept} == {(2, 5, "NAME"), (5, 10, "PHONE"), (10, 13, "ADDRESS")}
