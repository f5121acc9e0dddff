"""The gates wire protocol's signature (see README, "Parking gates: wire protocol").

    signature = hex(HMAC-SHA256(secret, METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA256(body))))

PATH is the full path with its query string, so the query (captured_at, frame id, queued) is
signed too. The Pi client builds the same string in deploy/pi/gate_client/protocol.py.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER_DEVICE = "X-Gate-Device"
HEADER_TIMESTAMP = "X-Gate-Timestamp"
HEADER_NONCE = "X-Gate-Nonce"
HEADER_SIGNATURE = "X-Gate-Signature"
HEADER_VERSION = "X-Gate-Version"


def string_to_sign(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, digest)).encode()


def sign(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(
    *, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes, given: str
) -> bool:
    if not given.isascii():
        return False
    expected = sign(
        secret=secret, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body
    )
    return hmac.compare_digest(expected, given.lower())
