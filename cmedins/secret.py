"""The build secret that keys every HMAC (record hashes, patient keys, pseudonyms, date shifts).

It comes from the environment so that it is never written to a recipe, a manifest or an output. Without it the
build uses a public development key and says so in the report: fine for the synthetic corpus, never for real data.
"""

from __future__ import annotations

import hashlib
import hmac
import os

ENV_VAR = "CMEDINS_SECRET"
DEV_SECRET = b"cmedins-public-development-key-not-secret"


def build_secret() -> bytes:
    value = os.environ.get(ENV_VAR, "")
    return value.encode("utf-8") if value else DEV_SECRET


def is_dev_secret(secret: bytes) -> bool:
    return secret == DEV_SECRET


def fingerprint(secret: bytes) -> str:
    """A short one-way fingerprint: goes into cache keys so a new secret rebuilds, without revealing it."""
    return hashlib.sha256(b"fingerprint:" + secret).hexdigest()[:16]


def keyed_hash(secret: bytes, *parts: str, length: int = 32) -> str:
    """HMAC-SHA256 over the parts joined by a unit separator, as hex."""
    msg = "\x1f".join(parts).encode("utf-8")
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:length]
