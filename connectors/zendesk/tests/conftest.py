"""Pytest fixtures for the Zendesk connector tests (helpers live in zendesk_fixtures)."""

try:
    import empathy_firewall_zendesk  # noqa: F401
except ImportError as exc:  # pragma: no cover - an environment problem, said plainly
    raise RuntimeError(
        "the Zendesk connector tests need the distribution installed: "
        "pip install -e connectors/zendesk"
    ) from exc

from zendesk_fixtures import connector, fake

__all__ = ["connector", "fake"]
