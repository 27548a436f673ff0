"""train/eval/: the pairwise evaluation harness, end to end and offline.

The tiny Qwen2 model of `train.tiny` is compared with itself plus a randomly initialised LoRA adapter on the first
rows of the real Huatuo26M-test and CMtMedQA-test samples (../shared/realdata, never copied into the repo), judged by
the deterministic fake judge; one run goes through the command line exactly as a user types it. The HTTP judge is
exercised against a local OpenAI-style server (a thread) that fails once with 429 and once with 500 first.
Skipped when the `train` extra is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import warnings
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # train/ is a folder of the checkout, not part of the installed package
    sys.path.insert(0, str(REPO))
REALDATA = Path(os.environ.get("CMEDINS_REALDATA") or REPO.parent / "shared" / "realdata")
HUATUO = REALDATA / "huatuo26M_test_zhongjing" / "huatuo26M_test.json"
CMTMEDQA = REALDATA / "CMtMedQA_test" / "CMtMedQA_test.json"
if not (HUATUO.is_file() and CMTMEDQA.is_file()):
    pytest.skip("the real test-set samples in ../shared/realdata are not present", allow_module_level=True)

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import yaml  # noqa: E402

from train import tiny  # noqa: E402
from train.common import run_cli  # noqa: E402
from train.config import UsageError  # noqa: E402
from train.eval import judges  # noqa: E402
from train.eval.__main__ import main  # noqa: E402
from train.eval.config import TestSet, load_config  # noqa: E402
from train.eval.items import load_safety_items, load_test_set  # noqa: E402
from train.eval.judging import combine  # noqa: E402
from train.eval.report import bootstrap  # noqa: E402

TINY_CONFIG = REPO / "train" / "configs" / "eval_tiny.yaml"
KEY = "sk-test-SECRET-4242-do-not-leak"


def env(root: Path) -> dict[str, str]:
    return os.environ | {
        "HF_HUB_OFFLINE": "1", "HF_HOME": str(root / "hf"), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    """The configs name repo-relative paths (prompts, safety items), as when a user runs from the repo root."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in (judges.ENV_URL, judges.ENV_MODEL, judges.ENV_KEY):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("eval")


@pytest.fixture(scope="module")
def tiny_model(workdir: Path) -> Path:
    return tiny.write_tiny(workdir / "tiny")


@pytest.fixture(scope="module")
def adapter(workdir: Path, tiny_model: Path) -> Path:
    """An untrained LoRA adapter with random (not zero) B matrices, so its answers differ from the base model's."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    out = workdir / "adapter"
    with warnings.catch_warnings():  # peft's own deprecation notice about transformers, not ours
        warnings.simplefilter("ignore", FutureWarning)
        get_peft_model(model, lora).save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(out)
    return out


def compare_args(workdir: Path, a: str, b: str, out: str, *extra: str) -> list[str]:
    return ["compare", a, b, "--config", str(TINY_CONFIG), "--data-root", str(REALDATA),
            "--cache-dir", str(workdir / "cache"), "--out", str(workdir / out), *extra]


@pytest.fixture(scope="module")
def e2e(workdir: Path, tiny_model: Path, adapter: Path):
    """The documented command, as a subprocess: tiny vs tiny + adapter, fake judge, real test-set rows."""
    argv = compare_args(workdir, str(tiny_model), str(tiny_model), "out", "--adapter-b", str(adapter))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "train.eval", *argv], cwd=REPO, env=env(workdir),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"offline end-to-end compare took {time.perf_counter() - start:.1f} s")
    return proc, workdir / "out"


# --- loaders -------------------------------------------------------------------------------------------------------


def test_huatuo_rows_become_single_turn_items():
    raw = json.loads(HUATUO.read_text(encoding="utf-8"))
    items = load_test_set(TestSet("Huatuo26M-test", str(HUATUO), "huatuo26m", limit=5), HUATUO)
    assert [it.id for it in items] == [f"Huatuo26M-test/{i}#1" for i in range(1, 6)]
    assert items[0].question == raw[0]["instruction"][0].strip() and items[0].reference == raw[0]["output"][0].strip()
    assert all(not it.history for it in items)


def test_cmtmedqa_dialogues_are_judged_turn_by_turn_with_the_real_history():
    raw = json.loads(CMTMEDQA.read_text(encoding="utf-8"))
    items = load_test_set(TestSet("CMtMedQA-test", str(CMTMEDQA), "cmtmedqa", limit=1), CMTMEDQA)
    history = raw[0]["history"]
    assert len(items) == len(history) + 1 and {it.group for it in items} == {"CMtMedQA-test/1"}
    for turn, item in enumerate(items):
        assert len(item.history) == 2 * turn  # every earlier (user, assistant) pair, as in the file
        assert [c for _, c in item.history[1::2]] == [h[1] for h in history[:turn]]
    assert items[-1].question == raw[0]["instruction"] and items[-1].reference == raw[0]["output"]
    assert "【对话历史】" in items[-1].judge_question() and items[0].judge_question() == history[0][0]
    safety = load_test_set(TestSet("S", str(CMTMEDQA), "cmtmedqa", limit=3, rows="safety"), CMTMEDQA)
    assert [it.question for it in safety] == [r["instruct"].strip() for r in raw[1000:1003]]


def test_messages_files_jsonl_and_parquet(tmp_path: Path):
    chat = [{"role": "user", "content": "头痛三天"}, {"role": "assistant", "content": "建议就诊神经内科。"},
            {"role": "user", "content": "需要做CT吗？"}, {"role": "assistant", "content": "必要时做头颅CT。"}]
    rows = [{"messages": chat}, {"messages": [{"role": "user", "content": "发烧怎么办？"}]}]  # 2nd: no reference
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "m.parquet")
    for name in ("m.jsonl", "m.parquet"):
        items = load_test_set(TestSet("mine", name, "messages"), tmp_path / name)
        assert [(len(it.history), it.question, it.reference) for it in items] == [
            (0, "头痛三天", "建议就诊神经内科。"), (2, "需要做CT吗？", "必要时做头颅CT。"), (0, "发烧怎么办？", None)]
    last = load_test_set(TestSet("mine", "m.jsonl", "messages", turns="last"), tmp_path / "m.jsonl")
    assert [it.question for it in last] == ["需要做CT吗？", "发烧怎么办？"]


def test_safety_items_file():
    items = load_safety_items(REPO / "train" / "eval" / "data" / "safety_items.jsonl")
    assert len(items) >= 30 and len({it.id for it in items}) == len(items)
    assert {it.category for it in items} == {"refusal", "allergy", "pregnancy_lactation", "drug_contraindication"}
    assert all(it.rubric and len(it.rubric) > 20 and it.question for it in items)


# --- the offline end to end run ------------------------------------------------------------------------------------


def table_rows(stdout: str) -> dict[tuple[str, str], list[str]]:
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[1] in ("professionalism", "fluency", "overall"):
            rows[(cells[0], cells[1])] = cells[2:]
    return rows


def test_compare_end_to_end_offline(e2e):
    proc, out = e2e
    rows = table_rows(proc.stdout)
    assert set(rows) == {(ts, d) for ts in ("Huatuo26M-test", "CMtMedQA-test")
                         for d in ("professionalism", "fluency", "overall")}
    assert rows[("Huatuo26M-test", "overall")][0] == "6/6" and rows[("CMtMedQA-test", "overall")][0] == "9/9"
    assert re.search(r"\d+\.\d% \[\d+\.\d, \d+\.\d\]", proc.stdout)  # shares with bootstrap intervals
    assert "generated 50 answers for A, 50 for B" in proc.stdout  # 15 test-set items + 35 safety items each
    for name in ("report.md", "results.json", "winrate.svg", "judgments.parquet", "answers_a.parquet",
                 "answers_b.parquet"):
        assert (out / name).is_file(), name
    svg = ET.parse(out / "winrate.svg").getroot()
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}rect")) > 6
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for row in results["pairwise"]:
        assert sum(row[o]["value"] for o in ("win", "tie", "lose")) == pytest.approx(1.0)
        assert row["win"]["low"] <= row["win"]["value"] <= row["win"]["high"]
    assert len(results["safety"]) == 10 and results["safety_pairs"]["unreadable"] == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Safety items" in report and "## Examples" in report and "wins: " in report
    answers = pq.read_table(out / "answers_b.parquet").to_pylist()
    assert len(answers) == 50 and all(r["adapter"] for r in answers)


def test_second_run_generates_and_judges_nothing_and_is_identical(e2e, workdir, tiny_model, adapter, capsys):
    _, out = e2e
    first = {name: (out / name).read_bytes() for name in ("results.json", "winrate.svg", "report.md")}
    argv = compare_args(workdir, str(tiny_model), str(tiny_model), "out", "--adapter-b", str(adapter))
    assert main(argv) == 0
    assert "generated 0 answers for A, 0 for B; 0 new judgments" in capsys.readouterr().out
    assert {name: (out / name).read_bytes() for name in first} == first  # same inputs + seed: same bytes


def test_always_a_judge_with_swapped_orders_gives_all_ties(e2e, workdir, capsys):
    _, out = e2e
    argv = compare_args(workdir, str(out / "answers_a.parquet"), str(out / "answers_b.parquet"), "bias",
                        "--judge", "fake:always_a", "--no-safety")
    assert main(argv) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows and all(cells[1:] == ["0.0% [0.0, 0.0]", "100.0% [100.0, 100.0]", "0.0% [0.0, 0.0]"]
                        for cells in rows.values())
    judged = pq.read_table(workdir / "bias" / "judgments.parquet").to_pylist()
    assert all(r["a_first_overall"] == "win" and r["b_first_overall"] == "win" for r in judged)  # biased both ways
    assert combine("win", "lose") == "win" and combine("lose", "win") == "lose" and combine("win", "win") == "tie"
    assert combine(None, "win") is None


def test_swapping_a_and_b_mirrors_the_table(e2e, workdir):
    _, out = e2e
    main(compare_args(workdir, str(out / "answers_b.parquet"), str(out / "answers_a.parquet"), "swapped",
                      "--no-safety"))
    ab = json.loads((out / "results.json").read_text(encoding="utf-8"))["pairwise"]
    ba = json.loads((workdir / "swapped" / "results.json").read_text(encoding="utf-8"))["pairwise"]
    for x, y in zip(ab, ba, strict=True):
        assert x["win"]["value"] == y["lose"]["value"] and x["tie"]["value"] == y["tie"]["value"]


# --- the HTTP judge ------------------------------------------------------------------------------------------------


class ChatServer:
    """A local OpenAI-style /v1/chat/completions: the first replies follow `failures` (HTTP codes), then it judges
    like the fake `longer` judge, reading the two answers out of the rendered prompt."""

    def __init__(self, failures: list[int]) -> None:
        self.failures, self.seen = list(failures), []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                if server.failures:
                    code = server.failures.pop(0)
                    self.send_response(code)
                    if code == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                prompt = body["messages"][0]["content"]
                a1 = prompt.split("\n\n回答1：\n", 1)[1].split("\n\n回答2：\n", 1)[0]
                a2 = prompt.split("\n\n回答2：\n", 1)[1].split("\n\n评价标准：", 1)[0]
                v = "Win" if len(a1) > len(a2) else "Lose" if len(a1) < len(a2) else "Tie"
                reply = {"choices": [{"message": {"role": "assistant",
                                                  "content": f"**Professionalism**: {v}\n流畅性：{v}\nOverall: {v}"}}]}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def http_config(tmp_path: Path, **judge) -> Path:
    raw = yaml.safe_load(TINY_CONFIG.read_text(encoding="utf-8"))
    raw["judge"] = {"kind": "openai", "backoff_s": 0.01, "requests_per_minute": 60000, "concurrency": 2, **judge}
    path = tmp_path / "eval_http.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def http_args(tmp_path: Path, out: Path, config: Path) -> list[str]:
    return ["compare", str(out / "answers_a.parquet"), str(out / "answers_b.parquet"), "--config", str(config),
            "--data-root", str(REALDATA), "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"),
            "--no-safety", "--judge", "openai"]


def test_http_judge_retries_and_never_writes_the_key(e2e, tmp_path: Path, monkeypatch, capsys):
    _, out = e2e
    server = ChatServer([429, 500])
    monkeypatch.setenv(judges.ENV_URL, server.url)
    monkeypatch.setenv(judges.ENV_MODEL, "judge-model")
    monkeypatch.setenv(judges.ENV_KEY, KEY)
    try:
        assert run_cli(main, http_args(tmp_path, out, http_config(tmp_path))) == 0
    finally:
        server.close()
    logs = capsys.readouterr()
    assert "HTTP 429" in logs.out and "HTTP 500" in logs.out and "retry" in logs.out
    sent = int(re.search(r"judge pairwise: (\d+) new requests", logs.out).group(1))
    assert sent >= 20 and len(server.seen) == sent + 2 and all(s["auth"] == f"Bearer {KEY}" for s in server.seen)
    assert server.seen[-1]["path"] == "/v1/chat/completions" and server.seen[-1]["body"]["model"] == "judge-model"
    # the endpoint judged like the fake `longer` judge, so its table equals the offline one
    http_rows = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["pairwise"]
    fake_rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["pairwise"]
    assert [r["win"]["value"] for r in http_rows] == [r["win"]["value"] for r in fake_rows]
    assert KEY not in logs.out + logs.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(("failures", "expected"), [
    ([500] * 5, "gave up after 3 tries (last: HTTP 500)"),
    ([401], "HTTP 401 (check CMEDINS_JUDGE_API_KEY)"),
])
def test_endpoint_errors_are_one_line_exit_2(e2e, tmp_path, monkeypatch, capsys, failures, expected):
    _, out = e2e
    server = ChatServer(failures)
    monkeypatch.setenv(judges.ENV_URL, server.url)
    monkeypatch.setenv(judges.ENV_MODEL, "judge-model")
    monkeypatch.setenv(judges.ENV_KEY, KEY)
    try:
        code = run_cli(main, http_args(tmp_path, out, http_config(tmp_path, max_retries=2, concurrency=1)))
    finally:
        server.close()
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: judge endpoint 127.0.0.1:") and expected in err
    assert "\n" not in err and KEY not in err and "回答" not in err  # no prompt text either


def test_rate_limiter_spaces_requests():
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = judges.RateLimiter(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == pytest.approx([0.5, 0.5])


# --- verdict parsing, bootstrap, local judge, bad input -----------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Professionalism: Win\nFluency: Tie\nOverall: Win", ("win", "tie", "win")),
    ("**Professionalism**: lose\n**Fluency**: win", ("lose", "win", "lose")),  # overall follows professionalism
    ("专业性：平\n流畅性：胜", ("tie", "win", "win")),  # professionalism tie: fluency decides
    ("Win", (None, None, "win")),  # the paper's original one-word output
    ("Professionalism: <Win|Lose|Tie>", (None, None, None)),  # an echoed template is not a verdict
    ("I think both are fine.", (None, None, None)),
])
def test_parse_pair(text, expected):
    got = judges.parse_pair(text)
    assert (got["professionalism"], got["fluency"], got["overall"]) == expected


def test_parse_single():
    assert judges.parse_single("Verdict: Pass\nReason: refuses") == "pass"
    assert judges.parse_single("结论：不通过") == "fail"
    assert judges.parse_single("Verdict: <Pass|Fail>") is None


def test_bootstrap_is_seeded_and_resamples_dialogues():
    groups = [["win", "win", "tie"], ["lose"], ["win"], ["tie", "lose"], ["win", "win"]]
    a = bootstrap(groups, ("win", "tie", "lose"), 500, seed=7)
    assert a == bootstrap(groups, ("win", "tie", "lose"), 500, seed=7)
    assert a["win"].value == pytest.approx(5 / 9) and a["win"].low < a["win"].value < a["win"].high


def test_local_judge_runs_the_same_way(e2e, workdir, tiny_model, capsys):
    _, out = e2e
    argv = compare_args(workdir, str(out / "answers_a.parquet"), str(out / "answers_b.parquet"), "local",
                        "--judge", f"local:{tiny_model}", "--no-safety", "--limit", "1")
    assert main(argv) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows[("Huatuo26M-test", "overall")][0].endswith("/1")  # random weights: the verdict is unreadable


@pytest.fixture
def bad_inputs(tmp_path: Path, e2e) -> dict[str, tuple[str, list[str]]]:
    _, out = e2e
    raw = yaml.safe_load(TINY_CONFIG.read_text(encoding="utf-8"))
    bad_rows = tmp_path / "bad.jsonl"
    bad_rows.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
                        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant"}]}\n', encoding="utf-8")
    messages_cfg = tmp_path / "messages.yaml"
    messages_cfg.write_text(yaml.safe_dump(raw | {"test_sets": [{"name": "mine", "path": str(bad_rows)}]}))
    typo_cfg = tmp_path / "typo.yaml"
    typo_cfg.write_text(yaml.safe_dump(raw | {"generation": {"max_new_token": 8}}))
    short = tmp_path / "short.jsonl"
    short.write_text('{"id": "Huatuo26M-test/1#1", "answer": "x"}\n', encoding="utf-8")
    a, b = str(out / "answers_a.parquet"), str(out / "answers_b.parquet")
    common = ["--data-root", str(REALDATA), "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")]
    return {
        "missing test set": ("file not found: " + str(tmp_path / "nowhere" / "huatuo26M_test_zhongjing"),
                             ["compare", a, b, "--config", str(TINY_CONFIG), *common[2:],
                              "--data-root", str(tmp_path / "nowhere")]),
        "malformed row": ("bad.jsonl row 2: messages[1] is empty or missing",
                          ["compare", a, b, "--config", str(messages_cfg), *common]),
        "config typo": ("unknown key 'max_new_token'", ["compare", a, b, "--config", str(typo_cfg), *common]),
        "short answer file": ("short.jsonl lacks 49 of 50 items",
                              ["compare", str(short), b, "--config", str(TINY_CONFIG), *common]),
        "missing answer file": ("answer file not found",
                                ["compare", str(tmp_path / "none.parquet"), b, "--config", str(TINY_CONFIG), *common]),
        "no endpoint": ("needs CMEDINS_JUDGE_BASE_URL",
                        ["compare", a, b, "--config", str(TINY_CONFIG), "--judge", "openai", *common]),
        "bad judge": ("--judge must be", ["compare", a, b, "--config", str(TINY_CONFIG), "--judge", "gpt4", *common]),
        "no command": ("usage: python -m train.eval", []),
    }


@pytest.mark.parametrize("case", [
    "missing test set", "malformed row", "config typo", "short answer file", "missing answer file", "no endpoint",
    "bad judge", "no command",
])
def test_bad_input_is_one_line_and_exit_2(case, bad_inputs, capsys):
    message, argv = bad_inputs[case]
    assert run_cli(main, argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err and "Traceback" not in err


def test_missing_config_is_one_line():
    with pytest.raises(UsageError, match="config file not found"):
        load_config("no/such.yaml")
