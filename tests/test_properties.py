"""Property-based tests (hypothesis): what must hold for every input, not only the inputs we thought of."""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmedins.contracts import load_contract
from cmedins.deid import deidentify_texts
from cmedins.ingest import SourceSpec, read_source
from cmedins.ingest.normalize import normalize_text
from cmedins.synth.identifiers import id_checksum

CONTRACT = load_contract("record")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
SENTENCES = [
    "患者{x}，今日复查血常规。", "家属联系方式：{x}。", "如有不适请拨打{x}咨询。", "{x}（本人）诉胸闷气促两天。",
    "主诉：反复咳嗽，联系{x}随访。", "出院后电话随访（{x}），恢复良好。",
]


def _phone() -> st.SearchStrategy[str]:
    return st.builds(lambda p, rest: p + rest, st.sampled_from(["138", "139", "150", "186", "177"]),
                     st.text("0123456789", min_size=8, max_size=8))


def _id_number() -> st.SearchStrategy[str]:
    def make(area: str, y: int, m: int, d: int, seq: str) -> str:
        first17 = f"{area}{y:04d}{m:02d}{d:02d}{seq}"
        return first17 + id_checksum(first17)

    return st.builds(make, st.sampled_from(["110105", "320102", "440305", "510107"]), st.integers(1930, 2020),
                     st.integers(1, 12), st.integers(1, 28), st.text("0123456789", min_size=3, max_size=3))


@st.composite
def perturbed(draw: st.DrawFn, value: str) -> str:
    """The identifier as exports spoil it: invisible characters anywhere, full-width digits, 3-4-4 grouping."""
    if draw(st.booleans()):
        value = value.translate(FULL)
    if len(value) == 11 and draw(st.booleans()):
        sep = draw(st.sampled_from([" ", "-", "\u3000"]))
        value = f"{value[:3]}{sep}{value[3:7]}{sep}{value[7:]}"
    chars = list(value)
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(1, len(chars) - 1)), draw(st.sampled_from(INVISIBLE)))
    return "".join(chars)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", normalize_text(text))


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(["phone", "id"]))
def test_a_perturbed_identifier_is_always_removed(data: st.DataObject, kind: str) -> None:
    value = data.draw(_phone() if kind == "phone" else _id_number())
    shown = data.draw(perturbed(value))
    text = data.draw(st.sampled_from(SENTENCES)).format(x=shown)
    out = deidentify_texts([text])[0].text
    assert value not in _digits(out), (kind, out)


@SETTINGS
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])) | st.text(), min_size=1,
                max_size=5))
def test_arbitrary_unicode_never_crashes_deid(texts: list[str]) -> None:
    results = deidentify_texts(texts)
    assert len(results) == len(texts)


_ANY_CHAR = st.characters(exclude_categories=[])  # surrogates included: JSON can carry them as \\udXXX escapes


@st.composite
def export_rows(draw: st.DrawFn) -> list[dict]:
    rows = []
    for i in range(draw(st.integers(1, 8))):
        row = {"record_id": draw(st.sampled_from([f"R{i}", f"R{i}", "R0", "", None])),
               "patient_id": "P1", "hospital": "第一医院", "department": "内科",
               "visit_type": draw(st.sampled_from(["门诊", "住院", "x"])),
               "admission_date": draw(st.sampled_from(["2023-01-02", "2023-02-30", "", "1800-01-01"])),
               "chief_complaint": draw(st.text(_ANY_CHAR, max_size=30)),
               "present_illness": draw(st.text(_ANY_CHAR, max_size=60) | st.none())}
        rows.append(row)
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=export_rows(), fmt=st.sampled_from(["jsonl", "csv"]))
def test_every_row_of_any_export_is_kept_or_quarantined(rows: list[dict], fmt: str) -> None:
    """read = kept + quarantined for any export; a kept text is its input after the documented normalisation."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x.{fmt}"
        if fmt == "jsonl":  # ASCII JSON: lone surrogates travel as \udXXX escapes, as real exporters write them
            path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="ascii")
        else:  # lone surrogates become invalid UTF-8 bytes
            with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(list(rows[0]))
                w.writerows([["" if v is None else v for v in r.values()] for r in rows])
        spec = SourceSpec.from_dict({"name": "t", "kind": fmt, "path": str(path), "allow_empty": True})
        kept, quarantined, read, refused = [], 0, 0, set()
        try:
            for out in read_source(spec, CONTRACT, batch_rows=3):
                assert out.kept.num_rows + out.quarantined.num_rows == out.rows_read
                kept += out.kept.to_pylist()
                quarantined += out.quarantined.num_rows
                refused |= set(out.quarantined.column("row").to_pylist())
                read += out.rows_read
        except ValueError as exc:  # a file-level refusal is one line naming the file, never a crash
            assert str(exc).startswith("ingest: cannot read") and "\n" not in str(exc)
            return
    assert len(kept) + quarantined == read
    if fmt == "jsonl":
        assert read == len(rows)
        survivors = [r for line, r in enumerate(rows, start=1) if line not in refused]  # JSONL rows are lines
        assert [k["record_id"] for k in kept] == [r["record_id"] for r in survivors]
        for k, r in zip(kept, survivors, strict=True):
            assert k["chief_complaint"] == normalize_text(r["chief_complaint"].lstrip("\ufeff\u3000"))
