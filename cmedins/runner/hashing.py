"""Content hashes for cache keys: files, configs and the code version."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import cmedins

_PACKAGE_DIR = Path(cmedins.__file__).resolve().parent


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def json_sha256(value: Any) -> str:
    """Hash of a JSON-able value with sorted keys, so that dict order never changes a key."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@cache
def code_version() -> str:
    """Version + a hash of every source and data file of the package (contracts and recipes included).

    Any code change invalidates every cached stage: coarse, but it can never serve a stale result.
    """
    h = hashlib.sha256(cmedins.__version__.encode())
    files = [p for p in sorted(_PACKAGE_DIR.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    for p in files:
        h.update(str(p.relative_to(_PACKAGE_DIR.parent)).encode())
        h.update(p.read_bytes())
    return f"{cmedins.__version__}+{h.hexdigest()[:12]}"
