"""k-anonymity over the quasi-identifiers that published rows still carry, with generalisation before suppression.

Which quasi-identifiers (QIs) a row carries, read from what the rows actually contain:
- `department`: a column of task rows (task_row.v1), `category` of the task rows in the mixed table (sft_row.v1);
- sex and age: not columns, but stated in the text, in the patient phrase the task builders write
  (`患者信息：女，71岁`, `患者，男，45岁，因…`, `患者68岁，属老年人`, `71岁女性`); read from every text of a record's
  rows, all of them (a record whose note says 55岁 while its patient line says 75岁 reveals both);
- visit year: stated in the text where a summary says when the visit was (`于2020年入院`, `2021年准予出院`);
- region: not carried (the de-identifier replaces addresses), so not a QI today.
Columns named `patient_sex`, `patient_age`, `visit_year` or `region`, if a later contract adds them, are used too.

The unit is a record (rows sharing `source_record_hash`; one record's rows are linkable, so a record reveals the
union of its rows' QIs). Class sizes count distinct individuals (`patient_key`, else `group_key`, else the record:
without a patient key a patient with two visits counts twice, which overstates class sizes).

Generalisation is local, along one ladder:
  exact age + year → 5-year band + year → 10-year band + year → 10-year band → 20-year band → quarantined.
At each level, the records not yet placed are grouped by their QIs *as they would be published at that level*;
those in groups of at least k individuals are published at that level, the rest move one level up. So every
published QI tuple is shared by at least k individuals: the plain k-anonymity definition, which the gate
re-checks from the published text alone (`published_classes`). Ages of 90 and over are always `90岁以上` (HIPAA
Safe Harbor). The text is rewritten to match: `女，71岁` becomes `女，70-79岁`, and a dropped year leaves its
phrase (`于2020年入院` → `入院`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from cmedins.entities import PLACEHOLDERS

TOP_AGE = 90
TOP_AGE_TEXT = PLACEHOLDERS["AGE"]  # 90岁以上
# (age band width, visit year kept) per level; a record past the last level is quarantined.
LEVELS: tuple[tuple[int, bool], ...] = ((1, True), (5, True), (10, True), (10, False), (20, False))
LEVEL_NAMES = ("exact", "age_5y", "age_10y", "age_10y_no_year", "age_20y_no_year")
SUPPRESSED = len(LEVELS)

# Rust-regex patterns (polars). A patient's own age is stated after the sex (`女，71岁`), after 患者 / 患儿 / 病人
# (`患者68岁，属老年人`), or before the sex (`71岁女性`, `90岁及以上男性患者`).
AGE_TOKEN = r"\d{1,3}(?:-\d{1,3})?岁(?:及以上|以上)?"
PATIENT_AGE = (rf"(?:男|女)[，,]\s*{AGE_TOKEN}|(?:患者|患儿|病人)[，,]?\s*{AGE_TOKEN}|{AGE_TOKEN}(?:男|女)性")
PATIENT_AGE_NUMBER = (r"(?:(?:男|女)[，,]\s*|(?:患者|患儿|病人)[，,]?\s*)(\d{1,3})岁"
                      r"|(\d{1,3})岁(?:及以上|以上)?(?:男|女)性")
SEX = r"(男|女)(?:[，,]\s*\d|性)"
VISIT_YEAR = r"于?((?:19|20)\d{2})年?(?:好转|准予|予以|办理)?(?:入院|出院|住院|就诊|收入|收住|收治)"
# Every age in years is generalised, not only the patient phrase's: the builders also write `患者68岁，属老年人` in a
# safety note or `患者64岁，因…` in a triage reason. Thresholds (65岁以上) and ages at an event (3岁时, 10岁前) are
# not a person's age and stay. The rewrite is literal (Aho-Corasick over the distinct tokens the text holds).
AGE_ANY = r"\d{1,3}(?:\.\d+)?岁(?:及以上|以上|以下|以内|左右|时|前|后|起)?"
_AGE_TOKEN_RE = re.compile(r"^(\d{1,3})(?:\.\d+)?岁(.*)$")
_YEAR_PREFIX = re.compile(r"^于?(?:19|20)\d{2}年?")
TEXT_COLUMNS = ("instruction", "query", "answer", "prompt", "text")
QI_COLUMNS = ("department", "sex", "age", "year", "region")
CLASS_BUCKETS = ((1, 4, "1-4"), (5, 9, "5-9"), (10, 19, "10-19"), (20, 49, "20-49"), (50, 99, "50-99"),
                 (100, None, "100+"))


@dataclass
class KanonResult:
    """The rewritten table, the rows to quarantine, and what the card and the report say about it."""

    table: pa.Table
    suppressed_rows: list[int]
    records_in_scope: int
    levels: dict[str, int]  # records per generalisation level (and `suppressed`)
    class_sizes: dict[str, int]  # published records per bucket of their class size
    qis: dict[str, int]  # records in scope that carry each QI
    k: int
    rows_rewritten: int


def band(age: int, width: int) -> str:
    """The age as published at a band width: `71岁`, `70-74岁`, `70-79岁`, `60-79岁`; 90+ is always `90岁以上`."""
    if age >= TOP_AGE:
        return TOP_AGE_TEXT
    if width == 1:
        return f"{age}岁"
    lo = age // width * width
    return f"{lo}-{min(lo + width - 1, TOP_AGE - 1)}岁"


def _frame(table: pa.Table) -> pl.DataFrame:
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df


def _all_text(df: pl.DataFrame) -> pl.Expr:
    """Every text a row shows (text columns and message contents), joined: what its QIs are read from."""
    parts = [pl.col(c).fill_null("") for c in TEXT_COLUMNS if c in df.columns and df.schema[c] == pl.String]
    if "messages" in df.columns:
        parts.append(pl.col("messages").list.eval(pl.element().struct.field("content")).list.join("\n")
                     .fill_null(""))
    return pl.concat_str(parts, separator="\n") if parts else pl.lit("")


def _key(df: pl.DataFrame, names: tuple[str, ...]) -> pl.Expr:
    name = next((n for n in names if n in df.columns), None)
    return pl.col(name).cast(pl.String) if name else pl.int_range(pl.len()).cast(pl.String)


def _maybe(df: pl.DataFrame, name: str, dtype: type[pl.DataType]) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in df.columns else pl.lit(None, dtype=dtype)


def _department(df: pl.DataFrame) -> pl.Expr:
    """The department column; in mixed rows (sft_row.v1) the `category` of task rows is their department."""
    if "department" in df.columns:
        return pl.col("department").cast(pl.String)
    if "category" in df.columns and "task" in df.columns:
        return pl.when(pl.col("task").is_not_null()).then(pl.col("category").cast(pl.String))
    return pl.lit(None, dtype=pl.String)


def row_qis(df: pl.DataFrame) -> pl.DataFrame:
    """Per row: record and person keys and the QIs its text or columns state (null where none)."""
    text = _all_text(df)
    return df.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        _key(df, ("source_record_hash", "record_key", "record_hash", "group_key", "id")).alias("record"),
        _key(df, ("patient_key", "group_key", "source_record_hash", "record_key", "record_hash", "id")).alias("person"),
        _department(df).alias("department"),
        pl.coalesce(_maybe(df, "patient_sex", pl.String), text.str.extract(SEX, 1)).alias("sex"),
        pl.coalesce(_maybe(df, "patient_age", pl.Int64), text.str.extract(PATIENT_AGE_NUMBER, 1).cast(pl.Int64),
                    text.str.extract(PATIENT_AGE_NUMBER, 2).cast(pl.Int64)).alias("age"),
        pl.coalesce(_maybe(df, "visit_year", pl.String), text.str.extract(VISIT_YEAR, 1)).alias("year"),
        _maybe(df, "region", pl.String).alias("region"),
        text.str.extract_all(PATIENT_AGE).list.eval(pl.element().str.extract(rf"({AGE_TOKEN})", 1))
        .alias("shown_ages"),
        text.str.extract_all(PATIENT_AGE).list.eval(pl.element().str.extract(r"(\d{1,3})", 1).cast(pl.Int64))
        .alias("ages"),
    )


def records_of(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per record: the union of its rows' QIs, and its rows."""
    firsts = [pl.col(c).drop_nulls().first() for c in QI_COLUMNS]
    recs = rows.group_by("record", maintain_order=True).agg(
        pl.col("person").first(), *firsts, pl.col("row"),
        *[pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).drop_nulls().unique().sort().alias(c)
          for c in ("shown_ages", "ages")])
    in_scope = pl.any_horizontal([pl.col(c).is_not_null() for c in QI_COLUMNS])
    return recs.with_columns(in_scope.alias("in_scope"))


def assign_levels(records: pl.DataFrame, k: int) -> pl.DataFrame:
    """`level` (index into LEVELS, SUPPRESSED past the last) and `class_size` for each in-scope record."""
    placed: list[pl.DataFrame] = []
    pool = records
    for i, (width, keep_year) in enumerate(LEVELS):
        if not pool.height:
            break
        keyed = pool.with_columns(
            pl.col("ages").list.eval(pl.when(pl.element() >= TOP_AGE).then(pl.lit(TOP_AGE, dtype=pl.Int64))
                                     .otherwise(pl.element() // width * width)).list.unique().list.sort()
            .alias("_band"),
            (pl.col("year") if keep_year else pl.lit(None, dtype=pl.String)).alias("_year"),
        )
        keyed = keyed.with_columns(pl.col("person").n_unique().over(
            ["department", "sex", "_band", "_year", "region"]).alias("class_size"))
        ok = keyed.filter(pl.col("class_size") >= k)
        placed.append(ok.with_columns(pl.lit(i, dtype=pl.Int32).alias("level")).drop("_band", "_year"))
        pool = keyed.filter(pl.col("class_size") < k).drop("_band", "_year", "class_size")
    placed.append(pool.with_columns(pl.lit(SUPPRESSED, dtype=pl.Int32).alias("level"),
                                    pl.lit(None, dtype=pl.UInt32).alias("class_size")))
    columns = [*records.columns, "class_size", "level"]
    return pl.concat([p.select(columns).with_columns(pl.col("class_size").cast(pl.Int64)) for p in placed],
                     how="vertical")


def rewrite_age(token: str, width: int) -> str:
    """One age token (`71岁`, `90岁及以上`, `65岁以上`, `3岁时`) as published at a band width."""
    m = _AGE_TOKEN_RE.match(token)
    if not m:
        return token
    n, tail = int(m.group(1)), m.group(2)
    if n >= TOP_AGE and tail in ("", "以上", "及以上"):
        return TOP_AGE_TEXT
    return token if tail else band(n, width)


def mapping(ages: list[str], years: list[str], level: int) -> dict[str, str]:
    """Literal replacements at one level: each age token at its band; each visit-year phrase without its year when
    the level drops the year. Longest first, so that `71岁` wins over `1岁` where both start (leftmost-longest)."""
    width, keep_year = LEVELS[min(level, SUPPRESSED - 1)]
    out = {t: rewrite_age(t, width) for t in ages}
    if not keep_year:
        out.update({y: _YEAR_PREFIX.sub("", y) for y in years})
    return dict(sorted(((k, v) for k, v in out.items() if k != v), key=lambda kv: (-len(kv[0]), kv[0])))


def _distinct(df: pl.DataFrame, pattern: str) -> list[str]:
    found = df.select(_all_text(df).str.extract_all(pattern).alias("m")).explode("m")["m"].drop_nulls().unique()
    return sorted(found.to_list())


def _rewrite(df: pl.DataFrame, row_level: list[int | None]) -> pl.DataFrame:
    """Rewrite every text column and message content by its row's level (None: out of scope, untouched)."""
    ages, years = _distinct(df, AGE_ANY), _distinct(df, VISIT_YEAR)
    maps = {lv: m for lv in range(SUPPRESSED) if (m := mapping(ages, years, lv))}
    level = pl.Series("_level", row_level, dtype=pl.Int32)

    def by_level(expr: pl.Expr) -> pl.Expr:
        out = expr
        for lv, m in maps.items():
            out = pl.when(pl.col("_level") == lv).then(expr.str.replace_many(m, leftmost=True)).otherwise(out)
        return out

    df = df.with_columns(level)
    updates = [by_level(pl.col(c)).alias(c) for c in TEXT_COLUMNS if c in df.columns and df.schema[c] == pl.String]
    if "messages" in df.columns and maps:
        content = pl.element().struct.field("content")
        out = pl.col("messages")
        for lv, m in maps.items():
            fixed = pl.col("messages").list.eval(pl.element().struct.with_fields(
                content.str.replace_many(m, leftmost=True).alias("content")))
            out = pl.when(pl.col("_level") == lv).then(fixed).otherwise(out)
        updates.append(out.alias("messages"))
    return df.with_columns(updates).drop("_level")


def _bucket(size: int) -> str:
    return next(label for lo, hi, label in CLASS_BUCKETS if size >= lo and (hi is None or size <= hi))


def anonymise(table: pa.Table, k: int = 5) -> KanonResult:
    """Generalise the rows of `table` until every record in scope sits in a class of at least k individuals;
    records that reach no such class are to be quarantined (`suppressed_rows`)."""
    df = _frame(table)
    records = records_of(row_qis(df))
    scope = records.filter(pl.col("in_scope"))
    leveled = assign_levels(scope, k)
    row_level: list[int | None] = [None] * df.height
    for rows, level in leveled.select("row", "level").iter_rows():
        for r in rows:
            row_level[r] = level
    rewritten = _rewrite(df, row_level)
    changed = int((rewritten.select(_all_text(rewritten).alias("t"))["t"] != df.select(_all_text(df).alias("t"))["t"])
                  .sum())
    out = rewritten.to_arrow().cast(table.schema)
    suppressed = sorted(leveled.filter(pl.col("level") == SUPPRESSED)["row"].explode().to_list())
    levels = Counter(leveled["level"].to_list())
    sizes = Counter(_bucket(s) for s in leveled.filter(pl.col("level") < SUPPRESSED)["class_size"].to_list())
    return KanonResult(
        table=out, suppressed_rows=suppressed, records_in_scope=scope.height,
        levels={name: levels.get(i, 0) for i, name in enumerate((*LEVEL_NAMES, "suppressed"))},
        class_sizes={label: sizes.get(label, 0) for _, _, label in CLASS_BUCKETS},
        qis={q: int(scope[q].is_not_null().sum()) for q in QI_COLUMNS}, k=k, rows_rewritten=changed)


def published_classes(table: pa.Table) -> pl.DataFrame:
    """Per record in scope: its rows and the size of its class over the QIs exactly as the text shows them (the
    patient's ages or bands as written, all of them: a record whose notes state two ages reveals both; the year
    where stated). Read from the published rows alone, so the gate checks the `kanon` stage instead of trusting
    it."""
    df = _frame(table)
    records = records_of(row_qis(df)).filter(pl.col("in_scope"))
    keys = ["department", "sex", "shown_ages", "year", "region"]
    sizes = records.group_by(keys).agg(pl.col("person").n_unique().alias("size"))
    joined = records.join(sizes, on=keys, how="left", nulls_equal=True)
    return joined.with_columns(pl.col("size").cast(pl.Int64).alias("class_size")).drop("size")
