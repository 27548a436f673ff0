"""Answers from a local model (+ optional LoRA adapter) through transformers, cached by model, adapter, prompt and
decoding settings, so a second run with the same key generates nothing.

Why fingerprints instead of paths in the key: `runs/sft` retrained in place must not serve the old adapter's answers.
A model folder's fingerprint hashes its small files (configs, tokenizer, chat template) whole and each weight file by
size plus its first and last MiB (a 14B checkpoint is not re-read on every run); a Hub id is keyed by its name.
Answer files (parquet / JSONL with `id` and `answer`) stand in for a model: another team's answers, or the
`answers_a.parquet` a previous run wrote.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from train.config import UsageError
from train.eval.cache import ParquetCache, digest
from train.eval.config import Generation
from train.eval.items import Item

ANSWER_FILE_SUFFIXES = (".parquet", ".jsonl", ".json")
SMALL_FILE = 8 * 2**20
EDGE = 2**20


def is_answer_file(spec: str) -> bool:
    path = Path(spec)
    return path.suffix.lower() in ANSWER_FILE_SUFFIXES and not path.is_dir()


def fingerprint(source: str | None) -> str | None:
    """A content fingerprint of a model or adapter folder (see the module docstring); `hub:ID` for a Hub id."""
    if source is None:
        return None
    folder = Path(source)
    if not folder.is_dir():
        return f"hub:{source}"
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        size = path.stat().st_size
        h.update(f"{path.name}\0{size}\0".encode())
        with path.open("rb") as f:
            if size <= SMALL_FILE:
                h.update(f.read())
            else:
                h.update(f.read(EDGE))
                f.seek(size - EDGE)
                h.update(f.read(EDGE))
    return h.hexdigest()


def answer_key(model_fp: str, adapter_fp: str | None, item: Item, gen: Generation) -> str:
    return digest("answer", model_fp, adapter_fp, item.messages(), gen.key_fields())


def load_model(model: str, adapter: str | None, gen: Generation):
    """(model, tokenizer, device): the base model in gen.dtype on a GPU (float32 on CPU), the adapter merged in."""
    import torch

    from train.common import load_base_model, load_tokenizer

    on_gpu = torch.cuda.is_available()
    if adapter is not None and not Path(adapter, "adapter_config.json").is_file():
        raise UsageError(f"adapter {adapter}: no adapter_config.json (not a peft adapter folder)")
    tok_source = adapter if adapter and Path(adapter, "tokenizer_config.json").is_file() else model
    tokenizer = load_tokenizer(tok_source)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    net = load_base_model(model, {"dtype": gen.dtype, "attn_implementation": None}, on_gpu)
    if adapter is not None:
        from peft import PeftModel

        try:
            net = PeftModel.from_pretrained(net, adapter).merge_and_unload()
        except (OSError, ValueError, RuntimeError) as exc:
            raise UsageError(f"adapter {adapter} does not load on {model}: {str(exc).splitlines()[0]}") from None
    net.eval()
    return net, tokenizer, next(net.parameters()).device


def encode(tokenizer, item: Item, max_input_tokens: int) -> tuple[list[int], bool]:
    """Prompt ids through the model's chat template; the oldest history turns go first when it is too long."""
    messages = item.messages()
    truncated = False
    while True:
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        first = 1 if messages[0]["role"] == "system" else 0
        if len(ids) <= max_input_tokens or len(messages) - first < 3:
            break
        messages = messages[:first] + messages[first + 2:]
        truncated = True
    if len(ids) > max_input_tokens:
        ids, truncated = ids[-max_input_tokens:], True
    return ids, truncated


def _generate_batch(net, tokenizer, device, prompts: list[list[int]], gen: Generation) -> list[list[int]]:
    import torch

    width = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    # every decoding setting is passed explicitly: a model's own generation_config (Qwen2.5: sampling, penalty
    # 1.05) must not change answers behind the cache key's back
    kwargs: dict[str, Any] = {"max_new_tokens": gen.max_new_tokens, "pad_token_id": pad, "do_sample": gen.do_sample,
                              "repetition_penalty": gen.repetition_penalty}
    if gen.do_sample:
        kwargs |= {"temperature": gen.temperature, "top_p": gen.top_p, "top_k": 0}
    torch.manual_seed(gen.seed)
    with torch.no_grad():
        out = net.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
    return out[:, width:].tolist()


def generate_answers(model: str, adapter: str | None, items: list[Item], gen: Generation, cache: ParquetCache,
                     label: str, say: Callable[[str], None] = print) -> tuple[dict[str, str], int]:
    """{item id: answer} for every item, generating only prompts the cache lacks; returns (answers, generated)."""
    model_fp, adapter_fp = fingerprint(model), fingerprint(adapter)
    keys = {item.id: answer_key(model_fp, adapter_fp, item, gen) for item in items}
    todo: dict[str, Item] = {}
    for item in items:
        if cache.get(keys[item.id]) is None:
            todo.setdefault(keys[item.id], item)
    if todo:
        start = last_log = time.perf_counter()
        net, tokenizer, device = load_model(model, adapter, gen)
        encoded = {key: encode(tokenizer, item, gen.max_input_tokens) for key, item in todo.items()}
        order = sorted(encoded, key=lambda k: (len(encoded[k][0]), k))  # similar lengths batch together
        settings = json.dumps(gen.key_fields(), sort_keys=True)
        try:
            for b in range(0, len(order), gen.batch_size):
                batch = order[b:b + gen.batch_size]
                outputs = _generate_batch(net, tokenizer, device, [encoded[k][0] for k in batch], gen)
                for key, new in zip(batch, outputs, strict=True):
                    text = tokenizer.decode(new, skip_special_tokens=True).strip()
                    n_new = sum(1 for t in new if t != tokenizer.pad_token_id)
                    cache.put({"key": key, "model": model, "adapter": adapter, "model_fp": model_fp,
                               "adapter_fp": adapter_fp, "settings": settings, "answer": text,
                               "prompt_tokens": len(encoded[key][0]), "new_tokens": n_new,
                               "truncated": encoded[key][1]})
                now = time.perf_counter()
                if now - last_log > 30 or b + gen.batch_size >= len(order):
                    last_log = now
                    say(f"generate {label}: {min(b + gen.batch_size, len(order))}/{len(order)} new answers "
                        f"({now - start:.1f} s)")
        finally:
            cache.flush()  # an interrupted run keeps the answers it already generated
        del net
        _free_gpu()
    return {item.id: cache.get(keys[item.id])["answer"] for item in items}, len(todo)


def _free_gpu() -> None:
    """Release the cached GPU blocks of a model just dropped, before the other side's model loads."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def load_answer_file(path: str | Path, items: list[Item]) -> dict[str, str]:
    """{item id: answer} from a file of rows with `id` and `answer`; every item must be answered."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"answer file not found: {path}")
    rows: list[Any]
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        else:
            text = path.read_text(encoding="utf-8")
            rows = json.loads(text) if text.lstrip().startswith("[") else [
                json.loads(line) for line in text.split("\n") if line.strip()]
    except (OSError, ValueError) as exc:
        raise UsageError(f"answer file {path} is unreadable ({type(exc).__name__})") from None
    answers: dict[str, str] = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise UsageError(f"answer file {path} row {n}: field 'id' is missing or not text")
        if not isinstance(row.get("answer"), str):
            raise UsageError(f"answer file {path} row {n}: field 'answer' is missing or not text")
        answers[row["id"]] = row["answer"]
    missing = [item.id for item in items if item.id not in answers]
    if missing:
        raise UsageError(f"answer file {path} lacks {len(missing)} of {len(items)} items (first: {missing[0]})")
    return {item.id: answers[item.id] for item in items}


def write_answer_file(path: str | Path, items: list[Item], answers: dict[str, str], source: str,
                      adapter: str | None) -> Path:
    """The answers as a reusable answer file (parquet): id, test set, question, answer, and where they came from."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": it.id, "test_set": it.test_set, "question": it.question, "answer": answers[it.id],
             "model": source, "adapter": adapter} for it in items]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path
