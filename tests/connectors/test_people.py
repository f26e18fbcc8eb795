"""Customer field mapping and agent opt-in fields (empathy_firewall.connectors.people)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.config import load_config
from empathy_firewall.connectors.people import (
    CustomerFieldNames,
    customer_record,
    number_of,
    opt_ins_from_field,
    scalar_fields,
)
from empathy_firewall.models import AgentOptIns
from empathy_firewall_zendesk import ZendeskConnector

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)


def test_person_fields_win_over_the_organisation_and_defaults_find_usual_names() -> None:
    customer = customer_record(
        id="7",
        language="fr-FR",
        person_fields={"tier": "Gold", "orders": "12"},
        organization_fields={"tier": "platinum", "lifetime_value": "1,250.50"},
    )
    assert (customer.loyalty_tier, customer.order_count, customer.lifetime_value) == (
        "Gold",
        12,
        1250.5,
    )
    assert customer.language == "fr-FR"


def test_a_mapping_names_the_fields_and_missing_ones_are_unknown() -> None:
    names = CustomerFieldNames(tier=("segment",), order_count=("n_orders",), language=("lang",))
    customer = customer_record(
        id="7",
        language="en-US",
        person_fields={"segment": "VIP", "n_orders": "n/a", "lang": "de", "tier": "bronze"},
        names=names,
    )
    assert customer.loyalty_tier == "VIP"  # the default name `tier` is not consulted
    assert customer.order_count is None  # unreadable: unknown, not an error
    assert customer.lifetime_value is None
    assert customer.language == "de"
    bare = customer_record(id="8")
    assert (bare.loyalty_tier, bare.lifetime_value, bare.order_count, bare.language) == (
        None,
        None,
        None,
        None,
    )


def test_freshdesk_cf_prefix_is_readable_both_ways() -> None:
    fields = scalar_fields({"cf_loyalty_tier": "silver", "tags": ["a", "b"], "": 1})
    assert fields["loyalty_tier"] == "silver" == fields["cf_loyalty_tier"]
    assert fields["tags"] == "a,b"
    assert "" not in fields


@given(person=st.dictionaries(st.sampled_from(["tier", "orders", "ltv", "x"]), scalars))
def test_any_field_values_give_a_customer_never_an_error(person: dict[str, object]) -> None:
    customer = customer_record(id="1", person_fields=scalar_fields(person))
    assert customer.lifetime_value is None or customer.lifetime_value >= 0
    assert customer.order_count is None or customer.order_count >= 0


@given(st.one_of(scalars, st.lists(st.text(max_size=12), max_size=4)))
def test_number_of_is_non_negative_or_none(value: object) -> None:
    got = number_of(scalar_fields({"v": value}).get("v"))
    assert got is None or got >= 0


def test_opt_in_field_values() -> None:
    everything = AgentOptIns(strain_tracking=True, break_prompts=True, recognition=True)
    assert opt_ins_from_field(None) is None
    assert opt_ins_from_field(True) == everything
    assert opt_ins_from_field(False) == AgentOptIns()
    assert opt_ins_from_field("all") == everything
    assert opt_ins_from_field("Strain, recognition") == AgentOptIns(
        strain_tracking=True, recognition=True
    )
    assert opt_ins_from_field(["breaks"]) == AgentOptIns(break_prompts=True)
    assert opt_ins_from_field("nonsense") == AgentOptIns()


@given(st.one_of(scalars, st.lists(st.text(max_size=12), max_size=4)))
def test_opt_in_field_never_raises(value: object) -> None:
    result = opt_ins_from_field(value)
    assert result is None or isinstance(result, AgentOptIns)


def test_the_mapping_in_the_docs_is_a_valid_configuration(tmp_path: Path) -> None:
    """docs/helpdesk-data.md's TOML loads, and its connector section configures Zendesk
    with the defaults the page lists."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "helpdesk-data.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", text, re.S)
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    loaded = load_config(path, allow_extra=frozenset({"connector"}))
    assert loaded.settings.customer_fields.tier_aliases["vip"] == "platinum"
    section = dict(loaded.extra["connector"])
    assert section.pop("name") == "zendesk"
    connector = ZendeskConnector.from_config(section)
    assert isinstance(connector, ZendeskConnector)
    assert connector.config.customer_fields == CustomerFieldNames()
    assert connector.config.agent_opt_in_field == "empathy_firewall_opt_in"


@pytest.mark.parametrize("huge", [10**400, "9" * 400, float("inf"), float("nan"), "1e999"])
def test_a_number_too_large_for_a_float_is_unknown_not_an_error(huge: object) -> None:
    assert number_of(huge) is None  # type: ignore[arg-type]
    customer = customer_record(id="1", person_fields={"orders": huge, "ltv": huge})  # type: ignore[dict-item]
    assert customer.order_count is None
    assert customer.lifetime_value is None
