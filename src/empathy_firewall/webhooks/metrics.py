"""Prometheus metrics for the webhook service (``GET /metrics``).

We use ``prometheus_client``, the Prometheus project's own Python client: it writes the
text exposition format exactly (escaping, ``_total``/``_bucket``/``+Inf`` conventions,
``# HELP``/``# TYPE``) and its counters and histograms are thread-safe, which matters with
in-process worker threads. A hand-written exposition would have to get all of that right
again. Each :class:`Metrics` owns a private registry, so several apps (tests, mounted
handlers) never collide in the global one.

Counters are per process. The inbox gauge (``ef_inbox_items``) is read from the state
store at scrape time, so it is the same on every replica and covers separate worker
processes too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics"]

# No ``*_created`` twin of every counter and histogram: they double the series count and
# no dashboard reads them (the library's own switch; process-wide, set on import).
disable_created_metrics()  # type: ignore[no-untyped-call]

#: the exposition format's content type
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_PROCESSING_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class _InboxCollector(Collector):
    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "ef_inbox_items",
            "Webhook inbox items by status (from the state store)",
            labels=["status"],
        )
        try:
            counts = self._counts()
        except Exception:  # the store is down: /readyz says so; metrics stay available
            counts = {}
        for status in ("pending", "claimed", "retrying", "done", "failed"):
            family.add_metric([status], float(counts.get(status, 0)))
        yield family


class Metrics:
    """The service's counters and histograms; implements both observer protocols."""

    def __init__(self, inbox_counts: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received_total = Counter(
            "ef_webhooks_received", "Webhook requests received", ["connector"], registry=r
        )
        self.rejected_total = Counter(
            "ef_webhooks_rejected",
            "Webhook requests rejected, by reason",
            ["connector", "reason"],
            registry=r,
        )
        self.queued_total = Counter(
            "ef_webhooks_queued", "Verified events put in the inbox", ["connector"], registry=r
        )
        self.duplicates_total = Counter(
            "ef_webhooks_duplicates",
            "Redelivered events recognised by their dedupe key (stored once)",
            ["connector"],
            registry=r,
        )
        self.ignored_total = Counter(
            "ef_webhooks_ignored", "Verified events not about a ticket", ["connector"], registry=r
        )
        self.request_seconds = Histogram(
            "ef_webhook_request_seconds",
            "Time to answer a webhook request",
            ["connector"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.processed_total = Counter(
            "ef_inbox_processed",
            "Inbox items processed by this process's workers",
            ["connector"],
            registry=r,
        )
        self.failed_total = Counter(
            "ef_inbox_failed",
            "Inbox item failures (final=true: parked)",
            ["connector", "final"],
            registry=r,
        )
        self.tickets_read_total = Counter(
            "ef_inbox_tickets_read",
            "Tickets re-read from the helpdesk by this process's workers (once for all the "
            "events a ticket had waiting)",
            ["connector"],
            registry=r,
        )
        self.processing_seconds = Histogram(
            "ef_inbox_processing_seconds",
            "Time from claim to completion of a processed item's batch",
            ["connector"],
            buckets=_PROCESSING_BUCKETS,
            registry=r,
        )
        if inbox_counts is not None:
            r.register(_InboxCollector(inbox_counts))
        #: labelled children by (metric, labels): ``labels()`` validates and locks on
        #: every call, three times per webhook; the children never change once made
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # ReceiverObserver ------------------------------------------------------------------

    def received(self, connector: str) -> None:
        """A request arrived."""
        self._child(self.received_total, connector).inc()

    def rejected(self, connector: str, reason: str) -> None:
        """A request was rejected."""
        self._child(self.rejected_total, connector, reason).inc()

    def accepted(self, connector: str, outcome: str) -> None:
        """An event was queued, found to be a duplicate, or ignored."""
        counter = {"queued": self.queued_total, "duplicate": self.duplicates_total}.get(
            outcome, self.ignored_total
        )
        self._child(counter, connector).inc()

    def answered(self, connector: str, seconds: float) -> None:
        """A response was sent after ``seconds``."""
        self._child(self.request_seconds, connector).observe(seconds)

    # WorkerObserver --------------------------------------------------------------------

    def processed(self, connector: str, seconds: float) -> None:
        """An item was completed."""
        self._child(self.processed_total, connector).inc()
        self._child(self.processing_seconds, connector).observe(seconds)

    def failed(self, connector: str, final: bool) -> None:
        """An item failed (``final``: parked)."""
        self._child(self.failed_total, connector, "true" if final else "false").inc()

    def tickets_read(self, connector: str, count: int) -> None:
        """``count`` tickets were re-read for the events claimed with them."""
        self._child(self.tickets_read_total, connector).inc(count)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
