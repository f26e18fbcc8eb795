"""Customers and agents as the helpdesk knows them: field mapping shared by every connector. Pure.

A helpdesk keeps what the firewall wants to know about a customer in *custom fields* of
the person (Zendesk ``user_fields``, Freshdesk contact ``custom_fields``) and of their
organisation (Zendesk ``organization_fields``, Freshdesk company ``custom_fields``). Their
names are the admin's choice, so each connector's config carries a
:class:`CustomerFieldNames` (``[connector.customer_fields]``): for each thing, the field
names to try, first match wins, the person's fields before the organisation's.

* a field that is missing, empty or unreadable (``"n/a"`` as an order count) is *unknown*
  (``None``), never an error;
* numbers may arrive as text (``"1,250.50"``); negative values count as unknown;
* the tier is kept as the helpdesk spells it; the core lower-cases it and applies
  ``[settings.customer_fields] tier_aliases`` (``{"vip" = "platinum"}``) when it evaluates.

Agents' opt-ins may be read from one named agent field (:func:`opt_ins_from_field`); a
choice stored with ``empathy-firewall agents opt-in|opt-out`` always wins over it (see
:mod:`empathy_firewall.optins`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from empathy_firewall.connectors.parsing import field_value
from empathy_firewall.models import AgentOptIns, Customer, FieldValue
from empathy_firewall.optins import FEATURE_FIELDS

__all__ = [
    "CustomerFieldNames",
    "customer_record",
    "number_of",
    "opt_ins_from_field",
    "scalar_fields",
]


class CustomerFieldNames(BaseModel):
    """Which person/organisation fields hold a customer's loyalty data (first match wins).

    The defaults cover the usual spellings; set your own field keys (Zendesk: the user or
    organisation field *key*; Freshdesk: the contact or company field name without ``cf_``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: tuple[str, ...] = ("loyalty_tier", "tier", "customer_tier", "plan", "account_tier")
    lifetime_value: tuple[str, ...] = ("lifetime_value", "ltv", "customer_lifetime_value")
    order_count: tuple[str, ...] = ("order_count", "orders", "total_orders")
    language: tuple[str, ...] = Field(default=("language",))
    """A field overriding the helpdesk's own language/locale of the person."""


def scalar_fields(fields: object) -> dict[str, FieldValue]:
    """A vendor's custom-field object as ``{name: scalar}`` (lists joined by commas).

    Freshdesk prefixes custom field names with ``cf_`` in some places and not others: both
    spellings are kept so a mapping may name either.
    """
    out: dict[str, FieldValue] = {}
    if not isinstance(fields, Mapping):
        return out
    for name, value in fields.items():
        if not isinstance(name, str) or not name:
            continue
        out[name] = field_value(value)
        if name.startswith("cf_") and len(name) > 3:
            out.setdefault(name[3:], out[name])
    return out


def _first(names: Iterable[str], *sources: Mapping[str, FieldValue]) -> FieldValue:
    for source in sources:
        for name in names:
            value = source.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            return value
    return None


_NUMBER = re.compile(r"^[+]?\d+(\.\d+)?$")


def number_of(value: FieldValue) -> float | None:
    """A non-negative number from a field value (``12``, ``"1,250.50"``, ``"€ 80"``), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = _finite(value)
    else:
        text = re.sub(r"[\s,€$£]", "", value)
        number = _finite(text) if _NUMBER.match(text) else None
    return number if number is not None and number >= 0 else None


def _finite(value: int | float | str) -> float | None:
    """``value`` as a finite float; None for what overflows (a 400-digit order count)."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def customer_record(
    *,
    id: str,
    name: str | None = None,
    email: str | None = None,
    organization: str | None = None,
    language: str | None = None,
    person_fields: Mapping[str, FieldValue] | None = None,
    organization_fields: Mapping[str, FieldValue] | None = None,
    names: CustomerFieldNames | None = None,
) -> Customer:
    """The :class:`Customer` with tier, value, orders and language read through ``names``.

    ``language`` is the helpdesk's own (Zendesk ``locale``, Freshdesk ``language``); a
    mapped language field overrides it. ``fields`` on the result holds the organisation's
    fields overlaid with the person's, for rules and for the core's own field mapping.
    """
    names = names or CustomerFieldNames()
    person = dict(person_fields or {})
    org = dict(organization_fields or {})
    tier = _first(names.tier, person, org)
    value = number_of(_first(names.lifetime_value, person, org))
    orders = number_of(_first(names.order_count, person, org))
    mapped_language = _first(names.language, person, org)
    lang = str(mapped_language) if mapped_language is not None else language
    return Customer(
        id=id,
        name=name,
        email=email,
        organization=organization,
        loyalty_tier=str(tier).strip() if tier is not None and not isinstance(tier, bool) else None,
        lifetime_value=value,
        order_count=int(orders) if orders is not None else None,
        language=lang.strip() if isinstance(lang, str) and lang.strip() else None,
        fields={**org, **person},
    )


_WORD = re.compile(r"[a-z_]+")
_ALIASES = {
    "strain": "strain",
    "strain_tracking": "strain",
    "breaks": "breaks",
    "break": "breaks",
    "break_prompts": "breaks",
    "recognition": "recognition",
    "recognise": "recognition",
    "recognize": "recognition",
}


def opt_ins_from_field(value: Any) -> AgentOptIns | None:
    """The opt-ins an agent gave in a helpdesk field, or None when the field says nothing.

    A checkbox that is ticked means every feature; otherwise the value (text, a
    multi-select list) names features: ``strain``, ``breaks``, ``recognition`` or ``all``.
    Unknown words are ignored; an unticked box or empty field gives all-off.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return AgentOptIns(strain_tracking=value, break_prompts=value, recognition=value)
    words: list[str] = []
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        words.extend(_WORD.findall(str(item).lower()))
    if "all" in words:
        return AgentOptIns(strain_tracking=True, break_prompts=True, recognition=True)
    chosen = {_ALIASES[w] for w in words if w in _ALIASES}
    return AgentOptIns(**{FEATURE_FIELDS[f]: True for f in chosen})  # type: ignore[index]
