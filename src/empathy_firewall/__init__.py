"""empathy-firewall: keeps internal friction from reaching the customer, protects agents."""

__version__ = "0.1.0.dev0"
