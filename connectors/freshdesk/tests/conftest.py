"""Pytest fixtures for the Freshdesk connector tests (helpers live in freshdesk_fixtures)."""

try:
    import empathy_firewall_freshdesk  # noqa: F401
except ImportError as exc:  # pragma: no cover - an environment problem, said plainly
    raise RuntimeError(
        "the Freshdesk connector tests need the distribution installed: "
        "pip install -e connectors/freshdesk"
    ) from exc

from freshdesk_fixtures import connector, fake

__all__ = ["connector", "fake"]
