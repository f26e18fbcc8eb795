"""The digest run: for each agent with queued moments, at most one digest, exactly once.

For every agent (sorted, so runs are reproducible) the run

1. takes a per-agent lease (two replicas never send to one agent at once);
2. finishes an unfinished digest first: a channel that can tell (Slack) is asked whether
   it arrived and it is only marked; otherwise (e-mail) it is sent again with the same
   Message-ID;
3. drops moments older than ``max_age_hours``; waits in quiet hours and when the agent
   had ``max_per_shift`` digests in the last shift;
4. takes the oldest ``max_moments`` moments, picks the first channel in ``order`` that
   has an address for the agent, claims, sends, marks.

Nothing agent-private is logged: log lines carry counts only. ``dry_run`` claims and
sends nothing and returns the digests that would go out.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from empathy_firewall.channels import outbox
from empathy_firewall.channels.base import Channel, Digest, Moment, NotSent, Recipient
from empathy_firewall.channels.digest import digest_id, in_quiet_hours, render, shift_allows
from empathy_firewall.channels.links import OptOutToken, opt_out_url
from empathy_firewall.channels.outbox import AgentRef
from empathy_firewall.channels.registry import load
from empathy_firewall.channels.settings import ChannelSettings
from empathy_firewall.errors import ConfigError, LockHeldError, RetryableError
from empathy_firewall.optins import FEATURES
from empathy_firewall.state.lock import acquire_lock
from empathy_firewall.state.store import StateStore

__all__ = ["DigestOutcome", "DigestRun", "build_channels", "link_key"]

log = logging.getLogger("empathy_firewall.channels")

#: the shortest link key accepted (bytes)
MIN_KEY_BYTES = 16


def link_key(settings: ChannelSettings, env: Mapping[str, str] | None = None) -> bytes:
    """The opt-out link key from ``secret_env``; :class:`ConfigError` if unset or short."""
    source = os.environ if env is None else env
    value = source.get(settings.secret_env, "")
    if len(value.encode()) < MIN_KEY_BYTES:
        raise ConfigError(
            f"channels.secret_env: set {settings.secret_env} to a random secret of at least "
            f"{MIN_KEY_BYTES} characters (it signs the agents' opt-out links)"
        )
    return value.encode()


def build_channels(
    settings: ChannelSettings, env: Mapping[str, str] | None = None
) -> dict[str, Channel]:
    """The configured channels by name, in ``order`` (plugins through the entry points)."""
    source = os.environ if env is None else env
    return {name: load(name).from_settings(settings, source) for name in settings.configured()}


@dataclass
class DigestOutcome:
    """What the run did for one agent (kept out of logs: it tells who opted in)."""

    agent: AgentRef
    status: str
    """``sent``, ``resent``, ``found``, ``quiet``, ``limit``, ``no-address``, ``not-sent``,
    ``uncertain``, ``busy``, ``nothing`` or ``would-send`` (dry run)."""
    channel: str | None = None
    moments: int = 0
    detail: str = ""
    digest: Digest | None = field(default=None, repr=False)
    address: str | None = field(default=None, repr=False)


class DigestRun:
    """One ``digest send`` (see the module docstring)."""

    def __init__(
        self,
        store: StateStore,
        settings: ChannelSettings,
        channels: Mapping[str, Channel],
        key: bytes,
        *,
        now: datetime | None = None,
        dry_run: bool = False,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        if settings.public_url is None:
            raise ConfigError(
                "channels.public_url: set the address `serve` is reachable at; every digest "
                "carries an opt-out link there"
            )
        self.store = store
        self.settings = settings
        self.channels = dict(channels)
        self.key = key
        self.now = now or datetime.now(UTC)
        self.dry_run = dry_run
        self.lease = lease

    def run(self) -> list[DigestOutcome]:
        """Process every agent with work; return one outcome per agent."""
        outcomes = [self._agent(agent) for agent in outbox.agents_with_work(self.store)]
        tally = Counter(o.status for o in outcomes)
        log.info(
            "digest run: %s",
            " ".join(f"{k}={v}" for k, v in sorted(tally.items())) or "nothing queued",
        )
        return outcomes

    # -- one agent ---------------------------------------------------------------------

    def _agent(self, agent: AgentRef) -> DigestOutcome:
        if self.dry_run:
            return self._deliver(agent)
        name = f"digest:{agent.connector}:{agent.account}:{agent.agent_id}"
        try:
            lease = acquire_lock(self.store, name, ttl=self.lease)
        except LockHeldError:
            return DigestOutcome(agent, "busy", detail="another process is sending to this agent")
        try:
            return self._deliver(agent)
        finally:
            lease.release()

    def recipient(self, agent: AgentRef) -> Recipient:
        """Where the agent is reached: ``[channels.agents]``, else the helpdesk's address."""
        conf = self.settings.agents.get(agent.agent_id)
        known_email, name = outbox.latest_contact(self.store, agent)
        return Recipient(
            agent.connector,
            agent.account,
            agent.agent_id,
            name=name,
            email=(conf.email if conf else None) or known_email,
            slack=conf.slack if conf else None,
        )

    def _digest(
        self, agent: AgentRef, recipient: Recipient, moments: Sequence[Moment], did: str
    ) -> Digest:
        token = OptOutToken(
            agent.connector,
            agent.account,
            agent.agent_id,
            FEATURES,
            self.now + timedelta(days=self.settings.link_days),
        )
        url = opt_out_url(self.settings.public_url or "", token, self.key)
        subject, text = render(
            moments, name=recipient.name, opt_out_url=url, timezone=self.settings.digest.timezone
        )
        return Digest(did, recipient, tuple(moments), subject, text, url)

    def _deliver(self, agent: AgentRef) -> DigestOutcome:
        digest_settings = self.settings.digest
        if in_quiet_hours(self.now, digest_settings):
            return DigestOutcome(agent, "quiet", detail="quiet hours")
        recipient = self.recipient(agent)
        left = outbox.unfinished(self.store, agent)
        if left is not None:
            return self._finish(agent, recipient, left)
        since = self.now - timedelta(hours=digest_settings.shift_hours)
        if not shift_allows(outbox.sent_times(self.store, agent, since), self.now, digest_settings):
            return DigestOutcome(agent, "limit", detail="max_per_shift reached")
        too_old = self.now - timedelta(hours=digest_settings.max_age_hours)
        if not self.dry_run:
            outbox.drop_stale(self.store, agent, too_old)
        moments = [m for m in outbox.queued(self.store, agent) if m.at >= too_old][
            : digest_settings.max_moments
        ]
        if not moments:
            return DigestOutcome(agent, "nothing")
        picked = self._pick(recipient)
        if picked is None:
            return DigestOutcome(
                agent,
                "no-address",
                moments=len(moments),
                detail="no configured channel has an address for this agent",
            )
        name, channel, address = picked
        did = digest_id(
            agent.connector, agent.account, agent.agent_id, [m.prompt_id for m in moments]
        )
        digest = self._digest(agent, recipient, moments, did)
        if self.dry_run:
            return DigestOutcome(
                agent, "would-send", name, len(moments), digest=digest, address=address
            )
        if not outbox.claim(self.store, agent, did, name, moments, self.now):
            return DigestOutcome(agent, "busy", detail="the moments were taken meanwhile")
        return self._send(agent, channel, name, digest, address, "sent")

    def _pick(self, recipient: Recipient) -> tuple[str, Channel, str] | None:
        for name in self.settings.order:
            channel = self.channels.get(name)
            address = channel.address(recipient) if channel is not None else None
            if channel is not None and address:
                return name, channel, address
        return None

    def _send(
        self,
        agent: AgentRef,
        channel: Channel,
        name: str,
        digest: Digest,
        address: str,
        status: str,
    ) -> DigestOutcome:
        try:
            reference = channel.send(digest, address)
        except NotSent as exc:
            outbox.release(self.store, digest.digest_id)
            return DigestOutcome(agent, "not-sent", name, len(digest.moments), exc.reason)
        except RetryableError as exc:
            return DigestOutcome(agent, "uncertain", name, len(digest.moments), str(exc))
        except Exception as exc:  # a plugin's bug: maybe sent; the next run checks or resends
            log.warning("channel %s failed unexpectedly (%s)", name, type(exc).__name__)
            return DigestOutcome(
                agent, "uncertain", name, len(digest.moments), f"unexpected {type(exc).__name__}"
            )
        outbox.mark_sent(self.store, digest.digest_id, reference, self.now)
        return DigestOutcome(
            agent, status, name, len(digest.moments), digest=digest, address=address
        )

    def _finish(
        self, agent: AgentRef, recipient: Recipient, left: outbox.Unfinished
    ) -> DigestOutcome:
        channel = self.channels.get(left.channel)
        address = channel.address(recipient) if channel is not None else None
        if channel is None or not address:
            return DigestOutcome(
                agent,
                "not-sent",
                left.channel,
                len(left.moments),
                f"an unfinished digest waits for channel {left.channel!r}, which is not "
                "configured (or has no address for this agent) any more",
            )
        digest = self._digest(agent, recipient, left.moments, left.digest_id)
        if self.dry_run:
            verb = "check, then send again if missing" if channel.can_detect else "send again"
            return DigestOutcome(
                agent,
                "would-send",
                left.channel,
                len(left.moments),
                detail=f"unfinished digest: {verb}",
                digest=digest,
                address=address,
            )
        if channel.can_detect:
            try:
                found = channel.find(digest, address, left.claimed_at)
            except (NotSent, RetryableError) as exc:
                return DigestOutcome(agent, "uncertain", left.channel, len(left.moments), str(exc))
            if found is not None:
                outbox.mark_sent(self.store, left.digest_id, found, self.now)
                return DigestOutcome(
                    agent,
                    "found",
                    left.channel,
                    len(left.moments),
                    "delivered before a crash; recorded now",
                )
        return self._send(agent, channel, left.channel, digest, address, "resent")
