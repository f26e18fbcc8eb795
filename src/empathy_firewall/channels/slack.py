"""The Slack channel: a direct message from the firewall's bot, through the Web API.

``conversations.open`` (``users`` = the agent's Slack user id) gives the DM channel;
``chat.postMessage`` posts the digest with message ``metadata``
(``event_type: empathy_firewall_digest``, ``event_payload.digest_id``). After a crash
between sending and recording, :meth:`SlackChannel.find` reads ``conversations.history``
of that DM with ``include_all_metadata`` and finds the digest by its id, so it is not
sent twice (:attr:`SlackChannel.can_detect`).

Slack answers HTTP 200 with ``{"ok": false, "error": "..."}`` for most failures and HTTP
429 with ``Retry-After`` (seconds) when rate limited; both are handled here. The bot
needs the scopes ``im:write``, ``chat:write`` and ``im:history``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests

from empathy_firewall.channels.base import Channel, Digest, NotSent, Recipient
from empathy_firewall.channels.settings import ChannelSettings, SlackSettings
from empathy_firewall.errors import ConfigError, RetryableError

__all__ = ["EVENT_TYPE", "SlackChannel"]

#: the message metadata event type digests carry
EVENT_TYPE = "empathy_firewall_digest"
#: errors that mean the token or app is wrong: nothing works until an admin fixes it
_AUTH = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "ekm_access_denied",
    }
)
#: errors about this one agent (unknown or deactivated user, DMs closed)
_AGENT = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "users_not_found",
        "cannot_dm_bot",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "messages_tab_disabled",
        "restricted_action",
    }
)
_ATTEMPTS = 3


class _Uncertain(Exception):
    pass


class SlackChannel(Channel):
    """Sends digests as Slack DMs (``[channels.slack]``)."""

    name = "slack"
    can_detect = True

    def __init__(
        self,
        settings: SlackSettings,
        token: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._token = token
        self._session = session or requests.Session()
        self._sleep = sleep
        self._channels: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: ChannelSettings, env: Mapping[str, str]) -> SlackChannel:
        """Build from ``[channels.slack]``; the bot token comes from ``token_env``."""
        table = settings.slack
        if table is None:
            raise ConfigError("channels.slack: add a [channels.slack] table to send Slack DMs")
        token = env.get(table.token_env, "")
        if not token:
            raise ConfigError(
                f"channels.slack: the bot token variable {table.token_env} is empty "
                "(channels.slack.token_env)"
            )
        return cls(table, token)

    def __repr__(self) -> str:
        return f"SlackChannel({self.settings.base_url!r})"

    def address(self, recipient: Recipient) -> str | None:
        """The agent's Slack user id (from ``[channels.agents]``)."""
        return recipient.slack or None

    # -- the Web API -------------------------------------------------------------------

    def _call(
        self,
        method: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Web API call, waiting out 429s; the decoded body when ``ok`` is true."""
        url = f"{self.settings.base_url.rstrip('/')}/{method}"
        headers = {"Authorization": f"Bearer {self._token}"}
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                if json is not None:
                    response = self._session.post(
                        url, json=json, headers=headers, timeout=self.settings.timeout_seconds
                    )
                else:
                    response = self._session.get(
                        url, params=params, headers=headers, timeout=self.settings.timeout_seconds
                    )
            except requests.RequestException as exc:
                raise _Uncertain(f"Slack {method}: {type(exc).__name__}") from None
            if response.status_code == 429:
                wait = _retry_after(response.headers.get("Retry-After"))
                if attempt == _ATTEMPTS or wait > self.settings.max_retry_after_seconds:
                    raise NotSent(
                        f"Slack {method} is rate limited (retry after {wait:.0f}s)", retry=True
                    )
                self._sleep(wait)
                continue
            if response.status_code >= 500:
                raise _Uncertain(f"Slack {method}: HTTP {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                raise _Uncertain(f"Slack {method}: HTTP {response.status_code}, not JSON") from None
            if not isinstance(body, dict):
                raise _Uncertain(f"Slack {method}: unexpected answer")
            if body.get("ok") is True:
                return body
            error = str(body.get("error") or f"HTTP {response.status_code}")
            if error == "ratelimited":
                wait = _retry_after(response.headers.get("Retry-After"))
                if attempt < _ATTEMPTS and wait <= self.settings.max_retry_after_seconds:
                    self._sleep(wait)
                    continue
                raise NotSent(f"Slack {method} is rate limited", retry=True)
            if error in _AUTH:
                detail = f" (needs {body['needed']})" if body.get("needed") else ""
                raise NotSent(f"Slack refused the bot token: {error}{detail}", retry=True)
            if error in _AGENT:
                raise NotSent(f"Slack cannot reach this agent: {error}", retry=False)
            raise NotSent(f"Slack {method} failed: {error}", retry=True)
        raise NotSent(f"Slack {method} is rate limited", retry=True)  # pragma: no cover

    def _dm(self, user: str) -> str:
        if user not in self._channels:
            try:
                body = self._call("conversations.open", json={"users": user})
            except _Uncertain as exc:  # opening a DM sends nothing: safe to retry later
                raise NotSent(str(exc), retry=True) from None
            channel = body.get("channel")
            if not isinstance(channel, dict) or not isinstance(channel.get("id"), str):
                raise NotSent("Slack conversations.open gave no channel id", retry=True)
            self._channels[user] = channel["id"]
        return self._channels[user]

    def send(self, digest: Digest, address: str) -> str:
        """Post the digest to the agent's DM; the message ``ts`` is the reference."""
        channel = self._dm(address)
        payload = {
            "channel": channel,
            "text": digest.text,
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {
                "event_type": EVENT_TYPE,
                "event_payload": {"digest_id": digest.digest_id},
            },
        }
        try:
            body = self._call("chat.postMessage", json=payload)
        except _Uncertain as exc:
            raise RetryableError(
                f"{exc}; whether the digest arrived is checked by the next run"
            ) from None
        return f"{channel}/{body.get('ts', '')}"

    def find(self, digest: Digest, address: str, since: datetime) -> str | None:
        """Look for the digest's metadata in the DM's history since ``since``."""
        channel = self._dm(address)
        cursor: str | None = None
        for _ in range(20):  # 20 pages of 200 messages: far more than one claim window
            params = {
                "channel": channel,
                "oldest": f"{since.timestamp() - 60:.6f}",
                "include_all_metadata": "true",
                "limit": "200",
            }
            if cursor:
                params["cursor"] = cursor
            try:
                body = self._call("conversations.history", params=params)
            except _Uncertain as exc:
                raise RetryableError(f"{exc}; the unfinished digest is checked again") from None
            for message in body.get("messages") or ():
                meta = message.get("metadata") if isinstance(message, dict) else None
                if (
                    isinstance(meta, dict)
                    and meta.get("event_type") == EVENT_TYPE
                    and isinstance(meta.get("event_payload"), dict)
                    and meta["event_payload"].get("digest_id") == digest.digest_id
                ):
                    return f"{channel}/{message.get('ts', '')}"
            cursor = (body.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (Slack sends whole seconds); 1 if absent."""
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
