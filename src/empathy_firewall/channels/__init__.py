"""Private delivery to agents: the prompt outbox, digests, and channel plugins.

``agent_prompt`` actions never reach a ticket. Sync and the webhook workers queue them in
the state store (:mod:`.queue`, :mod:`.outbox`); ``empathy-firewall digest send`` batches
each agent's moments into one digest (:mod:`.digest`) and delivers it once through the
first configured channel that knows the agent (:mod:`.sender`): e-mail over SMTP
(:mod:`.email`), a Slack DM (:mod:`.slack`), or a plugin registered in the
``empathy_firewall.channels`` entry-point group (:mod:`.registry`). Every digest carries a
signed, expiring one-click opt-out link (:mod:`.links`) that ``serve`` answers
(:mod:`.web`). See docs/agents.md and docs/agent-channels.md.
"""

from empathy_firewall.channels.base import Channel, Digest, Moment, NotSent, Recipient

__all__ = ["Channel", "Digest", "Moment", "NotSent", "Recipient"]
