"""Pytest setup for the RT connector tests (real-server helpers live in rt_server)."""

try:
    import empathy_firewall_rt  # noqa: F401
except ImportError as exc:  # pragma: no cover - an environment problem, said plainly
    raise RuntimeError(
        "the RT connector tests need the distribution installed: pip install -e connectors/rt"
    ) from exc
