"""The built-in ``file`` source: normalized tickets from a JSONL file, no helpdesk needed.

Capability: poll only. The bookmark is the number of tickets already handed out, so a
re-run resumes after the last page whose plans were applied. ``apply`` does not talk to any
helpdesk: when ``output`` is configured it appends each plan (with its action keys) as one
JSON line to that file, once per key, which makes ``sync`` runnable end to end offline;
without ``output`` it raises :class:`~empathy_firewall.errors.ConfigError`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import (
    ApplyResult,
    Bookmark,
    Capabilities,
    Connector,
    ConnectorConfig,
    Page,
    RawPage,
)
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import Ticket
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall.wire import HttpRequest

__all__ = ["FileConfig", "FileConnector"]


class FileConfig(ConnectorConfig):
    """Where the tickets are, how many per page, and where plans are recorded (optional)."""

    path: Path
    page_size: int = Field(default=100, ge=1, le=10_000)
    output: Path | None = None


class FileConnector(Connector):
    """Reads a normalized ticket file (see :mod:`empathy_firewall.ticketfile`)."""

    name: ClassVar[str] = "file"
    Config: ClassVar[type[ConnectorConfig]] = FileConfig
    #: the ticket file carries each ticket's events: nothing is derived
    capabilities: ClassVar[Capabilities] = Capabilities(poll=True, history=True)

    def __init__(self, config: ConnectorConfig, **_: Any) -> None:
        if not isinstance(config, FileConfig):
            raise ConfigError("file connector needs a FileConfig")
        self.config = config

    def check(self) -> None:
        """The file must exist and be readable."""
        if not self.config.path.is_file():
            raise ConfigError(f"ticket file not found: {self.config.path}")

    def parse_page(self, raw: RawPage) -> Page:
        """Tickets already validated by the reader; ``body`` holds them and the offset."""
        tickets = tuple(raw.body["tickets"])
        offset = int(raw.body["offset"])
        return Page(
            tickets=tickets,
            bookmark=Bookmark.of({"offset": offset}),
            more=bool(raw.body.get("more", False)),
        )

    def poll(self, bookmark: Bookmark | None) -> Iterator[Page]:
        """Pages of ``page_size`` tickets after the bookmark's offset."""
        start = 0
        if bookmark is not None:
            offset = bookmark.data().get("offset")
            if not isinstance(offset, int) or offset < 0:
                raise InputError("file bookmark has no valid offset")
            start = offset
        tickets = islice(iter_tickets(self.config.path), start, None)
        position = start
        batch: list[Ticket] = []
        for ticket in tickets:
            batch.append(ticket)
            if len(batch) == self.config.page_size:
                position += len(batch)
                yield self.parse_page(RawPage({"tickets": batch, "offset": position, "more": True}))
                batch = []
        position += len(batch)
        yield self.parse_page(RawPage({"tickets": batch, "offset": position, "more": False}))

    def apply(self, plans: Sequence[Plan], *, verify: bool = False) -> tuple[ApplyResult, ...]:
        """Append plans to ``output`` as JSON lines, each action key at most once."""
        if self.config.output is None:
            raise ConfigError("the file source is read-only; set `output` to record plans")
        seen = self._recorded_keys()
        results = []
        with self.config.output.open("a", encoding="utf-8") as out:
            for plan in plans:
                keys = [p.key for p in plan.actions]
                new = [k for k in keys if k not in seen]
                if new:
                    line = plan.model_dump(mode="json")
                    line["actions"] = [a for a in line["actions"] if a["key"] in new]
                    out.write(json.dumps(line, sort_keys=True) + "\n")
                    seen.update(new)
                results.append(
                    ApplyResult(
                        ticket=plan.ticket,
                        applied=tuple(new),
                        already=tuple(k for k in keys if k not in new),
                    )
                )
        return tuple(results)

    def rehearsal_twin(self, folder: Path) -> tuple[Connector, list[HttpRequest]] | None:
        """A connector on the same ticket file that records its plans in a copy of
        ``output`` inside ``folder`` (it sends no requests), or None for a read-only source
        (no ``output``: a real run cannot write either)."""
        if self.config.output is None:
            return None
        copy = folder / self.config.output.name
        if self.config.output.exists():
            shutil.copyfile(self.config.output, copy)
        return FileConnector(self.config.model_copy(update={"output": copy})), []

    def _recorded_keys(self) -> set[str]:
        keys: set[str] = set()
        if self.config.output is None or not self.config.output.exists():
            return keys
        with self.config.output.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    keys.update(a["key"] for a in json.loads(line).get("actions", []))
        return keys
