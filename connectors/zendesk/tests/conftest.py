"""Pytest fixtures for the Zendesk connector tests (helpers live in zendesk_fixtures)."""

from zendesk_fixtures import connector, fake

__all__ = ["connector", "fake"]
