"""A query vector handed from the NLU to the search, so a new message is encoded once.

The Rasa server's sentence featurizer encodes each message with the search's own model and text
preparation; it puts the vector in the message's parse data under ``KEY`` (the tracker store drops it
before anything is written). The action server reads it from the tracker's latest message and offers
it to the search's embedder, whose cache then answers the search's own encoding of that text.

A handed vector is used only when it is signed with the key the two servers share (derived from the
action secret: a caller who can write parse data through Rasa's HTTP API cannot forge one), names the
embedder's model and has that model's size, finite values and unit length; anything else is ignored
and the search encodes the text itself.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any, Dict, Optional, Tuple

import numpy as np

KEY = "motcua_query_vector"
MAX_TEXT = 4000  # longer than any message the channels let through


def key_for(secret: str) -> bytes:
    """The signing key, derived from the servers' shared secret (not the secret itself)."""
    return hmac.new(secret.encode("utf-8"), b"motcua query vector handover", hashlib.sha256).digest()


def key_of(settings: Any) -> bytes:
    """The signing key of the servers ``settings`` describe (their shared action secret)."""
    from core.privacy import action_secret

    return key_for(action_secret(settings))


def _mac(key: bytes, model: str, text: str, encoded: str) -> str:
    message = "\x1f".join((model, text, encoded)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pack(model: str, text: str, vector: np.ndarray, key: bytes) -> Dict[str, str]:
    """The JSON-safe form: the model's identity, the text as the search prepares it, the vector (base64),
    and their signature with ``key``."""
    encoded = base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return {"model": model, "text": text, "vector": encoded, "mac": _mac(key, model, text, encoded)}


def unpack(value: Any, model: str, dimension: int, key: bytes) -> Optional[Tuple[str, np.ndarray]]:
    """(text, vector) when ``value`` is a well-formed handover for ``model`` signed with ``key``, else None."""
    if not isinstance(value, dict) or value.get("model") != model:
        return None
    text, encoded, mac = value.get("text"), value.get("vector"), value.get("mac")
    if not isinstance(text, str) or not isinstance(encoded, str) or not text or len(text) > MAX_TEXT:
        return None
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key, model, text, encoded)):
        return None
    if len(encoded) != 4 * ((4 * dimension + 2) // 3):
        return None
    try:
        vector = np.frombuffer(base64.b64decode(encoded, validate=True), dtype="<f4").astype(np.float32)
    except (binascii.Error, ValueError):
        return None
    if vector.shape != (dimension,) or not np.all(np.isfinite(vector)) or abs(float(vector @ vector) - 1.0) > 1e-3:
        return None
    return text, vector
