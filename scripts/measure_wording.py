"""Count, on the sample helpdesk, what the default pack writes that an agent would not trust.

Run from the repository root::

    python scripts/measure_wording.py [path/to/tickets.jsonl]

Every ticket is replayed turn by turn: for each public customer message, the ticket as it
stood then (later comments and events removed, status open) is evaluated 5 hours after that
message, through one Pipeline (so customer memory and rule gates build up as they would).
The script prints counts of: high-frustration plans with no note; delay drafts not in the
customer's language, promising a fresh reply target after a breach, or asserting a cause
("more requests than usual"); distinct draft texts; baton lines cut mid-sentence or filler;
credits on billing errors; recognition on sarcasm / "thanks, but" / before any agent reply;
routing advice naming agents on the ticket; "To switch off" repeated within one note.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from empathy_firewall import Engine, FirewallSettings, MemoryHistory, Pipeline, Ticket
from empathy_firewall.actions import AgentPrompt, DraftReply, InternalNote, RoutingSuggestion
from empathy_firewall.connectors.notes import note_text
from empathy_firewall.engine.languages import detect_language, normalize_language
from empathy_firewall.models import Role, TicketStatus

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample_helpdesk.jsonl"
_PROMISE = re.compile(
    r"you will hear from|Te responderemos|Sie hören|Vous aurez de nos|Você terá|Avrà nostre", re.I
)
_CAUSE = re.compile(r"more requests than usual", re.I)
_BILLING = re.compile(r"charged twice|double charge|wrong(?:ly)? charged|refund|renewal", re.I)
_SARCASM = re.compile(r"great job, really|thanks for the quick reply, but|thanks,? but", re.I)


def _cut(line: str, text: str) -> bool:
    """A quoted line the original text goes on after mid-sentence (an email, an amount)."""
    line = line.rstrip("…")
    at = text.find(line)
    if at < 0:
        return False
    rest = text[at + len(line) : at + len(line) + 2]
    return bool(rest) and (not rest[0].isspace() or rest[1:2].islower() or rest[1:2].isdigit())


_FILLER = re.compile(r"^(?:sorry,? but who are you|ok(?:ay)?|hi|hello|thanks?)\b", re.I)


_ORDER = (
    "tickets with high frustration",
    "  ...never given a note while high (tag only)",
    "delay drafts",
    "  ...not in the customer's language",
    "  ...fresh full promise after a breach",
    "  ...unmeasured cause asserted",
    "batons",
    "  ...batons with a line cut mid-sentence",
    "  ...baton lines that are filler",
    "recovery notes on billing problems",
    "  ...a generic credit, no refund of the charge",
    "recognition prompts",
    "  ...on sarcasm or 'thanks, but'",
    "  ...before any agent replied",
    "routing suggestions",
    "  ...naming the strained agent on the ticket",
    "notes",
    "  ...with the switch-off hint repeated",
)


def _replays(ticket: Ticket) -> list[tuple[Ticket, datetime]]:
    out: list[tuple[Ticket, datetime]] = []
    for index, comment in enumerate(ticket.comments):
        if comment.author_role is not Role.CUSTOMER or not comment.public:
            continue
        at = comment.created_at
        kept = ticket.comments[: index + 1]
        events = tuple(e for e in ticket.events if e.at <= at)
        status = TicketStatus.OPEN
        shown = ticket.model_copy(
            update={"comments": kept, "events": events, "status": status, "updated_at": at}
        )
        out.append((shown, at + timedelta(hours=5)))
    return out


def main(path: Path) -> None:
    settings = FirewallSettings.model_validate({"customer_fields": {"tier_field": "plan"}})
    pipeline = Pipeline(Engine(), settings, MemoryHistory(max_tickets=20))
    tickets = [
        Ticket.model_validate_json(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    counts: Counter[str] = Counter()
    drafts: set[str] = set()
    high: set[str] = set()
    noted: set[str] = set()
    runs = sorted((r for t in tickets for r in _replays(t)), key=lambda r: r[1])
    for ticket, now in runs:
        processed = pipeline.process(ticket, now)
        plan, signals = processed.plan, processed.signals
        note = next((p for p in plan.actions if isinstance(p.action, InternalNote)), None)
        if signals.emotion.frustration_level == "high":
            high.add(ticket.key)
        if note is not None and signals.emotion.frustration_level == "high":
            noted.add(ticket.key)
        lang = normalize_language(ticket.requester.language)
        for planned in plan.actions:
            action = planned.action
            if isinstance(action, DraftReply) and planned.because[0].rule_id.startswith("delay"):
                counts["delay drafts"] += 1
                drafts.add(action.body)
                written = detect_language([action.body])
                if lang and written != lang:
                    counts["  ...not in the customer's language"] += 1
                if signals.friction.breached and _PROMISE.search(action.body):
                    counts["  ...fresh full promise after a breach"] += 1
                if _CAUSE.search(action.body):
                    counts["  ...unmeasured cause asserted"] += 1
            if isinstance(action, InternalNote):
                counts["notes"] += 1
                if action.body.count("To switch off") > 1:
                    counts["  ...with the switch-off hint repeated"] += 1
                if "Handoff baton" in action.body:
                    counts["batons"] += 1
                    lines = re.findall(r'^- "(.*)"$', action.body, re.M)
                    texts = " ".join(c.text for c in ticket.comments)
                    cut = [s for s in lines if _cut(s, texts)]
                    filler = [s for s in lines if _FILLER.match(s)]
                    counts["  ...batons with a line cut mid-sentence"] += bool(cut)
                    counts["  ...baton lines that are filler"] += len(filler)
                if "Service recovery" in action.body and any(
                    _BILLING.search(c.text) for c in ticket.comments
                ):
                    counts["recovery notes on billing problems"] += 1
                    if "credit of up to" in action.body and "refund the wrong" not in action.body:
                        counts["  ...a generic credit, no refund of the charge"] += 1
            if isinstance(action, RoutingSuggestion):
                counts["routing suggestions"] += 1
                text = note_text(planned) or ""
                assignee = ticket.assignee.id if ticket.assignee else "-"
                if assignee in text:
                    counts["  ...naming the strained agent on the ticket"] += 1
            if isinstance(action, AgentPrompt) and "thank" in action.body.lower():
                counts["recognition prompts"] += 1
                latest = [c for c in ticket.comments if c.author_role is Role.CUSTOMER][-1]
                helped = any(c.author_role is Role.AGENT and c.public for c in ticket.comments)
                if _SARCASM.search(latest.text):
                    counts["  ...on sarcasm or 'thanks, but'"] += 1
                if not helped:
                    counts["  ...before any agent replied"] += 1
    counts["tickets with high frustration"] = len(high)
    counts["  ...never given a note while high (tag only)"] = len(high - noted)
    print(f"{len(runs)} evaluations of {len(tickets)} tickets")
    for name in _ORDER:
        print(f"{name}: {counts[name]}")
    print(f"distinct delay draft texts: {len(drafts)}")
    _routing(tickets, settings)


def _routing(tickets: list[Ticket], settings: FirewallSettings) -> None:
    """Routing advice in one pass over the file at the latest activity (as `simulate`)."""
    pipeline = Pipeline(Engine(), settings, MemoryHistory(max_tickets=20))
    now = max(t.last_activity_at for t in tickets)
    total = naming = ids = 0
    for processed in pipeline.run(tickets, now):
        for planned in processed.plan.actions:
            if isinstance(planned.action, RoutingSuggestion):
                total += 1
                text = note_text(planned) or ""
                assignee = processed.ticket.assignee
                if assignee is not None and (
                    assignee.id in text or (assignee.name or "\0") in text
                ):
                    naming += 1
                if re.search(r"agt-\d+", text):
                    ids += 1
    print(f"simulate pass: routing suggestions: {total}")
    print(f"  ...naming the strained assignee on the ticket: {naming}")
    print(f"  ...showing raw agent ids: {ids}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE)
