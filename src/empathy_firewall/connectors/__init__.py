"""Connectors: the Connector contract, the entry-point registry and the HTTP policy."""
