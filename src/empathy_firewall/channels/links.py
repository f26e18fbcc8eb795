"""Signed, expiring opt-out links: no login, nothing guessable, nothing to store.

A token is ``<payload>.<signature>``: the payload is the URL-safe base64 of a small JSON
object (connector, account, agent id, features, expiry as a Unix time) and the signature
is HMAC-SHA256 over the payload with the key from ``[channels] secret_env``. Anyone
holding the link can opt that agent out (that is what one-click means, RFC 8058), and
nothing else: the token names exactly whom and what, and stops working at its expiry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from empathy_firewall.errors import InputError

__all__ = ["OptOutToken", "opt_out_url", "sign", "verify"]

#: the path `serve` answers opt-out links on
OPT_OUT_PATH = "/agents/opt-out"


@dataclass(frozen=True, slots=True)
class OptOutToken:
    """Whom a link opts out, of what, and until when it works."""

    connector: str
    account: str
    agent_id: str
    features: tuple[str, ...]
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(token: OptOutToken, key: bytes) -> str:
    """The link token for ``token`` under ``key``."""
    body = json.dumps(
        {
            "c": token.connector,
            "a": token.account,
            "g": token.agent_id,
            "f": list(token.features),
            "e": int(token.expires.timestamp()),
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    payload = _b64(body)
    mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(text: str, key: bytes, now: datetime) -> OptOutToken:
    """The token ``text`` stands for; :class:`InputError` if forged, damaged or expired."""
    payload, dot, signature = text.strip().partition(".")
    if not dot or not payload or not signature or len(text) > 2000:
        raise InputError("this opt-out link is incomplete; copy the whole link from the message")
    expected = hmac.new(key, payload.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(expected, given):
        raise InputError("this opt-out link is not valid (it was changed or is not ours)")
    try:
        data = json.loads(_unb64(payload))
        token = OptOutToken(
            connector=str(data["c"]),
            account=str(data["a"]),
            agent_id=str(data["g"]),
            features=tuple(str(f) for f in data["f"]),
            expires=datetime.fromtimestamp(int(data["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InputError("this opt-out link is not valid") from None
    if token.expires <= now:
        raise InputError(
            "this opt-out link has expired; use the link in a newer message, or ask your "
            "admin to run `empathy-firewall agents opt-out`"
        )
    return token


def opt_out_url(public_url: str, token: OptOutToken, key: bytes) -> str:
    """The full opt-out link under ``public_url`` (the address `serve` is reachable at)."""
    return f"{public_url.rstrip('/')}{OPT_OUT_PATH}?t={quote(sign(token, key), safe='.')}"


def expiry(now: datetime, days: float) -> datetime:
    """When a link made at ``now`` stops working."""
    return now + timedelta(days=days)
