"""JSON Lines: one object per line, read line by line so that a bad line costs exactly that row."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from cmedins.ingest.errors import BAD_ENCODING, BAD_JSON, cannot_read
from cmedins.ingest.normalize import normalize_value
from cmedins.ingest.raw import RawBatch, has_surrogate, reject_row, to_json

# A JSON escape of a surrogate half (\ud83d): paired halves make one character, a lone one cannot be encoded.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def read_jsonl(path: Path, batch_rows: int) -> Iterator[RawBatch]:
    """Stream a JSON Lines file: one object per line; the row number is the line number; blank lines are skipped."""
    source = path.name
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise cannot_read(str(path), exc.strerror or "cannot open") from None
    with fh:
        objs: list[dict] = []
        nums: list[int] = []
        rejects: list[dict] = []
        repaired: Counter = Counter()
        for line_no, line in enumerate(fh, start=1):
            if line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]  # a byte-order mark starts the file, or each part of files joined with cat
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                payload = to_json({"line": line.decode("utf-8", "backslashreplace").rstrip("\r\n")})
                what = "bytes are not valid UTF-8"
                rejects.append(reject_row(source, line_no, BAD_ENCODING, _undecodable_key(line), what, payload))
            else:
                try:
                    obj = json.loads(text)
                except ValueError:
                    obj = None
                if isinstance(obj, dict) and _SURROGATE_ESCAPE.search(text):
                    obj = normalize_value(obj, repaired)  # lone surrogates -> U+FFFD, counted, before Arrow sees them
                if isinstance(obj, dict):
                    objs.append(obj)
                    nums.append(line_no)
                else:
                    payload = to_json({"line": text.rstrip("\r\n")})
                    rejects.append(reject_row(source, line_no, BAD_JSON, None, "not a JSON object", payload))
            if len(objs) + len(rejects) >= batch_rows:
                yield _jsonl_batch(source, objs, nums, rejects, repaired)
                objs, nums, rejects, repaired = [], [], [], Counter()
        yield _jsonl_batch(source, objs, nums, rejects, repaired)


def _undecodable_key(line: bytes) -> str | None:
    """The top-level key whose value holds the bad bytes, when the line is otherwise valid JSON."""
    try:
        obj = json.loads(line.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    return next((k for k, v in obj.items() if has_surrogate(json.dumps(v, ensure_ascii=False))), None)


def _jsonl_batch(source: str, objs: list[dict], nums: list[int], rejects: list[dict], repaired: Counter) -> RawBatch:
    keys = dict.fromkeys(k for obj in objs for k in obj)
    columns = {k: [obj.get(k) for obj in objs] for k in keys}
    return RawBatch(
        source=source,
        rows=nums,
        columns=columns,
        payload=lambda i: to_json(objs[i]),
        rejects=rejects,
        normalised=dict(repaired),
        fixed_columns=False,
    )
