"""Judges: an OpenAI-compatible chat endpoint, a local transformers model, or a deterministic fake; and the parsers
that turn their text into verdicts.

Every judge answers a rendered prompt (train/prompts/judge_*.txt) with text, and the same parser reads all of them,
so the offline fake judges exercise the parsing the real ones rely on. The endpoint's base URL, model and key come
from the environment (CMEDINS_JUDGE_BASE_URL / CMEDINS_JUDGE_MODEL / CMEDINS_JUDGE_API_KEY); the key is only ever
put in the Authorization header, never in a message, a log line or a cache row, and errors name the host, never the
prompt. Only the standard library speaks HTTP here (urllib): no new dependency for the training extra.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from train.config import UsageError
from train.eval.config import Generation
from train.eval.config import Judge as JudgeSettings

ENV_URL, ENV_MODEL, ENV_KEY = "CMEDINS_JUDGE_BASE_URL", "CMEDINS_JUDGE_MODEL", "CMEDINS_JUDGE_API_KEY"
DIMENSIONS = ("professionalism", "fluency", "overall")
PAIR_FIELDS = ("question", "answer1", "answer2")
SINGLE_FIELDS = ("question", "answer", "rubric")
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}

_VERDICT = r"(win|lose|loss|tie|draw|胜|赢|负|输|平|持平)"
_DIM_NAMES = {
    "professionalism": r"(?:professionalism|专业性|专业)",
    "fluency": r"(?:fluency|流畅性|流畅度|流畅)",
    "overall": r"(?:overall|总体|综合|总评|结论|result)",
}
_NORMAL = {"win": "win", "胜": "win", "赢": "win", "lose": "lose", "loss": "lose", "负": "lose", "输": "lose",
           "tie": "tie", "draw": "tie", "平": "tie", "持平": "tie"}


@dataclass(frozen=True)
class Template:
    text: str
    sha: str
    path: str

    def render(self, **fields: str) -> str:
        """Fill {name} placeholders by plain replacement (answers may contain braces, so no str.format)."""
        out = self.text
        for name, value in fields.items():
            out = out.replace("{" + name + "}", value)
        return out


def load_template(path: str | Path, required: tuple[str, ...]) -> Template:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"judge prompt template not found: {path}")
    text = path.read_text(encoding="utf-8")
    missing = [name for name in required if "{" + name + "}" not in text]
    if missing:
        names = ", ".join("{" + m + "}" for m in missing)
        raise UsageError(f"judge prompt template {path} lacks the placeholder(s) {names}")
    return Template(text, hashlib.sha256(text.encode("utf-8")).hexdigest(), str(path))


@dataclass(frozen=True)
class Request:
    """What a judge is asked: `prompt` (the rendered template) plus the raw `fields` (used by the fake judges)."""

    kind: str  # "pair" | "single"
    prompt: str
    fields: dict[str, str] = field(default_factory=dict)


class Judge(Protocol):
    name: str  # identifies the judge in the cache key (never holds a secret)

    def ask(self, request: Request) -> str: ...


def parse_pair(text: str) -> dict[str, str | None]:
    """Answer1's result per dimension ('win' / 'lose' / 'tie', None when absent).

    Accepts `Professionalism: Win` lines (English or Chinese names and verdicts) and the paper's original bare
    `Win` / `Lose` / `Tie` (read as the overall verdict). A missing overall follows the paper's priority:
    professionalism decides unless it is a tie, then fluency.
    """
    found: dict[str, str | None] = {}
    for dim, pattern in _DIM_NAMES.items():
        m = re.search(pattern + r"\s*[*_]*\s*[:：=]\s*[*_\[【]*\s*" + _VERDICT, text, re.I)
        found[dim] = _NORMAL[m.group(1).lower()] if m else None
    if not any(found.values()):
        bare = re.findall(r"\b(win|lose|tie)\b", text, re.I)
        if len({b.lower() for b in bare}) == 1:
            found["overall"] = bare[0].lower()
    if found["overall"] is None and found["professionalism"]:
        found["overall"] = found["professionalism"] if found["professionalism"] != "tie" else found["fluency"]
    return found


def parse_single(text: str) -> str | None:
    """'pass' / 'fail' from a `Verdict: Pass` line (also 通过 / 不通过), None when absent."""
    m = re.search(r"(?:verdict|结论|判定)\s*[*_]*\s*[:：]\s*[*_\[【]*\s*(pass|fail|不通过|通过)", text, re.I)
    if not m:
        return None
    word = m.group(1).lower()
    return "pass" if word in ("pass", "通过") else "fail"


# --- the fake judges (offline tests and smoke runs) -------------------------------------------------------------

CAUTION = ("不能", "无法", "不可以", "不建议", "拒绝", "禁忌", "禁用", "慎用", "就医", "医生", "急救", "120")


class FakeJudge:
    """Deterministic judges with no model: `longer` prefers the longer answer (equal lengths tie) and passes a
    safety answer that contains a refusal or caution word; `always_a` always prefers Answer1 (the position-bias
    test) and passes everything; `tie` always ties. Smoke tests only: they say nothing about quality."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.name = f"fake:{rule}"

    def ask(self, request: Request) -> str:
        f = request.fields
        if request.kind == "single":
            ok = self.rule != "longer" or any(word in f["answer"] for word in CAUTION)
            return f"Verdict: {'Pass' if ok else 'Fail'}\nReason: fake judge ({self.rule})"
        if self.rule == "always_a":
            verdict = "Win"
        elif self.rule == "tie":
            verdict = "Tie"
        else:
            a, b = len(f["answer1"]), len(f["answer2"])
            verdict = "Win" if a > b else "Lose" if a < b else "Tie"
        return f"Professionalism: {verdict}\nFluency: {verdict}\nOverall: {verdict}"


# --- an OpenAI-compatible endpoint -------------------------------------------------------------------------------


class RateLimiter:
    """At most `per_minute` request starts per minute, spread evenly (shared by the worker threads)."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = self.clock()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            self.sleep(start - now)


class OpenAIJudge:
    """POST {base}/chat/completions with retries (exponential backoff, Retry-After honoured) and a rate limit."""

    def __init__(self, settings: JudgeSettings, say: Callable[[str], None] = print,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        base = os.environ.get(ENV_URL, "").strip()
        model = os.environ.get(ENV_MODEL, "").strip()
        if not base:
            raise UsageError(f"the openai judge needs {ENV_URL} (e.g. https://api.openai.com/v1) in the environment")
        if not model:
            raise UsageError(f"the openai judge needs {ENV_MODEL} (the judge model's name) in the environment")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{ENV_URL} must be an http(s) URL")
        self.url = base.rstrip("/") + "/chat/completions"
        self.host = parts.hostname + (f":{parts.port}" if parts.port else "")  # no user:password, no query
        self.model, self.settings, self.say, self.sleep = model, settings, say, sleep
        self._key = os.environ.get(ENV_KEY, "").strip()
        self.limiter = RateLimiter(settings.requests_per_minute, sleep=sleep)
        self.name = f"openai:{model}@{self.host}{parts.path.rstrip('/')}:t={settings.temperature}"

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback's locals
        return f"OpenAIJudge({self.name})"

    def _post(self, body: bytes) -> bytes:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = "Bearer " + self._key
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.settings.timeout_s) as resp:  # noqa: S310 (http(s) checked)
            return resp.read()

    def ask(self, request: Request) -> str:
        body = json.dumps({
            "model": self.model, "messages": [{"role": "user", "content": request.prompt}],
            "temperature": self.settings.temperature, "max_tokens": self.settings.max_tokens,
        }, ensure_ascii=False).encode("utf-8")
        tries = self.settings.max_retries + 1
        last = ""
        for attempt in range(tries):
            self.limiter.wait()
            retry_after = None
            try:
                raw = self._post(body)
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS:
                    hint = f" (check {ENV_KEY})" if exc.code in (401, 403) else ""
                    raise UsageError(f"judge endpoint {self.host}: HTTP {exc.code}{hint}") from None
                last = f"HTTP {exc.code}"
                header = exc.headers.get("Retry-After") if exc.headers else None
                retry_after = float(header) if header and header.strip().replace(".", "", 1).isdigit() else None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                reason = getattr(exc, "reason", exc)
                last = type(reason).__name__ if not isinstance(reason, str) else "connection error"
            else:
                return self._content(raw)
            if attempt + 1 < tries:
                delay = retry_after if retry_after is not None else self.settings.backoff_s * 2**attempt
                delay = min(delay, 120.0)
                self.say(f"judge: {last} from {self.host}, retry {attempt + 1}/{tries - 1} in {delay:.1f} s")
                self.sleep(delay)
        raise UsageError(f"judge endpoint {self.host}: gave up after {tries} tries (last: {last})")

    def _content(self, raw: bytes) -> str:
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise UsageError(f"judge endpoint {self.host}: the reply has no choices[0].message.content") from None
        if not isinstance(content, str):
            raise UsageError(f"judge endpoint {self.host}: choices[0].message.content is not text")
        return content


# --- a local transformers model ----------------------------------------------------------------------------------


class LocalJudge:
    """A chat model run locally (greedy) on the same prompt; its text goes through the same parsers."""

    def __init__(self, settings: JudgeSettings) -> None:
        from train.eval.generate import fingerprint, load_model

        if not settings.model:
            raise UsageError("the local judge needs `judge.model` (a model folder or Hub id) or --judge local:PATH")
        self.gen = Generation(max_new_tokens=settings.max_tokens, do_sample=False)
        self.net, self.tokenizer, self.device = load_model(settings.model, None, self.gen)
        context = getattr(self.net.config, "max_position_embeddings", None) or 32768
        self.max_input = max(256, context - settings.max_tokens)
        self.name = f"local:{fingerprint(settings.model)}"
        self.lock = threading.Lock()

    def ask(self, request: Request) -> str:
        from train.eval.generate import _generate_batch

        text = self.tokenizer.apply_chat_template([{"role": "user", "content": request.prompt}],
                                                  add_generation_prompt=True, tokenize=False)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"][-self.max_input:]
        with self.lock:
            new = _generate_batch(self.net, self.tokenizer, self.device, [ids], self.gen)[0]
        return self.tokenizer.decode(new, skip_special_tokens=True)


def make_judge(settings: JudgeSettings, say: Callable[[str], None] = print) -> Judge:
    if settings.kind == "fake":
        return FakeJudge(settings.rule)
    if settings.kind == "local":
        return LocalJudge(settings)
    return OpenAIJudge(settings, say=say)
