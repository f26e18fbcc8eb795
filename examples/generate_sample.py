"""Generate the sample helpdesk export used by the README: ``examples/sample_helpdesk.jsonl``.

What it generates
-----------------
A realistic, entirely invented helpdesk for a generic company that runs an online shop, a
monthly subscription box and a small SaaS planner app. Every line of the output is the JSON
of one :class:`empathy_firewall.models.Ticket` (built with the models, written with
``model_dump_json(exclude_none=True)``), so the file always validates.

* 12 agents in five groups (sales, support, billing, technical, returns). About half have
  opted in to strain tracking, break prompts or recognition; backlogs range from light to
  overloaded (``open_tickets`` above ``capacity``). ``open_tickets`` is counted from the
  tickets generated (the open ones assigned to the agent), so it never disagrees with them.
  A few opted-in agents sit in the "hot seat": they answered many angry customers in the
  hours before ``AS_OF``, so their emotional load is high.
* Customers with loyalty tiers (bronze, silver, gold, platinum), lifetime value, order counts
  and a language. For some the tier lives only in custom ``fields`` (``{"plan": "gold"}``) to
  exercise the customer field mapping. About 15% of customers have 2-4 tickets over the past
  weeks: the earlier ones are solved or closed, so customer memory has a history.
* Conversations written for this project (no dataset was copied): neutral how-to questions,
  polite complaints, sarcasm, long waits against the SLA with "still no answer" follow-ups,
  tickets bouncing between groups where the customer has to explain again, angry customers
  who shout, threaten to cancel, escalate, go public or call a lawyer and ask for a human,
  reopened tickets, grateful customers and conversations that turn from negative to
  positive. Some customers write in Spanish, French, German or Portuguese, some use emoji.
* Events (created, customer_replied, agent_replied, reassigned, reopened, status_changed,
  sla_warning), an SLA per ticket (reply target and, while the customer waits, the breach
  instant) and metrics (reassignments, group hops, reopens, first reply minutes).

Determinism
-----------
All randomness comes from one ``random.Random(seed)``, and every time is relative to the
fixed instant :data:`AS_OF`, so the same seed and count give byte-identical output on any
machine. There is no network access and no clock reading.

Usage
-----
::

    python examples/generate_sample.py                      # default seed, 320 tickets
    python examples/generate_sample.py --seed 7 --count 10000 --out /tmp/big.jsonl

``generate(seed, count)`` returns the tickets (sorted by ``updated_at``) for use from Python.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from empathy_firewall.models import (
    Agent,
    AgentOptIns,
    Channel,
    Comment,
    Customer,
    EventType,
    FieldValue,
    Priority,
    Role,
    SlaInfo,
    SourceRef,
    Ticket,
    TicketEvent,
    TicketMetrics,
    TicketStatus,
)

__all__ = [
    "AGENTS",
    "AS_OF",
    "DEFAULT_COUNT",
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "generate",
    "main",
    "render_jsonl",
    "write_jsonl",
]

#: the fixed "now" of the sample: every time in the file is relative to it
AS_OF = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DEFAULT_SEED = 20261120
DEFAULT_COUNT = 320
DEFAULT_OUT = Path(__file__).resolve().parent / "sample_helpdesk.jsonl"
ACCOUNT = "sample"
GROUPS: tuple[str, ...] = ("sales", "support", "billing", "technical", "returns")
FIRST_TICKET_NUMBER = 40001

# --------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------

_ALL_IN = AgentOptIns(strain_tracking=True, break_prompts=True, recognition=True)
_STRAIN = AgentOptIns(strain_tracking=True, break_prompts=True)
_RECOGNITION = AgentOptIns(recognition=True)
_NONE = AgentOptIns()


def _agent(agent_id: str, name: str, groups: tuple[str, ...], opt: AgentOptIns, cap: int) -> Agent:
    return Agent(id=agent_id, name=name, groups=groups, opt_in=opt, capacity=cap)


#: the twelve agents; their ``open_tickets`` are counted from the tickets generated (see
#: :func:`_with_backlogs`), against ``capacity`` they go from light to overloaded
AGENTS: tuple[Agent, ...] = (
    _agent("agt-01", "Maya Okafor", ("support", "technical"), _ALL_IN, 25),
    _agent("agt-02", "Daniel Brandt", ("billing",), _STRAIN, 30),
    _agent("agt-03", "Lucía Fernández", ("support", "returns"), _ALL_IN, 25),
    _agent("agt-04", "Tom Reilly", ("sales",), _NONE, 25),
    _agent("agt-05", "Priya Raman", ("technical",), _RECOGNITION, 20),
    _agent("agt-06", "Jonas Weber", ("technical", "support"), _NONE, 25),
    _agent("agt-07", "Camille Laurent", ("billing", "support"), _ALL_IN, 30),
    _agent("agt-08", "Sam Whitaker", ("returns",), _NONE, 25),
    _agent("agt-09", "Ana Costa", ("returns", "billing"), _STRAIN, 25),
    _agent("agt-10", "Kwame Mensah", ("sales", "support"), _NONE, 20),
    _agent("agt-11", "Hannah Schulz", ("support",), _NONE, 30),
    _agent("agt-12", "Leo Martins", ("technical", "billing"), _NONE, 25),
)
#: opted-in agents who absorbed a run of angry customers just before AS_OF
HOT_SEAT: tuple[str, ...] = ("agt-01", "agt-02", "agt-07")


def _agents_in(group: str) -> list[Agent]:
    return [a for a in AGENTS if group in a.groups]


def _lower_first(text: str) -> str:
    """Lower-case the first letter so a sentence can follow "Hi Name, " (but keep "I")."""
    if text.startswith(("I ", "I'")):
        return text
    return text[:1].lower() + text[1:]


def _first_name(agent: Agent) -> str:
    return (agent.name or agent.id).split()[0]


# --------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------

_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        (
            "Olivia",
            "James",
            "Aisha",
            "Noah",
            "Emily",
            "Ravi",
            "Grace",
            "Liam",
            "Chloe",
            "Marcus",
            "Zoe",
            "Ethan",
            "Fatima",
            "Oscar",
            "Ruby",
            "Samuel",
            "Nadia",
            "Jack",
            "Mei",
            "Isaac",
            "Hannah",
            "Tariq",
            "Ella",
            "Connor",
            "Leah",
            "Yusuf",
            "Amelia",
        ),
        (
            "Smith",
            "Patel",
            "O'Brien",
            "Nguyen",
            "Johnson",
            "Khan",
            "Walker",
            "Okoye",
            "Taylor",
            "Murphy",
            "Chen",
            "Harris",
            "Ali",
            "Brooks",
            "Evans",
            "Lewis",
            "Adeyemi",
            "Campbell",
            "Wright",
            "Foster",
            "Kim",
            "Hughes",
            "Bennett",
            "Reyes",
            "Cooper",
        ),
    ),
    "es": (
        ("Carmen", "Javier", "Lucía", "Mateo", "Sofía", "Diego", "Valentina", "Pablo"),
        ("García", "Martínez", "López", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz"),
    ),
    "fr": (
        ("Camille", "Julien", "Manon", "Hugo", "Léa", "Antoine", "Chloé", "Mathis"),
        ("Martin", "Bernard", "Dubois", "Moreau", "Lefèvre", "Girard", "Roux", "Fontaine"),
    ),
    "de": (
        ("Lena", "Felix", "Marie", "Lukas", "Anna", "Jonas", "Sophie", "Paul"),
        ("Müller", "Schmidt", "Fischer", "Wagner", "Becker", "Hoffmann", "Keller", "Vogel"),
    ),
    "pt": (
        ("Beatriz", "João", "Mariana", "Rafael", "Inês", "Tiago", "Larissa", "Gabriel"),
        ("Silva", "Santos", "Oliveira", "Pereira", "Costa", "Rodrigues", "Almeida", "Souza"),
    ),
}

_ORGANIZATIONS: tuple[str, ...] = (
    "Brightside Bakery",
    "Harbor Dental Studio",
    "Pinecrest Events",
    "Lumen Architects",
    "Oak & Iron Fitness",
    "Clearwater Tutoring",
    "Blue Finch Florists",
    "Maple Street Clinic",
    "Nordlicht Design",
    "Café Aurora",
    "Atelier Rive Gauche",
    "Estúdio Caju",
)

_TIERS: tuple[tuple[str | None, float], ...] = (
    ("bronze", 0.40),
    ("silver", 0.28),
    ("gold", 0.18),
    ("platinum", 0.08),
    (None, 0.06),
)
_TIER_VALUE: dict[str | None, tuple[float, float, int, int]] = {
    "bronze": (15.0, 280.0, 1, 6),
    "silver": (280.0, 1200.0, 5, 18),
    "gold": (1200.0, 5200.0, 15, 45),
    "platinum": (5200.0, 26000.0, 40, 160),
    None: (0.0, 60.0, 0, 2),
}
_LANGUAGES: tuple[tuple[str, float], ...] = (
    ("en", 0.86),
    ("es", 0.04),
    ("fr", 0.04),
    ("de", 0.03),
    ("pt", 0.03),
)


_T = TypeVar("_T")


def _weighted(rng: random.Random, options: Sequence[tuple[_T, float]]) -> _T:
    """Pick one value from ``(value, weight)`` pairs."""
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


@dataclass(frozen=True)
class Persona:
    """A customer plus what the text generator needs to speak as them."""

    customer: Customer
    lang: str
    first: str
    tier: str | None


def _ascii(text: str) -> str:
    """Fold accents away and keep what an email handle may contain."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded if ch.isalnum() or ch == ".")


def _make_persona(rng: random.Random, number: int) -> Persona:
    """One customer: name, language, tier, value; sometimes the tier only in ``fields``."""
    lang: str = _weighted(rng, _LANGUAGES)
    firsts, lasts = _NAMES[lang]
    first, last = rng.choice(firsts), rng.choice(lasts)
    tier: str | None = _weighted(rng, _TIERS)
    lo, hi, orders_lo, orders_hi = _TIER_VALUE[tier]
    value = round(rng.uniform(lo, hi), 2)
    orders = rng.randint(orders_lo, orders_hi)
    organization = rng.choice(_ORGANIZATIONS) if rng.random() < 0.22 else None
    handle = _ascii(f"{first}.{last}".lower())
    email = f"{handle}.{number}@example.com"
    fields: dict[str, FieldValue] = {}
    loyalty: str | None = tier
    if tier is not None and rng.random() < 0.25:
        fields["plan"] = tier  # only in custom fields: exercises the field mapping
        loyalty = None
    if rng.random() < 0.3:
        fields["newsletter"] = rng.random() < 0.5
    customer = Customer(
        id=f"cus-{number:05d}",
        name=f"{first} {last}",
        email=email,
        organization=organization,
        loyalty_tier=loyalty,
        lifetime_value=value,
        order_count=orders,
        language=lang,
        fields=fields,
    )
    return Persona(customer=customer, lang=lang, first=first, tier=tier)


# --------------------------------------------------------------------------------------
# Topics: what the customer writes about (English)
# --------------------------------------------------------------------------------------


#: things the shop sells
PRODUCTS: tuple[str, ...] = (
    "desk lamp",
    "ceramic mug set",
    "wool blanket",
    "coffee grinder",
    "linen shirt",
    "running shoes",
    "bluetooth speaker",
    "monthly coffee box",
    "yoga mat",
    "backpack",
    "cast iron pan",
    "wall clock",
    "phone case",
    "rain jacket",
    "tea sampler",
)


@dataclass(frozen=True)
class Topic:
    """One kind of request, with English phrasings for each part of a conversation."""

    group: str
    subjects: tuple[str, ...]
    questions: tuple[str, ...]  # neutral how-to phrasing
    problems: tuple[str, ...]  # first-person statement of something going wrong
    tried: tuple[str, ...]  # what the customer already did
    asks: tuple[str, ...]  # agent asks for details
    fixes: tuple[str, ...]  # agent resolves
    line: str = "online_shop"  # product line: online_shop, subscription_box, planner_app
    products: tuple[str, ...] = PRODUCTS  # what ``{product}`` may be


TOPICS: tuple[Topic, ...] = (
    Topic(
        "billing",
        ("Charged twice", "Double charge on my card", "Duplicate payment for {order}"),
        (
            "Hi, quick question: where can I download a VAT invoice for order {order}?",
            "Hello, can I change the card you charge for my subscription? The old one expires "
            "next month.",
        ),
        (
            "I was charged twice for order {order}, {amount} each time. My bank statement "
            "shows both payments.",
            "My card was billed {amount} twice this month for the same subscription.",
        ),
        (
            "I checked with my bank and both charges are final, not pending.",
            "I already sent a screenshot of my statement and logged out and in to check the "
            "billing page.",
        ),
        (
            "Could you send me the last four digits of the card and the date of both charges?",
            "Can you confirm the email address the second payment was made from?",
        ),
        (
            "I've refunded the duplicate {amount}. It usually shows on your statement within "
            "3-5 working days.",
            "You were right, our payment provider captured the payment twice. The second "
            "charge is refunded and I've added a small credit to your account for the hassle.",
        ),
    ),
    Topic(
        "billing",
        ("Subscription renewed without warning", "Unexpected renewal", "Cancel renewal"),
        (
            "Hi, how do I switch my monthly box from monthly to every two months?",
            "Hello, when exactly does my annual plan renew? I can't find the date anywhere.",
        ),
        (
            "My subscription renewed yesterday for {amount} even though I turned off "
            "auto-renew last month.",
            "I got charged {amount} for another year of the planner app. I never got the "
            "reminder email you promised.",
        ),
        (
            "I double checked the settings page, auto-renew shows as off.",
            "I searched my inbox and spam folder for the reminder and there is nothing.",
        ),
        (
            "Could you tell me roughly when you switched off auto-renew? I'll check the logs.",
            "Which email address is the subscription under?",
        ),
        (
            "I've reversed the renewal and refunded {amount}. Auto-renew is now definitely off.",
            "The renewal is cancelled and refunded in full; you keep access until the end of "
            "the current period.",
        ),
        line="subscription_box",
    ),
    Topic(
        "billing",
        ("Refund not received", "Where is my refund?", "Refund for {order}"),
        (
            "Hi, how long does a refund normally take to reach a credit card?",
            "Hello, is it possible to get a refund as store credit instead of to my card?",
        ),
        (
            "You confirmed my refund for {order} two weeks ago but the {amount} still isn't "
            "back on my card.",
            "I returned the {product} and got an email saying the refund was issued, but my "
            "bank says nothing came in.",
        ),
        (
            "My bank told me there is no incoming refund and that I should ask you for a "
            "reference number.",
            "I've checked both of my cards and my PayPal account.",
        ),
        (
            "Could you check whether the refund went to the card ending in the digits you "
            "paid with?",
            "Would you mind sending me the exact amount you expect to receive?",
        ),
        (
            "Found it: the refund was stuck in a failed batch. I've pushed it through again "
            "and here is the reference: RF-{ref}.",
            "The refund of {amount} has now been sent. Your bank should show it within 2 days.",
        ),
    ),
    Topic(
        "technical",
        ("App crashes when exporting", "Export to PDF crashes", "Crash on export"),
        (
            "Hi, is there a way to export my weekly plan as a PDF from the phone app?",
            "Hello, can the planner export to CSV so I can open it in a spreadsheet?",
        ),
        (
            "The planner app closes every time I try to export a report. It started after "
            "the last update.",
            "Exporting anything bigger than a week makes the app freeze and then crash.",
        ),
        (
            "I've reinstalled the app, restarted the phone and cleared the cache.",
            "I tried on my tablet and my laptop too, same crash on both.",
        ),
        (
            "Could you tell me your app version (Settings > About) and your phone model?",
            "Can you send a screenshot of the screen right before the crash?",
        ),
        (
            "Thanks for the details, this was a bug in version 4.2. The fix is in 4.2.1, "
            "which is live now. After updating, the export should work.",
            "Our developers fixed the export for large reports. Please update the app and "
            "give it another go.",
        ),
        line="planner_app",
    ),
    Topic(
        "technical",
        ("Calendar sync not working", "Sync stopped", "Events missing after sync"),
        (
            "Hello, how do I connect the planner to my Google calendar?",
            "Hi, can two people share the same planner and both see changes live?",
        ),
        (
            "My calendar stopped syncing on Monday. New events in the planner don't show up "
            "in my calendar anymore.",
            "Half of my team's events disappeared after the sync last night.",
        ),
        (
            "I disconnected and reconnected the calendar and signed out of every device.",
            "I already removed the integration, added it back and waited a full day.",
        ),
        (
            "Could you tell me which calendar provider you use and roughly when the last "
            "event synced correctly?",
            "Can you give me the name of one event that is missing?",
        ),
        (
            "The sync token for your account had expired on our side. I've reset it and "
            "your events are syncing again; the missing ones are restored.",
            "We rolled back a faulty change to the sync service. Your events are back.",
        ),
        line="planner_app",
    ),
    Topic(
        "technical",
        ("Page won't load", "Website error at checkout", "Error 500 on the website"),
        (
            "Hi, which browsers does your website support?",
            "Hello, is there a dark mode for the customer dashboard?",
        ),
        (
            "The checkout page just shows an error 500 when I try to pay. I've been trying "
            "since this morning.",
            "The customer dashboard doesn't load at all, just a blank white page.",
        ),
        (
            "I tried Chrome, Firefox and my phone, cleared cookies and turned off my ad blocker.",
            "I've tried it on two different networks and in a private window.",
        ),
        (
            "Could you tell me the time you last saw the error and which browser it was?",
            "Would you send me a screenshot with the address bar visible?",
        ),
        (
            "We had an outage on the payment page this morning; it's fixed now and your "
            "basket is still saved.",
            "A configuration change broke the dashboard for some accounts. It's fixed, "
            "please reload the page.",
        ),
    ),
    Topic(
        "support",
        ("Can't log in", "Password reset email never arrives", "Locked out of my account"),
        (
            "Hi, how do I change the email address on my account?",
            "Hello, can I turn on two-factor authentication? I can't find the setting.",
        ),
        (
            "I can't log in to my account. The password reset email never arrives.",
            "My account is locked after a few wrong passwords and there is no way to unlock it.",
        ),
        (
            "I checked spam, requested the reset link four times and tried another browser.",
            "I already asked for the reset link and added your address to my contacts.",
        ),
        (
            "Could you confirm the email address you signed up with?",
            "Can you tell me if you signed up with Google or with an email and password?",
        ),
        (
            "Your account was locked by our security filter. I've unlocked it and sent a "
            "fresh reset link.",
            "The reset emails were bouncing because of a typo in the address on file. I've "
            "corrected it; the link should arrive in a minute.",
        ),
    ),
    Topic(
        "support",
        ("Delivery address change", "Wrong address on order {order}", "Update shipping address"),
        (
            "Hi, can I still change the delivery address for order {order}? I'm moving next week.",
            "Hello, how do I add a second delivery address to my account?",
        ),
        (
            "My order {order} is going to my old address even though I updated it before ordering.",
            "The tracking for {order} shows my previous address and the courier won't change it.",
        ),
        (
            "I updated the address in my profile and on the order page.",
            "I called the courier and they told me only you can change it.",
        ),
        (
            "Could you send me the full new address including the postcode?",
            "Can you tell me whether anyone will be at the old address this week?",
        ),
        (
            "I've asked the courier to reroute {order} to your new address; the tracking will "
            "update tonight.",
            "Done, the parcel is redirected and will arrive one day later than planned.",
        ),
    ),
    Topic(
        "support",
        ("Order not arrived", "Where is my order {order}?", "Parcel missing"),
        (
            "Hi, how can I track my order {order}? The link in the email doesn't open.",
            "Hello, do you deliver on Saturdays?",
        ),
        (
            "My order {order} was supposed to arrive last Tuesday and the tracking hasn't "
            "moved in a week.",
            "Tracking says my {product} was delivered but there is nothing here and my "
            "neighbours don't have it.",
        ),
        (
            "I asked my neighbours and checked with the building reception.",
            "I already contacted the courier and they told me to contact you.",
        ),
        (
            "Could you confirm the delivery address and whether there's a safe place the "
            "courier might have used?",
            "Can you check your mailbox area once more? Sometimes small parcels end up there.",
        ),
        (
            "The parcel was lost by the courier. I've sent a replacement {product} by express; "
            "it should arrive tomorrow.",
            "I've opened a claim with the courier and sent you a new one at no charge.",
        ),
    ),
    Topic(
        "returns",
        ("Return label", "How do I return {product}?", "Return for {order}"),
        (
            "Hi, how do I get a return label for the {product} from order {order}? It's too small.",
            "Hello, what's the return window for sale items?",
        ),
        (
            "I requested a return label for {order} a while ago and it never came.",
            "The return portal keeps saying my order number is invalid.",
        ),
        (
            "I tried the portal on my laptop and my phone, with and without the # sign.",
            "I've typed the order number exactly as it is in the confirmation email.",
        ),
        (
            "Could you tell me which items from {order} you'd like to return?",
            "Can you confirm you still have the original packaging?",
        ),
        (
            "Here's your prepaid return label. Drop the parcel at any post office; the refund "
            "goes out as soon as it's scanned.",
            "I've emailed you the label and extended your return window by two weeks.",
        ),
    ),
    Topic(
        "returns",
        ("Item arrived damaged", "Broken {product}", "Damaged in delivery"),
        (
            "Hi, if an item arrives with a small scratch, can I exchange it instead of "
            "returning it?",
            "Hello, do I need the original box to return something?",
        ),
        (
            "My {product} arrived broken. The box was crushed on one side.",
            "The {product} from order {order} has a crack down the middle straight out of the box.",
        ),
        (
            "I've taken photos of the box and the item and kept all the packaging.",
            "I already sent photos through the form on your website.",
        ),
        (
            "Could you send a couple of photos of the damage and of the outside of the box?",
            "Would you prefer a replacement or a refund?",
        ),
        (
            "So sorry about that. A replacement {product} is on its way and you don't need "
            "to send the broken one back.",
            "I've refunded {amount} in full; please just recycle the damaged one.",
        ),
        products=(
            "desk lamp",
            "ceramic mug set",
            "coffee grinder",
            "bluetooth speaker",
            "wall clock",
            "cast iron pan",
        ),
    ),
    Topic(
        "returns",
        ("Exchange for a different size", "Wrong size", "Exchange {product}"),
        (
            "Hi, can I exchange the {product} for a different colour?",
            "Hello, is an exchange free or do I pay shipping?",
        ),
        (
            "You sent me the wrong size of {product}. I ordered a medium and got an extra large.",
            "I asked for an exchange and received the exact same item again.",
        ),
        (
            "I checked my order confirmation, it clearly says medium.",
            "I sent the first one back with the label you gave me.",
        ),
        (
            "Could you tell me which size you'd like and whether the item is unworn?",
            "Can you send me the code on the label inside the item?",
        ),
        (
            "The right size is on its way, and I've added a free return label for the wrong one.",
            "Our warehouse mixed up two shelves. The correct {product} ships today by express.",
        ),
        products=("linen shirt", "running shoes", "rain jacket", "wool jumper", "hiking boots"),
    ),
    Topic(
        "sales",
        ("Bulk order discount", "Quote for 40 units", "Business pricing"),
        (
            "Hi, do you offer discounts for orders of more than 20 units? It's for our office.",
            "Hello, can I get a quote for the team plan for 15 users?",
        ),
        (
            "I asked for a quote for a bulk order last week and still have nothing. We need "
            "to order by Friday.",
            "The discount you promised on the phone isn't showing at checkout.",
        ),
        (
            "I filled in the business form twice and left a voicemail.",
            "I tried the code in the basket and at the payment step.",
        ),
        (
            "Could you confirm the quantity and the delivery date you need?",
            "Can you tell me which products the order would include?",
        ),
        (
            "Your quote is attached: 18% off for 40 units, free delivery, valid for 30 days.",
            "I've applied the business discount to your account; it shows at checkout now.",
        ),
    ),
    Topic(
        "sales",
        ("Discount code not working", "Promo code rejected", "Code {ref} invalid"),
        (
            "Hi, can I combine a discount code with the free shipping offer?",
            "Hello, is the Black Friday discount also valid on the subscription box?",
        ),
        (
            "Your newsletter code says 20% off but the checkout says the code is invalid.",
            "The welcome discount code was rejected and I paid full price for {order}.",
        ),
        (
            "I copied the code straight from the email, no spaces.",
            "I tried it on the app and on the website.",
        ),
        (
            "Could you forward me the email with the code?",
            "Can you tell me what was in your basket when you tried the code?",
        ),
        (
            "The code had expired a day early by mistake. I've refunded the 20% on {order}.",
            "I've fixed the code and credited the discount to your order.",
        ),
    ),
    Topic(
        "sales",
        ("Upgrade plan question", "Switching to the yearly plan", "Which plan is right for us?"),
        (
            "Hi, if I upgrade to the yearly plan now, do I lose the days left on my monthly plan?",
            "Hello, what's the difference between the Pro and the Team plan?",
        ),
        (
            "I upgraded to Pro but I'm still seeing the limits of the free plan.",
            "I was told the upgrade would be prorated, but I was charged the full {amount}.",
        ),
        (
            "I logged out and back in and waited overnight.",
            "I checked the billing page and it does say Pro.",
        ),
        (
            "Could you tell me the email of the account you upgraded?",
            "Can you send me a screenshot of the limits you're seeing?",
        ),
        (
            "Your upgrade is now active; the prorated difference has been credited.",
            "The plan change got stuck. I've applied Pro manually and refunded the overlap.",
        ),
        line="planner_app",
    ),
)


# --------------------------------------------------------------------------------------
# Conversation phrases (English)
# --------------------------------------------------------------------------------------

_EN_GREETINGS = ("Hi,", "Hello,", "Hi there,", "Good morning,", "Hey,", "Hello team,")
_EN_POLITE_CLOSE = (
    "Could you please look into it?",
    "I'd appreciate it if someone could take a look when you get a chance.",
    "Not a huge deal, but I'd like it sorted.",
    "Can you help me with this, please?",
    "A bit disappointing, to be honest. What can you do?",
)
_EN_HOWTO_CLOSE = ("Thanks!", "Cheers.", "Thank you in advance.", "", "Thanks a lot 🙂", "")
_EN_DETAILS = (
    "Sure, here you go. Screenshot attached.",
    "Of course. The account is under {email}.",
    "Here's what you asked for, it's attached.",
)
_EN_DETAILS_SHOP = (
    "Sure, the order number is {order} and the account email is {email}.",
    "It's order {order}, placed with {email}.",
)
_EN_DETAILS_RETURNS = ("Yes, I still have everything. Photos attached, order {order}.",)
_EN_FOLLOW_UP = (
    "Hi, just checking in on this. Any news?",
    "Any update? I wrote {ago} and haven't heard anything back.",
    "Still no answer. Is anyone actually reading these?",
    "Hello? I've been waiting {elapsed} now.",
    "This is the second message I'm sending about this. Could someone please get back to me?",
    "I don't want to be a pain, but I still haven't got a reply and I need this sorted "
    "before the weekend.",
    "Bumping this. No reply in {span}, which isn't great.",
    "It's been {span} without a response. Did my ticket get lost?",
    "Hello again. Is there any update? ⏳",
)
_EN_ANGRY = (
    "This is RIDICULOUS. I've been waiting {elapsed} and NOTHING!!! I want to speak to a manager.",
    "I'm done being patient. If this isn't fixed today I will cancel my subscription and "
    "leave a 1-star review.",
    "Unbelievable!!! This is the third time I'm explaining this. Do you even read the "
    "previous messages? 😡",
    "I want to talk to a real person, not get another copy-paste answer.",
    "I have screenshots of every message. If I don't get my money back this week I'll file "
    "a chargeback and talk to my lawyer.",
    "Honestly the worst customer service I've ever dealt with. I'm posting about this on "
    "social media.",
    "HOW MANY TIMES do I have to ask?!? Fix it or refund me.",
    "Close my account. Now. I'm moving to a competitor.",
    "I'm filing a formal complaint. This is not how you treat someone who has been a "
    "customer for years.",
    "Are you a bot? Because every answer is the same useless template. 🤬",
    "NO ONE has answered me in {span}. Totally unacceptable!!",
)
_EN_SARCASM = (
    "Oh wonderful, another automated reply. Exactly what I needed.",
    "Great job, really. Paying for the premium plan to get slower answers than on the free one.",
    "Love how you never miss a renewal charge but can't manage a single reply.",
    "Fantastic. 'Within 24 hours' apparently means 'whenever we feel like it'.",
    "Sure, let me clear my cache for the fifth time, I'm sure that will fix your server. 🙄",
    "Wow, a whole week and a reply that doesn't answer my question. Impressive.",
    "Brilliant, so the fix for my problem is to wait and hope. Very reassuring.",
)
_EN_REEXPLAIN = (
    "I already explained all of this to {prev_agent}. {tried} Do I really have to start "
    "from scratch?",
    "Sorry, but who are you? I've now talked to {people} different people about the same "
    "problem. Please read the thread, everything is in there.",
    "As I told your colleague: {tried} None of it helped. Please don't ask me to do it again.",
    "We've been through this already. {tried} Can someone who knows the issue just fix it?",
)
_EN_REOPEN = (
    "Sorry, this isn't solved. The same thing happened again this morning.",
    "You closed my ticket but nothing changed. {problem}",
    "Reopening this because the issue is back. Same as before.",
    "Hi, unfortunately it's broken again since yesterday. Could you have another look?",
    "This was marked as solved, but it isn't. Still not working on my side.",
)
_EN_THANKS = (
    "That worked, thank you so much!",
    "Perfect, all sorted. Really appreciate your help 🙏",
    "You're a lifesaver. Thanks {agent_first}!",
    "Got it, works perfectly now. Have a great day!",
    "Thank you for being so quick, that was painless 😊",
    "Brilliant service, many thanks.",
    "Received it this morning. Thanks for the fast help! 🎉",
    "Great, that's exactly what I needed. Much appreciated.",
)
_EN_GRATEFUL_OPEN = (
    "Hi, no problem this time, I just wanted to say thank you to {agent_first} for sorting "
    "out my order last week. Great service!",
    "Hello, my replacement {product} arrived today and it's perfect. Thanks to the whole team ❤️",
    "Just a quick note: your support was amazing when my account was locked. Thank you!",
)
_EN_TURNAROUND = (
    "Ok, that fixed it. Sorry for being short with you earlier, it's been a long week. "
    "Thank you for sticking with it.",
    "The refund just landed. Thanks for sorting it out, I appreciate it.",
    "Right, it works now. I was ready to give up on you, but you turned this around. Thanks!",
    "Everything arrived and it's perfect. Thank you {agent_first}, great job 👍",
)
_EN_REPEAT_PREFIX = (
    "I contacted you about this a few weeks ago and it's happening again.",
    "This is the third time I've had this problem with you.",
    "Same problem as last month, again.",
    "I already reported this once and was told it was fixed.",
)

_EN_AGENT_ACK = (
    "Hi {first}, thanks for reaching out and sorry for the trouble. I'm looking into this now "
    "and will get back to you shortly.",
    "Hi {first}, I'm sorry this has been such a hassle. Let me check what happened.",
    "Hello {first}, thanks for getting in touch. I'm on it.",
)
_EN_AGENT_SORRY_WAIT = (
    "Hi {first}, I'm really sorry for the wait, that's not the experience we want you to have.",
    "Hi {first}, apologies for the slow reply, we've had a very busy week.",
)
_EN_AGENT_DEESCALATE = (
    "I completely understand your frustration, {first}, and I'm sorry. I've taken this over "
    "personally and I'll update you before the end of the day.",
    "You're right to be upset, {first}. I've escalated this to my team lead and put a rush on it.",
    "{first}, I hear you, and I'm sorry we've made this so hard. Here's what I'm doing right now:",
    "I'm a real person, I promise, and I've read the whole thread. Let me fix this.",
)
_EN_AGENT_HANDOFF = (
    "Hi {first}, I've passed this to our {to_group} team, who can fix it directly. They'll "
    "be in touch soon.",
    "Thanks {first}. This needs our {to_group} specialists, so I've moved your ticket to them.",
)
_EN_AGENT_CLOSE = (
    "Glad to hear it! I'll close this ticket, but just reply if anything comes up.",
    "You're very welcome, {first}. Have a lovely day!",
    "Happy to help. Take care!",
    "Thanks for letting us know, {first}. I'll pass your kind words on to the team.",
)
_EN_QUESTION = (
    "One more thing: does that also work on the phone app?",
    "Ok, and can I undo it later if I change my mind?",
    "Got it. Is there a fee for that?",
    "Makes sense. Will I get an email confirmation?",
)
_EN_AGENT_FOLLOW_ANSWER = (
    "Yes, it works exactly the same on the phone app.",
    "Absolutely, you can change it back at any time, no charge.",
    "No fee at all. You'll get a confirmation email within a few minutes.",
)
_EN_AGENT_ANSWER = (
    "Hi {first}, yes, you can: go to Account > Settings and you'll find it there. Let me "
    "know if you get stuck.",
    "Hi {first}, good question. The short answer is yes, and there's no extra cost.",
    "Hello {first}, I've sent you a short guide by email with the steps and screenshots.",
)
_EN_AGENT_NEXT_STEP = (
    "I've flagged it as urgent with the team and I'll come back to you within the hour.",
    "I'm checking this with my colleagues right now and will reply as soon as I know more.",
    "I've added a note so nobody asks you to repeat yourself, and I'm staying on this ticket.",
    "I can see what went wrong on our side. Give me a little time to put it right.",
)
_NOTES = (
    "Customer is upset; this is at least their second contact about it.",
    "Heads up: customer is very frustrated. Please read the whole thread before replying.",
    "Long-time {tier} customer, worth a goodwill gesture.",
    "Checked the history: nothing we sent actually answered the question.",
)
_HANDOFF_NOTES = (
    "Moving to {to_group}: needs access we don't have in {from_group}.",
    "Not a {from_group} issue, sending to {to_group}. Customer has already tried the usual "
    "fixes, see thread.",
    "Passing to {to_group} as discussed in the team chat.",
)
_GROUP_NOTES: dict[str, tuple[str, ...]] = {
    "billing": (
        "Checked the payment provider: two captures on {order}.",
        "Refund shows as issued on our side; asked finance for the bank reference.",
    ),
    "technical": (
        "Asked the dev team, known bug in the last release.",
        "Reproduced it on staging. Logging a bug.",
    ),
    "support": (
        "Account shows three failed logins, then locked by the security filter.",
        "Courier portal says the parcel is stuck at the sorting centre.",
    ),
    "returns": (
        "Warehouse confirms the return was never scanned in.",
        "Photos show clear transit damage; replacement approved.",
    ),
    "sales": (
        "Promo code was configured with the wrong end date.",
        "Quote approved by the sales lead: up to 18% is fine.",
    ),
}

# --------------------------------------------------------------------------------------
# Other languages: whole messages per situation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrasebook:
    """Messages in one language, per situation (customer and agent side)."""

    subjects: dict[str, tuple[str, ...]]
    firsts: dict[str, tuple[str, ...]]
    follow_ups: tuple[str, ...]
    angry: tuple[str, ...]
    reexplain: tuple[str, ...]
    reopen: tuple[str, ...]
    thanks: tuple[str, ...]
    turnaround: tuple[str, ...]
    details: tuple[str, ...]
    agent_ack: tuple[str, ...]
    agent_fix: tuple[str, ...]
    agent_sorry: tuple[str, ...]
    agent_close: tuple[str, ...]
    question: tuple[str, ...]
    agent_answer: tuple[str, ...]
    elapsed_hours: str
    elapsed_days: str


PHRASEBOOKS: dict[str, Phrasebook] = {
    "es": Phrasebook(
        subjects={
            "billing": ("Cobro duplicado", "Reembolso pendiente"),
            "returns": ("Producto dañado", "Etiqueta de devolución"),
            "technical": ("La aplicación se cierra", "Error en la web"),
            "support": ("No puedo entrar en mi cuenta", "Pedido sin llegar"),
            "sales": ("Descuento por volumen", "Código de descuento"),
        },
        firsts={
            "billing": (
                "Hola, me han cobrado dos veces el pedido {order}. ¿Me pueden devolver el "
                "importe duplicado?",
                "Buenas, hace dos semanas me confirmaron el reembolso de {amount} y todavía no "
                "lo veo en mi tarjeta.",
            ),
            "returns": (
                "Buenas tardes. El pedido {order} llegó roto y quiero devolverlo. ¿Cómo consigo la "
                "etiqueta de devolución?",
                "Hola, me enviaron una talla equivocada. Pedí una M y me llegó una XL.",
            ),
            "technical": (
                "Hola, la aplicación se cierra cada vez que intento exportar un informe. Ya la "
                "reinstalé y sigue igual.",
                "Hola, la página de pago me da un error 500 desde esta mañana.",
            ),
            "support": (
                "Hola, no puedo entrar en mi cuenta, el correo para cambiar la contraseña no "
                "llega.",
                "Mi pedido {order} tenía que llegar el martes y el seguimiento no se mueve.",
            ),
            "sales": (
                "Hola, ¿tienen descuento para pedidos de más de 20 unidades? Es para mi oficina.",
                "El código del boletín dice 20% pero en la caja me dice que no es válido.",
            ),
        },
        follow_ups=(
            "Sigo esperando una respuesta {elapsed}. ¿Alguien me puede ayudar?",
            "Hola otra vez, ¿hay alguna novedad? Sigo esperando.",
            "Escribo de nuevo porque nadie me ha contestado.",
        ),
        angry=(
            "¡¡Esto es una vergüenza!! Es la tercera vez que escribo. Quiero hablar con una "
            "persona, no con un robot.",
            "Si no me devuelven el dinero esta semana voy a cancelar la suscripción y poner "
            "una queja formal. 😡",
            "INCREÍBLE. Nadie responde y yo sigo esperando mi dinero. Voy a hablar con mi abogado.",
        ),
        reexplain=(
            "Ya le expliqué todo a su compañero. Reinstalé la app, probé en otro móvil... ¿de "
            "verdad tengo que empezar de cero?",
        ),
        reopen=("Perdón, pero el problema ha vuelto otra vez. Mismo error que antes.",),
        thanks=(
            "¡Muchas gracias! Ya funciona todo perfectamente 🙏",
            "Perfecto, gracias por la ayuda y por la rapidez.",
        ),
        turnaround=(
            "Vale, ahora sí está resuelto. Perdón por el tono de antes y gracias por la paciencia.",
        ),
        details=("Claro, el número de pedido es {order} y mi correo es {email}.",),
        agent_ack=(
            "Hola {first}, gracias por escribirnos y disculpa las molestias. Ya estoy "
            "revisando tu caso.",
        ),
        agent_fix=(
            "Hola {first}, ya está solucionado. ¿Nos confirmas si todo está bien por tu parte?",
            "Hola {first}, lo hemos corregido en nuestro sistema. Perdona las molestias.",
        ),
        agent_sorry=("Lo siento mucho por la espera, {first}. Ya me ocupo personalmente.",),
        agent_close=("¡Un placer, {first}! Que tengas un buen día.",),
        question=("Una pregunta más: ¿también funciona en la app del móvil?",),
        agent_answer=("Sí, {first}, funciona igual en la app. ¡Cualquier cosa nos dices!",),
        elapsed_hours="desde hace {n} horas",
        elapsed_days="desde hace {n} días",
    ),
    "fr": Phrasebook(
        subjects={
            "billing": ("Double prélèvement", "Remboursement non reçu"),
            "returns": ("Article abîmé", "Étiquette de retour"),
            "technical": ("L'application plante", "Erreur sur le site"),
            "support": ("Impossible de me connecter", "Commande non reçue"),
            "sales": ("Remise pour une grosse commande", "Code promo refusé"),
        },
        firsts={
            "billing": (
                "Bonjour, j'ai été prélevé deux fois pour la commande {order}. Pouvez-vous me "
                "rembourser le doublon ?",
                "Bonjour, mon abonnement a été renouvelé alors que j'avais désactivé le "
                "renouvellement automatique.",
            ),
            "returns": (
                "Bonjour, l'article de la commande {order} est arrivé cassé. Comment puis-je le "
                "retourner ?",
                "Bonjour, je n'ai jamais reçu l'étiquette de retour pour la commande {order}.",
            ),
            "technical": (
                "Bonjour, la synchronisation avec mon agenda ne fonctionne plus depuis lundi.",
                "Bonjour, l'application se ferme dès que j'essaie d'exporter un rapport.",
            ),
            "support": (
                "Bonjour, je n'arrive plus à me connecter, l'e-mail de réinitialisation "
                "n'arrive jamais.",
                "Bonjour, ma commande {order} n'est toujours pas arrivée.",
            ),
            "sales": (
                "Bonjour, proposez-vous une remise pour 30 unités ? C'est pour mon équipe.",
                "Bonjour, mon code promo est refusé au moment de payer.",
            ),
        },
        follow_ups=(
            "Bonjour, j'attends toujours une réponse {elapsed}. Quelqu'un peut m'aider ?",
            "Je vous écris encore une fois : aucune nouvelle de votre part.",
            "Bonjour, j'attends toujours. Merci de me répondre.",
        ),
        angry=(
            "C'est INADMISSIBLE !!! Troisième message et toujours rien. Je veux parler à un "
            "responsable.",
            "Si ce n'est pas réglé aujourd'hui, je vais résilier mon abonnement et déposer une "
            "réclamation. 😡",
        ),
        reexplain=(
            "J'ai déjà tout expliqué à votre collègue. J'ai réinstallé l'application et vidé "
            "le cache. Dois-je vraiment tout recommencer ?",
        ),
        reopen=("Désolé, mais le problème est revenu. Même erreur qu'avant.",),
        thanks=(
            "Merci beaucoup, tout fonctionne maintenant ! 😊",
            "Parfait, merci pour votre aide rapide.",
        ),
        turnaround=(
            "D'accord, c'est réglé. Désolé pour mon ton tout à l'heure, et merci pour votre "
            "patience.",
        ),
        details=("Bien sûr : commande {order}, adresse e-mail {email}.",),
        agent_ack=(
            "Bonjour {first}, merci pour votre message et désolé pour ce désagrément. Je "
            "regarde cela tout de suite.",
        ),
        agent_fix=(
            "Bonjour {first}, c'est corrigé. Pouvez-vous me confirmer que tout fonctionne ?",
            "Bonjour {first}, nous avons corrigé le problème de notre côté. Encore désolé.",
        ),
        agent_sorry=(
            "Toutes mes excuses pour l'attente, {first}. Je m'en occupe personnellement.",
        ),
        agent_close=("Avec plaisir, {first} ! Bonne journée.",),
        question=("Une dernière question : est-ce que ça marche aussi sur l'application mobile ?",),
        agent_answer=("Oui {first}, cela fonctionne de la même façon dans l'application.",),
        elapsed_hours="depuis {n} heures",
        elapsed_days="depuis {n} jours",
    ),
    "de": Phrasebook(
        subjects={
            "billing": ("Doppelte Abbuchung", "Erstattung fehlt"),
            "returns": ("Artikel beschädigt", "Rücksendeetikett"),
            "technical": ("App stürzt ab", "Fehler auf der Webseite"),
            "support": ("Login funktioniert nicht", "Bestellung nicht angekommen"),
            "sales": ("Mengenrabatt", "Gutscheincode ungültig"),
        },
        firsts={
            "billing": (
                "Hallo, mir wurde die Bestellung {order} zweimal abgebucht. Bitte erstatten Sie "
                "den doppelten Betrag.",
                "Guten Tag, mein Abo wurde verlängert, obwohl ich die automatische Verlängerung "
                "ausgeschaltet hatte.",
            ),
            "returns": (
                "Hallo, der Artikel aus Bestellung {order} kam kaputt an. Wie schicke ich ihn "
                "zurück?",
                "Guten Tag, ich habe die falsche Größe bekommen. Bestellt war M, geliefert XL.",
            ),
            "technical": (
                "Hallo, die App stürzt jedes Mal ab, wenn ich einen Bericht exportieren will.",
                "Guten Tag, der Kalender synchronisiert seit Montag nicht mehr.",
            ),
            "support": (
                "Hallo, ich komme nicht mehr in mein Konto, die E-Mail zum Zurücksetzen kommt "
                "nicht an.",
                "Guten Tag, meine Bestellung {order} ist immer noch nicht da.",
            ),
            "sales": (
                "Hallo, gibt es einen Rabatt ab 20 Stück? Es ist für unser Büro.",
                "Guten Tag, der Gutscheincode aus dem Newsletter wird nicht akzeptiert.",
            ),
        },
        follow_ups=(
            "Hallo, ich warte seit {span} auf eine Antwort. Kann mir jemand helfen?",
            "Ich schreibe schon wieder, weil sich niemand meldet.",
            "Gibt es etwas Neues? Ich habe noch immer keine Antwort.",
        ),
        angry=(
            "Das ist eine FRECHHEIT!!! Dritte Nachricht und keine Antwort. Ich will mit einem "
            "Menschen sprechen.",
            "Wenn das heute nicht gelöst ist, werde ich kündigen und eine Beschwerde "
            "einreichen. 😡",
        ),
        reexplain=(
            "Ich habe Ihrem Kollegen schon alles erklärt. App neu installiert, Cache gelöscht. "
            "Muss ich wirklich wieder von vorne anfangen?",
        ),
        reopen=("Leider ist das Problem schon wieder da. Gleicher Fehler wie vorher.",),
        thanks=(
            "Vielen Dank, jetzt funktioniert alles! 👍",
            "Super, danke für die schnelle Hilfe.",
        ),
        turnaround=(
            "Okay, jetzt passt es. Entschuldigung für meinen Ton vorhin, und danke für Ihre "
            "Geduld.",
        ),
        details=("Klar: Bestellnummer {order}, E-Mail {email}.",),
        agent_ack=(
            "Hallo {first}, danke für Ihre Nachricht und entschuldigen Sie die Umstände. Ich "
            "schaue mir das sofort an.",
        ),
        agent_fix=(
            "Hallo {first}, das ist behoben. Können Sie kurz bestätigen, dass alles klappt?",
            "Hallo {first}, wir haben den Fehler auf unserer Seite behoben. Entschuldigung!",
        ),
        agent_sorry=(
            "Entschuldigen Sie bitte die lange Wartezeit, {first}. Ich kümmere mich persönlich "
            "darum.",
        ),
        agent_close=("Gern geschehen, {first}! Einen schönen Tag noch.",),
        question=("Noch eine Frage: Funktioniert das auch in der App?",),
        agent_answer=("Ja, {first}, das funktioniert in der App genauso.",),
        elapsed_hours="{n} Stunden",
        elapsed_days="{n} Tagen",
    ),
    "pt": Phrasebook(
        subjects={
            "billing": ("Cobrança duplicada", "Reembolso não recebido"),
            "returns": ("Produto danificado", "Etiqueta de devolução"),
            "technical": ("O aplicativo fecha sozinho", "Erro no site"),
            "support": ("Não consigo entrar na conta", "Pedido não chegou"),
            "sales": ("Desconto para empresas", "Cupom não funciona"),
        },
        firsts={
            "billing": (
                "Olá, fui cobrada duas vezes pelo pedido {order}. Podem estornar o valor "
                "duplicado?",
                "Oi, o reembolso de {amount} foi confirmado há duas semanas e ainda não caiu no "
                "cartão.",
            ),
            "returns": (
                "Olá, o produto do pedido {order} chegou quebrado. Como faço a devolução?",
                "Oi, pedi uma troca e recebi o mesmo tamanho errado de novo.",
            ),
            "technical": (
                "Olá, o aplicativo fecha toda vez que tento exportar um relatório.",
                "Oi, o site dá erro 500 na hora de pagar.",
            ),
            "support": (
                "Olá, não consigo entrar na minha conta, o e-mail de redefinição não chega.",
                "Oi, meu pedido {order} deveria ter chegado na terça e o rastreio não muda.",
            ),
            "sales": (
                "Olá, vocês têm desconto para pedidos acima de 20 unidades?",
                "Oi, o cupom da newsletter diz que é inválido.",
            ),
        },
        follow_ups=(
            "Olá, continuo aguardando uma resposta {elapsed}. Alguém pode me ajudar?",
            "Escrevo mais uma vez porque ninguém me respondeu.",
            "Oi, alguma novidade? Continuo aguardando.",
        ),
        angry=(
            "Isso é um ABSURDO!!! Terceira mensagem e nada. Quero falar com uma pessoa de verdade.",
            "Se não resolverem hoje vou cancelar minha assinatura e falar com meu advogado. 😡",
        ),
        reexplain=(
            "Já expliquei tudo para o seu colega. Reinstalei o app, limpei o cache. Vou ter que "
            "começar tudo de novo?",
        ),
        reopen=("Desculpe, mas o problema voltou. O mesmo erro de antes.",),
        thanks=(
            "Muito obrigada, agora está tudo funcionando! 🙏",
            "Perfeito, obrigado pela ajuda rápida.",
        ),
        turnaround=(
            "Certo, agora resolveu. Desculpe pelo tom de antes e obrigado pela paciência.",
        ),
        details=("Claro: pedido {order}, e-mail {email}.",),
        agent_ack=(
            "Olá {first}, obrigado pelo contato e desculpe o transtorno. Já estou verificando.",
        ),
        agent_fix=(
            "Olá {first}, já está resolvido. Pode confirmar se está tudo certo?",
            "Olá {first}, corrigimos o problema do nosso lado. Desculpe o transtorno.",
        ),
        agent_sorry=("Peço desculpas pela demora, {first}. Vou cuidar disso pessoalmente.",),
        agent_close=("Por nada, {first}! Tenha um ótimo dia.",),
        question=("Mais uma pergunta: funciona também no aplicativo?",),
        agent_answer=("Sim, {first}, funciona do mesmo jeito no aplicativo.",),
        elapsed_hours="há {n} horas",
        elapsed_days="há {n} dias",
    ),
}

# --------------------------------------------------------------------------------------
# SLA
# --------------------------------------------------------------------------------------

_REPLY_TARGET: dict[Priority, float] = {
    Priority.URGENT: 60.0,
    Priority.HIGH: 240.0,
    Priority.NORMAL: 480.0,
    Priority.LOW: 1440.0,
}


def _sla_policy(tier: str | None) -> tuple[str, float]:
    """The SLA policy name and its target multiplier for a loyalty tier."""
    if tier in ("gold", "platinum"):
        return "Priority customers", 0.5
    return "Standard", 1.0


# --------------------------------------------------------------------------------------
# Building one conversation
# --------------------------------------------------------------------------------------


@dataclass
class _Item:
    """A comment or event at ``t`` minutes after the ticket started."""

    t: float
    seq: int
    comment: dict[str, Any] | None = None
    event: dict[str, Any] | None = None


@dataclass
class Conversation:
    """Accumulates a ticket's comments and events on a relative clock (minutes)."""

    rng: random.Random
    persona: Persona
    topic: Topic
    channel: Channel
    priority: Priority
    group: str
    assignee: Agent | None
    hot: bool = False
    status: TicketStatus = TicketStatus.NEW
    t: float = 0.0
    items: list[_Item] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    previous_agents: list[Agent] = field(default_factory=list)
    subject: str | None = None
    used: list[str] = field(default_factory=list)
    scenario: str = ""
    variant: int = 0  # which of the phrasebook's opening messages (and subjects) to use
    tags: list[str] = field(default_factory=list)

    # -- text ------------------------------------------------------------------------

    @property
    def book(self) -> Phrasebook | None:
        """The phrasebook for a non-English customer, else ``None``."""
        return PHRASEBOOKS.get(self.persona.lang)

    def fill(self, template: str, **extra: str) -> str:
        """Fill ``{placeholders}`` from the ticket's values and ``extra``."""
        values = dict(self.values)
        span = self.span()
        values["span"] = span
        values["elapsed"] = span if self.book is not None else f"for {span}"
        values["ago"] = "yesterday" if span == "a day" else f"{span} ago"
        if self.assignee is not None:
            values["agent_first"] = _first_name(self.assignee)
        values.update(extra)
        return template.format(**values)

    def pick(self, options: Sequence[str], **extra: str) -> str:
        """Choose one template (preferring ones not used yet in this ticket) and fill it."""
        fresh = [option for option in options if option not in self.used]
        template = self.rng.choice(fresh or list(options))
        self.used.append(template)
        return self.fill(template, **extra)

    def span(self) -> str:
        """How long since the ticket started ("5 hours", "2 days"), in the customer's language."""
        minutes = max(self.t, 60.0)
        hours = max(1, round(minutes / 60))
        days = max(1, round(minutes / 1440))
        book = self.book
        if book is not None:
            if hours < 20:
                return book.elapsed_hours.format(n=max(2, hours))
            return book.elapsed_days.format(n=days)
        if hours < 20:
            return "an hour" if hours == 1 else f"{hours} hours"
        return "a day" if days == 1 else f"{days} days"

    # -- clock and items ---------------------------------------------------------------

    def wait(self, low: float, high: float) -> None:
        """Advance the clock by a random number of minutes."""
        self.t += self.rng.uniform(low, high)

    def _add(
        self, comment: dict[str, Any] | None = None, event: dict[str, Any] | None = None
    ) -> None:
        self.items.append(_Item(self.t, len(self.items), comment, event))

    def event(self, kind: EventType, **details: Any) -> None:
        """Record an event now."""
        self._add(event={"type": kind, **details})

    def set_status(self, status: TicketStatus, actor: str | None = None) -> None:
        """Change the status now (with a ``status_changed`` event when it changes)."""
        if status != self.status:
            self.event(
                EventType.STATUS_CHANGED,
                actor_id=actor,
                from_status=self.status,
                to_status=status,
            )
            self.status = status

    def customer(self, text: str) -> None:
        """The customer writes; reopens a solved ticket."""
        first = not any(item.comment for item in self.items)
        if self.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
            self.event(EventType.REOPENED, actor_id=self.persona.customer.id)
            self.event(
                EventType.STATUS_CHANGED,
                actor_id=self.persona.customer.id,
                from_status=self.status,
                to_status=TicketStatus.OPEN,
            )
            self.status = TicketStatus.OPEN
        elif self.status == TicketStatus.PENDING:
            self.set_status(TicketStatus.OPEN, self.persona.customer.id)
        self._add(
            comment={
                "author_role": Role.CUSTOMER,
                "author_id": self.persona.customer.id,
                "public": True,
                "channel": self.channel,
                "text": text,
            }
        )
        if first:
            self.event(EventType.CREATED, actor_id=self.persona.customer.id, to_group=self.group)
        else:
            self.event(EventType.CUSTOMER_REPLIED, actor_id=self.persona.customer.id)

    def agent(self, text: str, *, status: TicketStatus = TicketStatus.PENDING) -> None:
        """The assignee replies publicly."""
        agent = self._ensure_assignee()
        self._add(
            comment={
                "author_role": Role.AGENT,
                "author_id": agent.id,
                "public": True,
                "channel": self.channel,
                "text": text,
            }
        )
        self.event(EventType.AGENT_REPLIED, actor_id=agent.id)
        self.set_status(status, agent.id)

    def note(self, text: str) -> None:
        """The assignee leaves a private internal note."""
        agent = self._ensure_assignee()
        self._add(
            comment={
                "author_role": Role.AGENT,
                "author_id": agent.id,
                "public": False,
                "channel": Channel.WEB,
                "text": text,
            }
        )

    def system(self, text: str, *, public: bool = False) -> None:
        """An automatic message from the helpdesk."""
        self._add(
            comment={
                "author_role": Role.SYSTEM,
                "author_id": None,
                "public": public,
                "channel": Channel.API,
                "text": text,
            }
        )

    def reassign(self, group: str) -> None:
        """Move the ticket to another group (and an agent there)."""
        previous = self.assignee
        candidates = [a for a in _agents_in(group) if previous is None or a.id != previous.id]
        new = self.rng.choice(candidates)
        self.event(
            EventType.REASSIGNED,
            actor_id=previous.id if previous else None,
            from_group=self.group,
            to_group=group,
            from_assignee=previous.id if previous else None,
            to_assignee=new.id,
        )
        self.system(f"Ticket moved from {self.group} to {group} and assigned to {new.name}.")
        if previous is not None:
            self.previous_agents.append(previous)
        self.group = group
        self.assignee = new

    def _ensure_assignee(self) -> Agent:
        """The assignee; an unassigned ticket gets someone from its group first."""
        if self.assignee is None:
            self.assignee = self.rng.choice(_agents_in(self.group))
        return self.assignee

    # -- phrases by situation ----------------------------------------------------------

    def say_first(self, mood: str) -> str:
        """The customer's opening message for a mood."""
        book = self.book
        if book is not None:
            text = self.fill(book.firsts[self.topic.group][self.variant])
            if mood == "angry":
                text = f"{text} {self.pick(book.angry)}"
            return text
        if mood == "howto":
            close = self.rng.choice(_EN_HOWTO_CLOSE)
            return f"{self.pick(self.topic.questions)} {close}".strip()
        problem = self.pick(self.topic.problems)
        if mood == "angry":
            return f"{problem} {self.pick(self.topic.tried)} {self.pick(_EN_ANGRY)}"
        if mood == "sarcastic":
            return f"{problem} {self.pick(_EN_SARCASM)}"
        if mood == "repeat":
            body = f"{self.rng.choice(_EN_REPEAT_PREFIX)} {problem}"
        elif mood == "detailed":
            body = f"{problem} {self.pick(self.topic.tried)}"
        else:
            body = f"{problem} {self.rng.choice(_EN_POLITE_CLOSE)}"
        return self.greet(body)

    def greet(self, body: str) -> str:
        """Put a greeting line before an email or web message; chats start straight in."""
        if self.channel in (Channel.EMAIL, Channel.WEB):
            return f"{self.rng.choice(_EN_GREETINGS)}\n\n{body}"
        return body

    def say(self, situation: str) -> str:
        """A customer message for a situation after the first one."""
        book = self.book
        if book is not None:
            pool: tuple[str, ...] = {
                "follow_up": book.follow_ups,
                "angry": book.angry,
                "sarcastic": book.follow_ups,
                "reexplain": book.reexplain,
                "reopen": book.reopen,
                "thanks": book.thanks,
                "turnaround": book.turnaround,
                "details": book.details,
                "question": book.question,
            }[situation]
            return self.pick(pool)
        if situation == "reexplain":
            prev = self.previous_agents[-1] if self.previous_agents else None
            return self.pick(
                _EN_REEXPLAIN,
                prev_agent=_first_name(prev) if prev else "your colleague",
                tried=self.pick(self.topic.tried),
                people=str(len(self.previous_agents) + 1),
            )
        if situation == "reopen":
            return self.pick(_EN_REOPEN, problem=self.pick(self.topic.problems))
        if situation == "details":
            pool = _EN_DETAILS
            if self.topic.group == "returns":
                pool = pool + _EN_DETAILS_RETURNS + _EN_DETAILS_SHOP
            elif self.topic.line == "online_shop" and self.topic.group != "technical":
                pool = pool + _EN_DETAILS_SHOP
            return f"{self.pick(pool)} {self.pick(self.topic.tried)}"
        english: dict[str, tuple[str, ...]] = {
            "follow_up": _EN_FOLLOW_UP,
            "angry": _EN_ANGRY,
            "sarcastic": _EN_SARCASM,
            "thanks": _EN_THANKS,
            "turnaround": _EN_TURNAROUND,
            "question": _EN_QUESTION,
        }
        return self.pick(english[situation])

    def reply(self, situation: str) -> str:
        """An agent message for a situation, in the customer's language."""
        book = self.book
        if book is not None:
            pool: tuple[str, ...] = {
                "ack": book.agent_ack,
                "ask": book.agent_ack,
                "fix": book.agent_fix,
                "answer": book.agent_fix,
                "sorry": book.agent_sorry,
                "deescalate": book.agent_sorry,
                "close": book.agent_close,
                "follow_answer": book.agent_answer,
            }[situation]
            return self.pick(pool)
        if situation == "ask":
            return f"{self.pick(_EN_AGENT_ACK)} {self.pick(self.topic.asks)}"
        if situation == "fix":
            return f"Hi {self.persona.first}, {_lower_first(self.pick(self.topic.fixes))}"
        if situation == "sorry":
            return f"{self.pick(_EN_AGENT_SORRY_WAIT)} {self.pick(self.topic.fixes)}"
        if situation == "deescalate":
            return f"{self.pick(_EN_AGENT_DEESCALATE)} {self.pick(_EN_AGENT_NEXT_STEP)}"
        english: dict[str, tuple[str, ...]] = {
            "ack": _EN_AGENT_ACK,
            "answer": _EN_AGENT_ANSWER,
            "close": _EN_AGENT_CLOSE,
            "follow_answer": _EN_AGENT_FOLLOW_ANSWER,
        }
        return self.pick(english[situation])

    def handoff_text(self, to_group: str) -> str:
        """The public message telling the customer about a transfer (English only)."""
        return self.pick(_EN_AGENT_HANDOFF, to_group=to_group)

    def internal_note(self, to_group: str = "") -> str:
        """A private note in English: about a handoff, the topic, or the customer's mood."""
        if to_group:
            pool: Sequence[str] = _HANDOFF_NOTES
        elif self.rng.random() < 0.6:
            pool = _GROUP_NOTES[self.topic.group]
        else:
            pool = _NOTES
        return self.pick(
            pool, to_group=to_group, from_group=self.group, tier=self.persona.tier or "new"
        )


# --------------------------------------------------------------------------------------
# Scenarios: each builds a conversation and returns the idle minutes before AS_OF
# --------------------------------------------------------------------------------------


def _target(conv: Conversation) -> float:
    return _REPLY_TARGET[conv.priority] * _sla_policy(conv.persona.tier)[1]


def _open_with_autoreply(conv: Conversation, mood: str) -> None:
    conv.customer(conv.say_first(mood))
    conv.wait(0.2, 1.0)
    hours = max(1, round(_target(conv) / 60))
    conv.system(
        f"Automatic reply: we've received your request and will get back to you within "
        f"{hours} hour{'s' if hours != 1 else ''}.",
        public=True,
    )
    conv.set_status(TicketStatus.OPEN)


def scenario_howto(conv: Conversation, rng: random.Random) -> float:
    """A neutral question, answered; solved or waiting on the customer."""
    conv.customer(conv.say_first("howto"))
    conv.set_status(TicketStatus.OPEN)
    conv.wait(20, 300)
    conv.agent(conv.reply("answer"))
    if rng.random() < 0.5:
        conv.wait(5, 120)
        conv.customer(conv.say("question"))
        conv.wait(5, 120)
        conv.agent(conv.reply("follow_answer"))
    if rng.random() < 0.6:
        conv.wait(10, 240)
        conv.customer(conv.say("thanks"))
        conv.wait(2, 30)
        conv.agent(conv.reply("close"), status=TicketStatus.SOLVED)
    return rng.uniform(30, 2880)


def scenario_polite(conv: Conversation, rng: random.Random) -> float:
    """A polite complaint; the agent asks for details; the customer is now waiting."""
    _open_with_autoreply(conv, "polite")
    conv.wait(30, _target(conv) * 0.8)
    conv.agent(conv.reply("ask"))
    conv.wait(20, 400)
    conv.customer(conv.say("details"))
    if rng.random() < 0.4:
        conv.wait(5, 60)
        conv.note(conv.internal_note())
        conv.wait(30, 200)
        conv.agent(conv.reply("fix"))
        return rng.uniform(60, 1800)
    return rng.uniform(10, _target(conv) * 0.7)


def scenario_long_wait(conv: Conversation, rng: random.Random) -> float:
    """Nobody answers: follow-ups pile up and the reply SLA is breached."""
    _open_with_autoreply(conv, rng.choice(("polite", "detailed", "polite")))
    target = _target(conv)
    for _ in range(rng.randint(2, 4)):
        conv.wait(target * 0.4, target * 1.2)
        conv.customer(conv.say("follow_up"))
    if rng.random() < 0.35:
        conv.wait(30, 300)
        conv.customer(conv.say(rng.choice(("angry", "sarcastic"))))
    return rng.uniform(20, target)


def scenario_bounced(conv: Conversation, rng: random.Random) -> float:
    """The customer explains and tries fixes; the ticket hops groups; they explain again.

    Half of the time the last move has just happened and the new owner has not replied yet.
    """
    _open_with_autoreply(conv, "detailed")
    conv.wait(30, 360)
    conv.agent(conv.reply("ask"))
    conv.wait(20, 240)
    conv.customer(conv.say("details"))
    hops = rng.randint(1, 3)
    for hop in range(hops):
        others = [g for g in GROUPS if g != conv.group]
        to_group = conv.topic.group if hop == hops - 1 and conv.topic.group != conv.group else ""
        to_group = to_group or rng.choice(others)
        conv.wait(30, 600)
        conv.note(conv.internal_note(to_group))
        conv.wait(1, 5)
        if conv.book is None and rng.random() < 0.6:
            conv.agent(conv.handoff_text(to_group), status=TicketStatus.OPEN)
            conv.wait(1, 10)
        conv.reassign(to_group)
        if hop == hops - 1 and rng.random() < 0.5:
            # The new owner has not picked it up yet: the handoff is still pending.
            conv.wait(30, 400)
            conv.customer(conv.say(rng.choice(("follow_up", "reexplain"))))
            return rng.uniform(10, _target(conv))
        conv.wait(60, 900)
        conv.agent(conv.reply("ask"))
        conv.wait(15, 300)
        conv.customer(conv.say("reexplain"))
    if rng.random() < 0.4:
        conv.wait(60, 500)
        conv.customer(conv.say(rng.choice(("follow_up", "angry"))))
    return rng.uniform(30, _target(conv) * 1.5)


def _gap(
    conv: Conversation, fast: bool, quick: tuple[float, float], slow: tuple[float, float]
) -> None:
    """Wait a short gap in a fast (hot-seat) conversation, a longer one otherwise."""
    conv.wait(*(quick if fast else slow))


def scenario_angry(conv: Conversation, rng: random.Random) -> float:
    """An angry customer: shouting, threats, asks for a human; the agent absorbs it."""
    fast = conv.hot
    _open_with_autoreply(conv, "angry")
    _gap(conv, fast, (5, 25), (20, 400))
    conv.agent(conv.reply("deescalate"))
    for _ in range(rng.randint(1, 3)):
        _gap(conv, fast, (8, 40), (30, 600))
        conv.customer(conv.say(rng.choice(("angry", "angry", "sarcastic"))))
        _gap(conv, fast, (4, 20), (20, 300))
        if rng.random() < 0.3:
            conv.note(conv.internal_note())
            conv.wait(1, 6)
        conv.agent(conv.reply("deescalate"))
    if rng.random() < 0.35:
        _gap(conv, fast, (10, 60), (30, 400))
        conv.customer(conv.say("angry"))
        return rng.uniform(3, 60) if fast else rng.uniform(20, _target(conv) * 1.5)
    return rng.uniform(5, 90) if fast else rng.uniform(30, 2000)


def scenario_sarcastic(conv: Conversation, rng: random.Random) -> float:
    """Sarcasm after a slow, unhelpful exchange."""
    _open_with_autoreply(conv, "polite")
    conv.wait(_target(conv) * 0.6, _target(conv) * 1.6)
    conv.agent(conv.reply("ask"))
    conv.wait(30, 300)
    conv.customer(f"{conv.say('sarcastic')} {conv.say('details')}")
    if rng.random() < 0.5:
        conv.wait(60, 600)
        conv.agent(conv.reply("sorry"))
    return rng.uniform(20, _target(conv) * 1.2)


def scenario_reopened(conv: Conversation, rng: random.Random) -> float:
    """Solved too early: the customer comes back, sometimes more than once."""
    _open_with_autoreply(conv, "polite")
    conv.wait(30, _target(conv))
    conv.agent(conv.reply("ask"))
    conv.wait(20, 300)
    conv.customer(conv.say("details"))
    conv.wait(30, 400)
    conv.agent(conv.reply("fix"), status=TicketStatus.SOLVED)
    for _ in range(1 if rng.random() < 0.75 else 2):
        conv.wait(600, 4000)
        conv.customer(conv.say("reopen"))
        if rng.random() < 0.5:
            conv.wait(30, 400)
            conv.agent(conv.reply("sorry"), status=TicketStatus.SOLVED)
    if conv.status == TicketStatus.SOLVED:
        conv.wait(200, 2000)
        conv.customer(conv.say(rng.choice(("reopen", "angry"))))
    return rng.uniform(20, _target(conv) * 1.3)


def scenario_grateful(conv: Conversation, rng: random.Random) -> float:
    """A customer who thanks the team, either unprompted or after a quick fix."""
    if conv.book is None and rng.random() < 0.35:
        conv.subject = rng.choice(("Thank you!", "A quick thank you", "Great service"))
        conv.customer(conv.pick(_EN_GRATEFUL_OPEN))
        conv.set_status(TicketStatus.OPEN)
        conv.wait(20, 300)
        conv.agent(conv.reply("close"), status=TicketStatus.SOLVED)
    else:
        _open_with_autoreply(conv, rng.choice(("howto", "polite")))
        conv.wait(15, 200)
        conv.agent(conv.reply("fix"))
        conv.wait(10, 300)
        conv.customer(conv.say("thanks"))
        conv.wait(2, 40)
        conv.agent(conv.reply("close"), status=TicketStatus.SOLVED)
    return rng.uniform(10, 2400)


def scenario_turnaround(conv: Conversation, rng: random.Random) -> float:
    """Starts angry or sarcastic, ends with a relieved, thankful customer."""
    fast = conv.hot
    _open_with_autoreply(conv, rng.choice(("angry", "sarcastic", "polite")))
    _gap(conv, fast, (5, 30), (15, 240))
    conv.agent(conv.reply("deescalate"))
    if rng.random() < 0.5:
        _gap(conv, fast, (10, 40), (20, 300))
        conv.customer(conv.say("angry" if rng.random() < 0.5 else "details"))
        _gap(conv, fast, (3, 15), (10, 200))
        conv.note(conv.internal_note())
        _gap(conv, fast, (2, 15), (5, 60))
        conv.agent(conv.reply("fix"))
    _gap(conv, fast, (15, 60), (30, 900))
    conv.customer(conv.say("turnaround"))
    _gap(conv, fast, (2, 10), (3, 60))
    conv.agent(conv.reply("close"), status=TicketStatus.SOLVED)
    return rng.uniform(5, 120) if fast else rng.uniform(10, 2000)


def scenario_new(conv: Conversation, rng: random.Random) -> float:
    """Just arrived, not assigned yet; well within the SLA."""
    conv.customer(conv.say_first(rng.choice(("howto", "polite", "detailed"))))
    return rng.uniform(1, _target(conv) * 0.5)


def scenario_repeat(conv: Conversation, rng: random.Random) -> float:
    """A returning customer with the same problem as in an earlier ticket."""
    _open_with_autoreply(conv, "repeat" if conv.book is None else "polite")
    if rng.random() < 0.5:
        conv.wait(30, _target(conv))
        conv.agent(conv.reply("ask"))
        conv.wait(20, 300)
        conv.customer(conv.say(rng.choice(("follow_up", "angry", "details"))))
    else:
        conv.wait(_target(conv) * 0.5, _target(conv) * 1.2)
        conv.customer(conv.say("follow_up"))
    return rng.uniform(20, _target(conv) * 1.4)


Scenario = Callable[[Conversation, random.Random], float]


@dataclass(frozen=True)
class ScenarioSpec:
    """How often a scenario occurs and how it is set up."""

    name: str
    build: Scenario
    weight: float
    priorities: tuple[tuple[Priority, float], ...]
    hard: bool = False  # an emotionally hard conversation for the agent


_NORMALISH = ((Priority.LOW, 0.2), (Priority.NORMAL, 0.7), (Priority.HIGH, 0.1))
_URGENTISH = ((Priority.NORMAL, 0.3), (Priority.HIGH, 0.5), (Priority.URGENT, 0.2))

SCENARIOS: tuple[ScenarioSpec, ...] = (
    ScenarioSpec("howto", scenario_howto, 16, ((Priority.LOW, 0.5), (Priority.NORMAL, 0.5))),
    ScenarioSpec("polite", scenario_polite, 12, _NORMALISH),
    ScenarioSpec("long_wait", scenario_long_wait, 12, _NORMALISH),
    ScenarioSpec("bounced", scenario_bounced, 10, _NORMALISH),
    ScenarioSpec("angry", scenario_angry, 13, _URGENTISH, hard=True),
    ScenarioSpec("sarcastic", scenario_sarcastic, 6, _NORMALISH, hard=True),
    ScenarioSpec("reopened", scenario_reopened, 8, _NORMALISH),
    ScenarioSpec("grateful", scenario_grateful, 10, ((Priority.LOW, 0.4), (Priority.NORMAL, 0.6))),
    ScenarioSpec("turnaround", scenario_turnaround, 8, _NORMALISH, hard=True),
    ScenarioSpec("new", scenario_new, 7, _NORMALISH),
)
_BY_NAME: dict[str, ScenarioSpec] = {spec.name: spec for spec in SCENARIOS}
_REPEAT = ScenarioSpec("repeat", scenario_repeat, 0, _URGENTISH)
_HISTORY = ("howto", "polite", "grateful", "turnaround", "reopened", "angry")

# --------------------------------------------------------------------------------------
# From a conversation to a Ticket
# --------------------------------------------------------------------------------------


@dataclass
class Draft:
    """A conversation anchored in time, before it gets its ticket number."""

    conv: Conversation
    start: datetime
    historical: bool
    order: int

    def at(self, minutes: float) -> datetime:
        """The absolute time ``minutes`` after the ticket started (whole seconds)."""
        return self.start + timedelta(seconds=round(minutes * 60))


def _pick_assignee(
    rng: random.Random, group: str, hard: bool, historical: bool, hot_counts: dict[str, int]
) -> Agent:
    """Most hard, current conversations go to the least-loaded hot-seat agent of the group."""
    candidates = _agents_in(group)
    hot = [a for a in candidates if a.id in HOT_SEAT]
    if hard and not historical and hot and rng.random() < 0.7:
        chosen = min(hot, key=lambda a: hot_counts.get(a.id, 0))
        hot_counts[chosen.id] = hot_counts.get(chosen.id, 0) + 1
        return chosen
    return rng.choice(candidates)


def _topic_values(rng: random.Random, persona: Persona, topic: Topic) -> dict[str, str]:
    amount = rng.choice((12.99, 19.0, 24.5, 39.99, 49.0, 59.9, 89.0, 129.0, 249.0, 399.0))
    if persona.lang == "en":
        price = f"{rng.choice(('$', '$', '£', '€'))}{amount:.2f}"
    else:
        price = f"{amount:.2f} €".replace(".", ",")
    return {
        "first": persona.first,
        "email": persona.customer.email or "",
        "order": f"#{rng.randint(100000, 999999)}",
        "product": rng.choice(topic.products),
        "amount": price,
        "ref": f"{rng.randint(1000, 9999)}",
    }


def _channel(rng: random.Random) -> Channel:
    return _weighted(
        rng,
        (
            (Channel.EMAIL, 0.45),
            (Channel.WEB, 0.25),
            (Channel.CHAT, 0.14),
            (Channel.MESSAGING, 0.08),
            (Channel.PHONE, 0.04),
            (Channel.SOCIAL, 0.04),
        ),
    )


def _draft(
    rng: random.Random,
    persona: Persona,
    spec: ScenarioSpec,
    days_ago: float | None,
    order: int,
    hot_counts: dict[str, int],
) -> Draft:
    """Build one conversation and anchor it before AS_OF."""
    historical = days_ago is not None
    topic = rng.choice(TOPICS)
    # Bouncing tickets (and some new ones) land in the wrong group first.
    misroute = spec.name == "bounced" or (spec.name == "new" and rng.random() < 0.2)
    group = rng.choice([g for g in GROUPS if g != topic.group]) if misroute else topic.group
    priority: Priority = _weighted(rng, spec.priorities)
    if persona.tier == "platinum" and priority.rank < Priority.HIGH.rank and rng.random() < 0.5:
        priority = Priority.HIGH
    assignee = (
        None
        if spec.name == "new"
        else _pick_assignee(rng, group, spec.hard, historical, hot_counts)
    )
    conv = Conversation(
        rng=rng,
        persona=persona,
        topic=topic,
        channel=_channel(rng),
        priority=priority,
        group=group,
        assignee=assignee,
        hot=assignee is not None and assignee.id in HOT_SEAT and spec.hard and not historical,
    )
    conv.values = _topic_values(rng, persona, topic)
    conv.variant = rng.randrange(2)
    conv.scenario = spec.name
    idle = spec.build(conv, rng)
    if historical:
        _close_out(conv, rng)
        idle = (days_ago or 0.0) * 1440.0
    last = max(item.t for item in conv.items)
    start = AS_OF - timedelta(seconds=round((idle + last) * 60))
    return Draft(conv=conv, start=start, historical=historical, order=order)


def _close_out(conv: Conversation, rng: random.Random) -> None:
    """An earlier ticket of a returning customer: finish it and close it."""
    if conv.status != TicketStatus.SOLVED:
        conv.wait(30, 600)
        conv.agent(conv.reply("fix"), status=TicketStatus.SOLVED)
    conv.wait(2880, 5760)
    conv.set_status(TicketStatus.CLOSED)


def _comments(draft: Draft, number: int) -> tuple[Comment, ...]:
    out: list[Comment] = []
    for item in draft.conv.items:
        if item.comment is None:
            continue
        out.append(
            Comment(
                id=f"{number}-c{len(out) + 1:02d}",
                created_at=draft.at(item.t),
                **item.comment,
            )
        )
    return tuple(out)


def _events(draft: Draft) -> tuple[TicketEvent, ...]:
    return tuple(
        TicketEvent(at=draft.at(item.t), **item.event)
        for item in draft.conv.items
        if item.event is not None
    )


def _sla(draft: Draft, comments: Sequence[Comment]) -> SlaInfo:
    """The reply target, and the breach instant while the customer waits for a reply."""
    conv = draft.conv
    policy, factor = _sla_policy(conv.persona.tier)
    target = _REPLY_TARGET[conv.priority] * factor
    waiting_since: datetime | None = None
    if conv.status in (TicketStatus.NEW, TicketStatus.OPEN):
        for comment in comments:
            if not comment.public:
                continue
            if comment.author_role == Role.AGENT:
                waiting_since = None
            elif comment.author_role == Role.CUSTOMER and waiting_since is None:
                waiting_since = comment.created_at
    breach = waiting_since + timedelta(minutes=target) if waiting_since else None
    return SlaInfo(policy=policy, reply_target_minutes=target, breach_at=breach)


def _metrics(events: Sequence[TicketEvent], comments: Sequence[Comment]) -> TicketMetrics:
    moves = [e for e in events if e.type == EventType.REASSIGNED]
    first_reply: float | None = None
    agent_replies = [c for c in comments if c.author_role == Role.AGENT and c.public]
    if comments and agent_replies:
        delta = agent_replies[0].created_at - comments[0].created_at
        first_reply = round(delta.total_seconds() / 60, 1)
    return TicketMetrics(
        reassignments=len(moves),
        group_hops=sum(1 for e in moves if e.from_group != e.to_group),
        reopens=sum(1 for e in events if e.type == EventType.REOPENED),
        first_reply_minutes=first_reply,
    )


def _tags(draft: Draft, metrics: TicketMetrics, breached: bool) -> tuple[str, ...]:
    conv = draft.conv
    tags = [conv.topic.group, f"channel_{conv.channel.value}"]
    if conv.persona.lang != "en":
        tags.append(f"lang_{conv.persona.lang}")
    if conv.persona.tier in ("gold", "platinum"):
        tags.append("vip")
    if metrics.reopens:
        tags.append("reopened")
    if breached:
        tags.append("sla_breached")
    # Tags an earlier firewall run wrote while the customer was upset; now calm again.
    if conv.scenario == "turnaround" and not draft.historical and conv.rng.random() < 0.6:
        tags.append(conv.rng.choice(("ef_frustration_high", "ef_frustration_medium")))
    return tuple(tags)


def _subject(conv: Conversation) -> str:
    book = conv.book
    if conv.subject is not None:
        return conv.subject
    if book is not None:
        return book.subjects[conv.topic.group][conv.variant]
    return conv.pick(conv.topic.subjects)


def _to_ticket(draft: Draft, number: int) -> Ticket:
    """Materialise a draft as a validated :class:`Ticket`."""
    conv = draft.conv
    comments = _comments(draft, number)
    events = _events(draft)
    sla = _sla(draft, comments)
    metrics = _metrics(events, comments)
    breached = sla.breach_at is not None and sla.breach_at <= AS_OF
    if sla.breach_at is not None:
        # The helpdesk warns when 80% of the reply target has passed.
        warn_at = sla.breach_at - timedelta(minutes=(sla.reply_target_minutes or 0) * 0.2)
        if warn_at <= AS_OF:
            detail = "reply target breached" if breached else "reply target nearly breached"
            events = (*events, TicketEvent(type=EventType.SLA_WARNING, at=warn_at, detail=detail))
    last = max([c.created_at for c in comments] + [e.at for e in events])
    custom: dict[str, FieldValue] = {"product_line": conv.topic.line}
    if conv.topic.line == "online_shop":
        custom["order_number"] = conv.values["order"]
    return Ticket(
        source=SourceRef(connector="file", account=ACCOUNT, external_id=str(number)),
        subject=_subject(conv),
        status=conv.status,
        priority=conv.priority,
        channel=conv.channel,
        created_at=comments[0].created_at,
        updated_at=last,
        requester=conv.persona.customer,
        assignee=conv.assignee,
        group=conv.group,
        tags=_tags(draft, metrics, breached),
        comments=comments,
        events=events,
        sla=sla,
        metrics=metrics,
        custom_fields=custom,
    )


# --------------------------------------------------------------------------------------
# The whole helpdesk
# --------------------------------------------------------------------------------------


def _ticket_plan(rng: random.Random, count: int) -> Iterable[tuple[Persona, int]]:
    """Customers and how many tickets each has; about 15% of customers have 2-4."""
    made = 0
    number = 1
    while made < count:
        persona = _make_persona(rng, number)
        number += 1
        many = rng.random() < 0.15
        tickets = min(rng.randint(2, 4) if many else 1, count - made)
        made += tickets
        yield persona, tickets


def _customer_drafts(
    rng: random.Random, persona: Persona, tickets: int, order: int, hot_counts: dict[str, int]
) -> list[Draft]:
    """All drafts of one customer: earlier (closed) tickets first, then the current one."""
    drafts: list[Draft] = []
    days = sorted((rng.uniform(6, 70) for _ in range(tickets - 1)), reverse=True)
    for k, days_ago in enumerate(days):
        spec = _BY_NAME[rng.choice(_HISTORY)]
        drafts.append(_draft(rng, persona, spec, days_ago, order + k, hot_counts))
    if tickets > 1 and rng.random() < 0.6:
        spec = _REPEAT
    else:
        spec = _weighted(rng, [(s, s.weight) for s in SCENARIOS])
    drafts.append(_draft(rng, persona, spec, None, order + tickets - 1, hot_counts))
    return drafts


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> list[Ticket]:
    """Generate ``count`` tickets for ``seed``, sorted by ``updated_at`` (then ticket number).

    Deterministic: the same arguments always give equal tickets.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    rng = random.Random(seed)
    drafts: list[Draft] = []
    hot_counts: dict[str, int] = {}
    for persona, tickets in _ticket_plan(rng, count):
        drafts.extend(_customer_drafts(rng, persona, tickets, len(drafts), hot_counts))
    # Ticket numbers follow creation time, like a real helpdesk.
    drafts.sort(key=lambda d: (d.start, d.order))
    tickets_out = [_to_ticket(d, FIRST_TICKET_NUMBER + i) for i, d in enumerate(drafts)]
    tickets_out.sort(key=lambda t: (t.updated_at, int(t.source.external_id)))
    return _with_backlogs(tickets_out)


_OPEN = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD})


def _with_backlogs(tickets: list[Ticket]) -> list[Ticket]:
    """Set every assignee's ``open_tickets`` to their open tickets in ``tickets``.

    The figure an agent record gives is then what a helpdesk holding exactly these tickets
    counts, so ``simulate`` (which reads the record) and ``sync`` (which counts the tickets
    once it has read them all) see the same backlog.
    """
    counts: dict[str, int] = {}
    for ticket in tickets:
        if ticket.assignee is not None and ticket.status in _OPEN:
            counts[ticket.assignee.id] = counts.get(ticket.assignee.id, 0) + 1
    out = []
    for ticket in tickets:
        agent = ticket.assignee
        if agent is not None:
            agent = agent.model_copy(update={"open_tickets": counts.get(agent.id, 0)})
            ticket = ticket.model_copy(update={"assignee": agent})
        out.append(ticket)
    return out


def render_jsonl(tickets: Iterable[Ticket]) -> str:
    """One ``model_dump_json(exclude_none=True)`` per line, newline-terminated."""
    return "".join(t.model_dump_json(exclude_none=True) + "\n" for t in tickets)


def write_jsonl(tickets: Iterable[Ticket], out: Path) -> None:
    """Write the tickets as JSONL (UTF-8, ``\\n`` line endings)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(render_jsonl(tickets))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of tickets")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL path")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    tickets = generate(args.seed, args.count)
    write_jsonl(tickets, args.out)
    print(f"wrote {len(tickets)} tickets to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
