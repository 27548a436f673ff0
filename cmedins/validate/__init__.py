"""The validation gate: nothing is published unless every expectation over the final table holds.

Three stages run at the end of a recipe, before `publish`:

- `kanon` (reduce): k-anonymity over the quasi-identifiers the published rows still carry; records in classes
  smaller than k are generalised (wider age band, visit year dropped) or quarantined (`kanon.py`).
- `validate_rows` (map, optional): the per-row checks (residual identifiers, messages well-formed, lengths, the
  instruction-quality rules) as `_chk_*` columns, computed in the runner's worker pool (`rows.py`).
- `validate` (reduce): the Great Expectations suites derived from the table's contract (`schemas/`) and the rules,
  over those check columns, never over raw text (`suites.py`). A failure stops the build with one line naming each
  failed expectation, its row count and example row ids; the full result stays in `work/validate/`.
"""
