"""Per-row checks of a publishable table, as columns the gate's expectations read.

Why columns and not verdicts: Great Expectations then sees row ids, numbers and short codes only, never patient
text, so its full result can go into the build report; and the checks are a pure function of each row, so the
`validate_rows` map stage can compute them in the runner's worker pool while `validate` (a reduce stage) only
runs the table-level suites. Every check reads the conversational `messages` column, which both the task rows
(task_row.v1) and the mixed rows (sft_row.v1) carry: user text = the user turns, answer = the assistant turns.

Columns (prefix `_chk_`, dropped before publishing):
- `digest`: a hash of the row's messages (see `messages_digest`);
- `messages`: null, or why the conversation is malformed (empty, bad_role, system_not_first, not_alternating,
  no_answer, empty_content);
- `user_chars`, `answer_chars`: lengths of the user and assistant text;
- `pii`, `pii_kinds`: findings of the independent residual scan (`cmedins.deid.residual`) over every message;
- `placeholder` (task rows): the answer holds a de-identification placeholder ([日期], [姓名]...): it would teach
  them (a dialogue answer de-identified by the mix stage may keep one: counted by the report, not gated);
- `leak` (diagnosis, triage): the answer can be read in the query (the primary diagnosis, the department);
- `ungrounded` (summary): the answer states a number with a unit, a year or the department absent from the query;
- `unsafe` (medication): the answer prescribes a drug of a class the query says the patient is allergic to;
- `icd10` (diagnosis_normalization): a code in the answer is not in ICD-10 form.
A rule that does not apply to a row's task leaves null there, so `mostly` thresholds count only that task's rows.
The rules read answers in every layout the builders write (plain, numbered, JSON, tables), without the builders'
parsers: the gate is a second, independent reading of the rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa

from cmedins.entities import PLACEHOLDERS

PREFIX = "_chk_"
CHECK_SCHEMA = pa.schema([
    (f"{PREFIX}digest", pa.string()),
    (f"{PREFIX}messages", pa.string()),
    (f"{PREFIX}user_chars", pa.int32()),
    (f"{PREFIX}answer_chars", pa.int32()),
    (f"{PREFIX}pii", pa.int32()),
    (f"{PREFIX}pii_kinds", pa.string()),
    (f"{PREFIX}placeholder", pa.bool_()),
    (f"{PREFIX}leak", pa.bool_()),
    (f"{PREFIX}ungrounded", pa.bool_()),
    (f"{PREFIX}unsafe", pa.bool_()),
    (f"{PREFIX}icd10", pa.bool_()),
])
CHECK_COLUMNS: tuple[str, ...] = tuple(CHECK_SCHEMA.names)
ROLES = ("system", "user", "assistant")

_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values() if p.startswith("["))
                             + r"|\[[\u4e00-\u9fff]{1,6}-[0-9a-f]{6}\]")  # keyed pseudonyms: [电话-3fa29c]
# ICD-10 as hospitals write it: category, subcategory, clinical extensions (K40.902, I10xx02), dagger/asterisk
# pairs and morphology codes. Written here, not imported from the task builder: the gate checks the builder.
_ICD = r"[A-Z][0-9]{2}(?:\.[0-9A-Za-z]{1,6}|xx[0-9]{2,3})?"
_ICD10_RE = re.compile(rf"^(?:{_ICD}[+*]?(?:{_ICD}\*?)?|M[0-9]{{4,6}}/[0-9])$")
# A code-shaped token: a capital letter and two digits, then whatever a code may carry (not letters of a word).
_CODE_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9-])([A-Z][0-9]{2}[0-9A-Za-z.+*/]*)")
_NUMBERED_RE = re.compile(r"(?m)^\s*\d+[.、]\s*(.+?)\s*$")
_PRIMARY_MARK = "（主要诊断）"
_DX_LABEL_RE = re.compile(r"诊断[”\"]?\s*[：:]\s*[\"“]?([^\n。\"”]+)")
_DEPT_RE = re.compile(r"[\u4e00-\u9fff]{1,10}科")
# An instruction's list of departments to choose from (内科、外科、妇产科、儿科): not the query naming the answer.
_DEPT_LIST_RE = re.compile(r"(?:[\u4e00-\u9fff]{1,8}科[、，,/]){2,}[\u4e00-\u9fff]{1,8}科")
_DEPT_LABEL_RE = re.compile(r"(?:就诊科室|推荐科室|分诊科室|科室)[\"”]?\s*[：:为是]\s*[\"“]?([\u4e00-\u9fff]{1,10}科)")
_NUMBER_UNIT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(mg/L|mmol/L|μmol/L|umol/L|U/L|g/L|ng/mL|pg/mL|×10\^9/L|×10\^12/L|"
                             r"mmHg|次/分|℃|%)")
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# Drug classes a stated allergy rules out (cross-reactivity included: a penicillin allergy rules out cephalosporins
# and carbapenems too). Kept small and explicit on purpose: a clinician can read it in one glance.
ALLERGY_CLASSES: dict[str, tuple[str, str]] = {
    # class: (words that name the allergen in an allergy statement, drugs of the class in an answer)
    "beta_lactam": (r"青霉素|头孢|西林|β-?内酰胺|培南", r"西林|头孢|培南|青霉素|舒巴坦|他唑巴坦|克拉维酸"),
    "sulfonamide": (r"磺胺", r"磺胺|新诺明"),
    "nsaid": (r"阿司匹林|布洛芬|非甾体|解热镇痛",
              r"阿司匹林|布洛芬|双氯芬酸|洛索洛芬|塞来昔布|吲哚美辛|萘普生|美洛昔康|依托考昔|氟比洛芬"),
    "iodinated_contrast": (r"碘|造影剂", r"碘海醇|碘克沙醇|碘普罗胺|碘帕醇|碘佛醇|造影剂"),
}
_ALLERGY_CLAUSE_RE = re.compile(r"[^，。；;,\n]*过敏[^，。；;,\n]*")
_NEGATED_RE = re.compile(r"否认|^\s*无|未发现|不详")


def messages_problem(roles: list[str] | None, contents: list[str | None] | None) -> str | None:
    """Why a conversation is not something trl or LLaMA-Factory can train on, or None.

    Well-formed: an optional system turn first, then user and assistant turns alternating, starting with the user
    and ending with the assistant, none of them empty.
    """
    if not roles:
        return "empty"
    if any(r not in ROLES for r in roles):
        return "bad_role"
    turns = roles[1:] if roles[0] == "system" else roles
    if "system" in turns:
        return "system_not_first"
    if not turns or turns[-1] != "assistant":
        return "no_answer"
    if any(r != ("user" if i % 2 == 0 else "assistant") for i, r in enumerate(turns)):
        return "not_alternating"
    if any(not (c or "").strip() for c in contents or []):
        return "empty_content"
    return None


def messages_digest(roles: list[str] | None, contents: list[str | None] | None) -> str:
    """A short hash of a conversation: `validate` recomputes it to tell whether the `_chk_*` columns it received
    still describe the rows they sit beside (a stage between `validate_rows` and `validate` could change them)."""
    h = hashlib.blake2b(digest_size=8)
    for role, content in zip(roles or [], contents or [], strict=False):
        h.update(f"{role}\x1f{content or ''}\x1e".encode())
    return h.hexdigest()


def residual_findings(texts: list[str], *, dates_shifted: bool) -> list[tuple[int, str | None]]:
    """Per text: how many suspected identifiers the independent residual scan finds, and their kinds.

    Each distinct line is scanned once: the six tasks of a record repeat the same sections, so this is about a
    third of the work. No pattern of the scan crosses a line break that matters (a number split over two lines is
    two short numbers in the text as well).
    """
    from cmedins.deid.residual import scan_residual  # imports the de-identifier's package: only when scanning

    lines = (pl.DataFrame({"text": texts}, schema={"text": pl.String}).with_row_index("row")
             .select("row", pl.col("text").fill_null("").str.split("\n").alias("line")).explode("line")
             .filter(pl.col("line").str.len_chars() > 0))
    distinct = lines.select("line").unique(maintain_order=True).with_row_index("line_id")
    kinds: dict[int, list[str]] = {}
    for f in scan_residual(distinct["line"].to_list(), dates_shifted=dates_shifted):
        kinds.setdefault(f.index, []).append(f.kind)
    out: list[tuple[int, str | None]] = [(0, None)] * len(texts)
    if not kinds:
        return out
    hits = pl.DataFrame({"line_id": list(kinds), "n": [len(v) for v in kinds.values()],
                         "kinds": [",".join(v) for v in kinds.values()]},
                        schema={"line_id": pl.UInt32, "n": pl.Int64, "kinds": pl.String})
    per_row = (lines.join(distinct, on="line").join(hits, on="line_id")
               .group_by("row").agg(pl.col("n").sum(), pl.col("kinds").str.join(",")))
    for row, n, k in per_row.iter_rows():
        out[row] = (int(n), ",".join(sorted(set(k.split(",")))))
    return out


def _json(answer: str) -> Any:
    text = answer.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def primary_diagnosis(answer: str) -> str | None:
    """The primary diagnosis an answer states, in any of the layouts the builders write: a JSON object
    (`主要诊断`), numbered lines (the one marked （主要诊断）, else the first), or `诊断：X；Y` (the first)."""
    value = _json(answer)
    if isinstance(value, dict):
        for key in ("主要诊断", "诊断", "primary_diagnosis", "diagnosis"):
            v = value.get(key)
            if isinstance(v, list) and v:
                v = v[0]
            if isinstance(v, str) and v.strip():
                return v.strip()
        return None
    items = [m.group(1) for m in _NUMBERED_RE.finditer(answer)]
    if items:
        marked = [i for i in items if _PRIMARY_MARK in i]
        return (marked or items)[0].replace(_PRIMARY_MARK, "").strip()
    m = _DX_LABEL_RE.search(answer)
    if m:
        return re.split(r"[；;，,、]", m.group(1))[0].strip() or None
    line = answer.strip().split("\n")[0]
    return line.strip() if 2 <= len(line.strip()) <= 40 else None


def recommended_department(answer: str) -> str | None:
    """The department a triage answer recommends (JSON, `建议就诊科室：X`, or a bare department name)."""
    value = _json(answer)
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, str) and _DEPT_RE.fullmatch(v.strip()):
                return v.strip()
    m = _DEPT_LABEL_RE.search(answer) or _DEPT_RE.search(answer)
    return m.group(1) if m and m.lastindex else (m.group(0) if m else None)


def _leak(task: str, user: str, answer: str) -> bool | None:
    if task == "diagnosis":
        primary = primary_diagnosis(answer)
        return primary is not None and len(primary) >= 2 and primary in user
    if task == "triage":
        dept = recommended_department(answer)
        return dept is not None and dept in _DEPT_LIST_RE.sub("", user)
    return None


def _ungrounded(user: str, answer: str, department: str | None) -> bool:
    stated = set(_NUMBER_UNIT_RE.findall(answer))
    if stated and not stated <= set(_NUMBER_UNIT_RE.findall(user)):
        return True
    years = set(_YEAR_RE.findall(answer))
    if years and not years <= set(_YEAR_RE.findall(user)):
        return True
    return bool(department) and department in answer and department not in user


def stated_allergy_classes(user: str) -> set[str]:
    """Drug classes the user text says the patient is allergic to (negated statements such as 否认药物过敏 skipped)."""
    classes: set[str] = set()
    for clause in _ALLERGY_CLAUSE_RE.findall(user):
        if _NEGATED_RE.search(clause):
            continue
        for name, (allergen, _) in ALLERGY_CLASSES.items():
            if re.search(allergen, clause):
                classes.add(name)
    return classes


def _unsafe(user: str, answer: str) -> bool:
    classes = stated_allergy_classes(user)
    if not classes:
        return False
    prescribed = _ALLERGY_CLAUSE_RE.sub("", answer)  # the answer's own allergy warning names the allergen
    return any(re.search(ALLERGY_CLASSES[c][1], prescribed) for c in classes)


def _bad_icd10(answer: str) -> bool:
    """No code at all, or a code-shaped token that is not ICD-10 (K40.9O2, I10x11)."""
    codes = _CODE_TOKEN_RE.findall(answer)
    return not codes or any(not _ICD10_RE.match(c.rstrip(".")) for c in codes)


RULES: dict[str, tuple[str, ...]] = {  # rule: the tasks it applies to ("+": every row of any task)
    "placeholder": ("+",),
    "leak": ("diagnosis", "triage"),
    "ungrounded": ("summary",),
    "unsafe": ("medication",),
    "icd10": ("diagnosis_normalization",),
}


def _rule_fns(department: str | None, task: str) -> dict[str, Callable[[str, str], bool | None]]:
    return {
        "placeholder": lambda user, answer: bool(_PLACEHOLDER_RE.search(answer)),
        "leak": lambda user, answer: _leak(task, user, answer),
        "ungrounded": lambda user, answer: _ungrounded(user, answer, department),
        "unsafe": _unsafe,
        "icd10": lambda user, answer: _bad_icd10(answer),
    }


def _column(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def row_checks(table: pa.Table, *, dates_shifted: bool = False) -> pa.Table:
    """The `_chk_*` columns for `table` (same rows, same order)."""
    df = pl.from_arrow(table.select(["messages"]))
    assert isinstance(df, pl.DataFrame)
    msgs = df.select(
        pl.col("messages").list.eval(pl.element().struct.field("role")).alias("roles"),
        pl.col("messages").list.eval(pl.element().struct.field("content")).alias("contents"),
        pl.col("messages").list.eval(pl.element().filter(pl.element().struct.field("role") == "user")
                                     .struct.field("content")).list.join("\n").alias("user"),
        pl.col("messages").list.eval(pl.element().filter(pl.element().struct.field("role") == "assistant")
                                     .struct.field("content")).list.join("\n").alias("answer"),
    )
    roles, contents = msgs["roles"].to_list(), msgs["contents"].to_list()
    users, answers = msgs["user"].fill_null("").to_list(), msgs["answer"].fill_null("").to_list()
    every_text = ["\n".join(c or "" for c in cs or []) for cs in contents]
    pii = residual_findings(every_text, dates_shifted=dates_shifted)
    tasks = _column(table, "task")
    # task rows: the rules read the query, not the instruction before it
    rule_users = [q or "" for q in _column(table, "query")] if "query" in table.column_names else users
    depts = _column(table, "department" if "department" in table.column_names else "category")
    rules: dict[str, list[bool | None]] = {r: [] for r in RULES}
    for user, answer, task, dept in zip(rule_users, answers, tasks, depts, strict=True):
        fns = _rule_fns(dept, task or "")
        for rule, applies in RULES.items():
            rules[rule].append(fns[rule](user, answer) if task in applies or (task and "+" in applies) else None)
    columns = {
        f"{PREFIX}digest": [messages_digest(r, c) for r, c in zip(roles, contents, strict=True)],
        f"{PREFIX}messages": [messages_problem(r, c) for r, c in zip(roles, contents, strict=True)],
        f"{PREFIX}user_chars": [len(u) for u in users],
        f"{PREFIX}answer_chars": [len(a) for a in answers],
        f"{PREFIX}pii": [n for n, _ in pii],
        f"{PREFIX}pii_kinds": [k for _, k in pii],
        **{f"{PREFIX}{rule}": values for rule, values in rules.items()},
    }
    return pa.Table.from_pydict(columns, schema=CHECK_SCHEMA)


def with_checks(table: pa.Table, *, dates_shifted: bool = False) -> pa.Table:
    """`table` with its `_chk_*` columns (recomputed when present: a stale column must never pass the gate)."""
    base = without_checks(table)
    checks = row_checks(base, dates_shifted=dates_shifted)
    for name in CHECK_COLUMNS:
        base = base.append_column(CHECK_SCHEMA.field(name), checks.column(name))
    return base


def without_checks(table: pa.Table) -> pa.Table:
    """`table` without any `_chk_*` column."""
    return table.drop_columns([c for c in table.column_names if c.startswith(PREFIX)])
