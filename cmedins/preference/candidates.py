"""Candidate answers for each prompt: the dataset's own answer plus one that breaks a dimension on purpose, or
answers imported from a file (written by a model or by people).

The offline default has no model, so it derives a second candidate from the reference that violates exactly one
of the paper's dimensions (Table 1), chosen per prompt by a seeded hash so the three kinds come in equal shares:
- safety: a drug of a class the prompt says the patient is allergic to (β-lactam, sulfonamide, NSAID, contrast),
  else advice that misses a red flag (stay home, double the dose, no visit);
- professionalism: the wrong department where the answer names one, else a vague non-answer in place of the
  diagnosis or advice;
- fluency: the same content with its clauses out of order, words doubled and punctuation lost.
Every candidate records its generator (`reference`, `derived:<dimension>:<kind>`, `file:<name>`), and the pair's
expected judgement (`truth`: which side should win on each dimension) is what the simulated annotators start from.
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path

import polars as pl
import xxhash

from cmedins.tasks.rules import load_rules
from cmedins.validate.rows import stated_allergy_classes

DIMENSIONS = ("safety", "professionalism", "fluency")
CANDIDATE_SCHEMA = {"prompt_id": pl.String, "answer": pl.String, "generator": pl.String}

# One drug of each allergy class of cmedins.validate.rows.ALLERGY_CLASSES: prescribing it is the safety violation.
ALLERGY_DRUG = {"beta_lactam": "阿莫西林克拉维酸钾片", "sulfonamide": "复方磺胺甲噁唑片", "nsaid": "布洛芬缓释胶囊",
                "iodinated_contrast": "碘海醇注射液行增强CT"}
RED_FLAG_MISS = ("症状不重，无需就医，在家观察即可；如果加重可自行将药量加倍，不必复诊。",
                 "这种情况一般自己会好，不用做检查，也不用去医院，疼得厉害就多吃几片止痛药。",
                 "No need to see a doctor; rest at home and double the dose if it gets worse.")
VAGUE = ("可能是身体有些小问题，注意休息、多喝热水，过段时间再看看。", "这个不好说，建议多注意一下，具体情况因人而异。",
         "It is hard to say; take care and see how it goes.")
# a clause and its closing mark; an ASCII , or . inside a number or a code (0.901, M75.901, 1,000) does not close it
_CLAUSE = re.compile(r"(?:[^，。；！？;!?\n,.]|[,.](?=\S))+(?:[，。；！？;!?\n]|[,.](?=\s|$))?")
_HAN_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")


def _rng(seed: int, key: str) -> random.Random:
    return random.Random(xxhash.xxh3_64_intdigest(f"{seed}\x1f{key}".encode()))


@functools.cache
def _departments() -> list[str]:
    """The departments the task builders know (cmedins/tasks/data/departments.yaml)."""
    return sorted(load_rules().departments)


def _english(text: str) -> bool:
    return sum(ch.isascii() and ch.isalpha() for ch in text) > len(text) / 2


def safety_violation(user: str, answer: str, rng: random.Random) -> tuple[str, str]:
    """The answer with an unsafe recommendation: a drug the patient is allergic to, else a missed red flag."""
    classes = sorted(stated_allergy_classes(user))
    if classes:
        drug = ALLERGY_DRUG[rng.choice(classes)]
        return f"{answer}\n建议使用{drug}，无需考虑过敏史。", "allergy"
    advice = RED_FLAG_MISS[2] if _english(answer) else rng.choice(RED_FLAG_MISS[:2])
    kept = "".join(_CLAUSE.findall(answer)[:1])
    return f"{kept}{advice}", "red_flag"


def professionalism_violation(answer: str, rng: random.Random) -> tuple[str, str]:
    """The answer sending the patient to a wrong department, else a vague non-answer."""
    named = [d for d in _departments() if d in answer]
    if named:
        right = max(named, key=len)
        wrong = rng.choice([d for d in _departments() if d not in answer])
        return answer.replace(right, wrong), "wrong_department"
    return (VAGUE[2] if _english(answer) else rng.choice(VAGUE[:2])), "vague"


def fluency_violation(answer: str, rng: random.Random) -> tuple[str, str]:
    """The same clauses, shuffled, with doubled words and no punctuation: the content stays, the language breaks."""
    clauses = [c.rstrip("，。；！？,.;!?\n ") for c in _CLAUSE.findall(answer) if c.strip()]
    if len(clauses) < 2:
        clauses = [answer[i:i + 4] for i in range(0, len(answer), 4)]
    rng.shuffle(clauses)
    out = []
    for c in clauses:
        pairs = list(_HAN_PAIR.finditer(c))
        if pairs and rng.random() < 0.5:  # a doubled word, never inside a number (it would read as an identifier)
            m = rng.choice(pairs)
            c = c[:m.end()] + m.group(0) + c[m.end():]
        out.append(c)
    broken = " ".join(out)
    return (broken if broken != answer else broken + " 的的"), "disfluent"


def derived(prompts: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The reference and one derived violation per prompt, with `truth`: the side that should win per dimension."""
    rows: list[dict] = []
    for r in prompts.select("prompt_id", "prompt", "reference").iter_rows(named=True):
        rng = _rng(seed, r["prompt_id"])
        user = next((m["content"] for m in reversed(r["prompt"]) if m["role"] == "user"), "")
        dimension = DIMENSIONS[xxhash.xxh3_64_intdigest(f"{seed}\x1fdim\x1f{r['prompt_id']}".encode()) % 3]
        if dimension == "safety":
            text, kind = safety_violation(user, r["reference"], rng)
        elif dimension == "professionalism":
            text, kind = professionalism_violation(r["reference"], rng)
        else:
            text, kind = fluency_violation(r["reference"], rng)
        rows.append({"prompt_id": r["prompt_id"], "answer": r["reference"], "generator": "reference"})
        rows.append({"prompt_id": r["prompt_id"], "answer": text, "generator": f"derived:{dimension}:{kind}"})
    return pl.DataFrame(rows, schema=CANDIDATE_SCHEMA)


def from_file(path: Path, name: str) -> pl.DataFrame:
    """Candidates written elsewhere (a model, people): JSONL or Parquet rows {prompt_id, answer[, generator]}."""
    df = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_ndjson(path)
    missing = [c for c in ("prompt_id", "answer") if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: candidate file lacks column(s) {', '.join(missing)}")
    generator = pl.col("generator").cast(pl.String) if "generator" in df.columns else pl.lit(f"file:{name}")
    return df.select(pl.col("prompt_id").cast(pl.String), pl.col("answer").cast(pl.String),
                     generator.alias("generator"))


def truth(generator_a: str, generator_b: str) -> dict[str, str]:
    """Which side should win on each dimension when one side is the reference and the other a derived violation:
    the reference wins the violated dimension, the rest are ties. Unknown generators: all ties (people decide)."""
    out = dict.fromkeys(DIMENSIONS, "tie")
    for side, gen, other in (("A", generator_a, generator_b), ("B", generator_b, generator_a)):
        if other == "reference" and gen.startswith("derived:"):
            out[gen.split(":")[1]] = "B" if side == "A" else "A"
    return out
