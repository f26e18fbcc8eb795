"""Digest rules, pure: quiet hours, the per-shift limit, stale moments, and the text.

A digest is plain text, one line per moment (time, ticket, the prompt on one line), then
why it came and the opt-out link. It carries no customer text beyond the short quote
the prompt itself already shows, and is the same on every channel.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from empathy_firewall.channels.base import Moment
from empathy_firewall.channels.settings import DigestSettings

__all__ = [
    "FEATURE_NAMES",
    "LINE_LIMIT",
    "digest_id",
    "in_quiet_hours",
    "one_line",
    "render",
    "shift_allows",
]

#: the longest a moment's line gets (characters), ellipsis included
LINE_LIMIT = 300
#: how each feature is named in the "why" paragraph
FEATURE_NAMES = {"breaks": "break prompts", "recognition": "recognition of good moments"}
_SPACE = re.compile(r"\s+")


def one_line(body: str, limit: int = LINE_LIMIT) -> str:
    """``body`` on one line: whitespace collapsed, cut at a word before ``limit``."""
    text = _SPACE.sub(" ", body).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def in_quiet_hours(now: datetime, settings: DigestSettings) -> bool:
    """True when ``now`` falls in the configured quiet hours (local time, may wrap)."""
    quiet = settings.quiet
    if quiet is None:
        return False
    start, end = quiet
    local = now.astimezone(ZoneInfo(settings.timezone)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def shift_allows(sent: Sequence[datetime], now: datetime, settings: DigestSettings) -> bool:
    """True when fewer than ``max_per_shift`` digests went out in the last shift."""
    since = now - timedelta(hours=settings.shift_hours)
    return sum(1 for at in sent if since < at <= now) < settings.max_per_shift


def digest_id(connector: str, account: str, agent_id: str, prompt_ids: Sequence[int]) -> str:
    """A stable id for the digest of these prompts (the same on a retry)."""
    raw = "\x00".join((connector, account, agent_id, ",".join(map(str, sorted(prompt_ids)))))
    return "efd-" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def _why(moments: Sequence[Moment]) -> str:
    features = sorted({m.feature for m in moments})
    named = " and ".join(FEATURE_NAMES.get(f, f) for f in features)
    rules = sorted({r for m in moments for r in m.rules})
    return (
        f"Why you get this: you opted in to {named} (rules: {', '.join(rules)}). "
        "Only you receive it: it is not on the tickets and not in any manager report."
    )


def render(
    moments: Sequence[Moment],
    *,
    name: str | None,
    opt_out_url: str,
    timezone: str,
) -> tuple[str, str]:
    """The subject and plain text of a digest of ``moments`` (oldest first)."""
    zone = ZoneInfo(timezone)
    count = len(moments)
    noun = "moment" if count == 1 else "moments"
    subject = f"{count} {noun} for you from the empathy firewall"
    lines = [f"Hello {name}," if name else "Hello,", ""]
    lines.append(f"{count} {noun} from your last shift, for you alone:")
    lines.append("")
    for m in moments:
        when = m.at.astimezone(zone).strftime("%H:%M")
        where = f"ticket {m.ticket_id}"
        lines.append(f"- {when} · {where}: {one_line(m.body)}")
    lines += ["", _why(moments), "", f"Stop these messages (one click, no login): {opt_out_url}"]
    return subject, "\n".join(lines) + "\n"
