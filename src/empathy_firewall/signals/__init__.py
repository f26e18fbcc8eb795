"""Signals: what the firewall understands about a ticket, its customer and its agent."""
