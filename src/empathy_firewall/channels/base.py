"""The channel contract: how a digest reaches one agent, and how a channel says it did.

A :class:`Channel` is a plugin (entry-point group ``empathy_firewall.channels``, like
connectors). It is given a finished :class:`Digest` and the agent's address on that
channel, and returns the channel's own reference to the message. It raises
:class:`NotSent` when it knows the message did not go out (a refused login, an unknown
user); any other exception leaves the digest claimed and *uncertain*, and the next run
asks :meth:`Channel.find` whether it arrived before sending it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from empathy_firewall.channels.settings import ChannelSettings

__all__ = ["Channel", "Digest", "Moment", "NotSent", "Recipient"]


@dataclass(frozen=True, slots=True)
class Moment:
    """One queued prompt: a line of a digest."""

    prompt_id: int
    ticket_id: str
    ticket_url: str | None
    at: datetime
    feature: str
    rules: tuple[str, ...]
    body: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a digest is for and where they can be reached."""

    connector: str
    account: str
    agent_id: str
    name: str | None = None
    email: str | None = None
    slack: str | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """A rendered digest: the same text on every channel, plus its opt-out link."""

    digest_id: str
    recipient: Recipient
    moments: tuple[Moment, ...]
    subject: str
    text: str
    opt_out_url: str


class NotSent(Exception):
    """The channel knows the message was not delivered; ``retry`` says if later may work."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class Channel(ABC):
    """A private delivery route to agents (see the module docstring)."""

    #: the name used in ``[channels] order`` and the entry point
    name: ClassVar[str]
    #: True when :meth:`find` can tell whether an earlier attempt arrived
    can_detect: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: ChannelSettings, env: Mapping[str, str]) -> Channel:
        """Build the channel from ``[channels]``; :class:`ConfigError` if it is unusable."""

    @abstractmethod
    def address(self, recipient: Recipient) -> str | None:
        """The recipient's address on this channel, or None when it has none."""

    @abstractmethod
    def send(self, digest: Digest, address: str) -> str:
        """Deliver ``digest``; return the channel's reference (Message-ID, Slack ts)."""

    def find(self, digest: Digest, address: str, since: datetime) -> str | None:
        """The reference of ``digest`` if an earlier attempt since ``since`` delivered it.

        Only called when :attr:`can_detect` is true; the default says "not found".
        """
        return None
