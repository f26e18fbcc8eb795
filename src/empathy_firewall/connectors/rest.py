"""The shared plumbing of a REST helpdesk connector: :class:`HttpClient` and :class:`HttpConnector`.

* :class:`HttpClient` is the ``send`` seam plus credentials and the shared retry policy:
  it adds the ``Authorization`` header at the last moment (rendered requests and logs never
  hold credentials), sends through one :class:`~empathy_firewall.connectors.http.PolicySender`
  built from the config's transport settings and the vendor's rate budgets, and decodes
  JSON. A vendor client passes its error ``describe`` hook and budgets, and may override
  :meth:`HttpClient._observe` to correct its budgets from every response's headers.
* :class:`HttpConnector` is the :class:`~empathy_firewall.connectors.base.Connector` half
  every HTTP connector repeats: ``transport`` (a fake helpdesk in tests), ``clock`` and
  ``env`` (where secrets are read) injected, the client built on the first network call
  (so the pure parts work without credentials) and kept, so its rate budgets span every
  poll, fetch and apply; and the applied keys visible on a ticket (note markers, plus the
  marker tags of public replies).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from empathy_firewall.actions import Plan
from empathy_firewall.connectors.base import (
    Connector,
    ConnectorConfig,
    Headers,
    HttpRequest,
    HttpResponse,
    Send,
)
from empathy_firewall.connectors.config import HttpConnectorConfig, secret_from_env
from empathy_firewall.connectors.dry import DryTransport
from empathy_firewall.connectors.http import (
    Clock,
    Describe,
    PolicySender,
    RateBudget,
    RequestsTransport,
    RetryPolicy,
    SystemClock,
)
from empathy_firewall.connectors.notes import replied_keys
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import Ticket

__all__ = ["HttpClient", "HttpConnector", "response_path"]


def response_path(url: str) -> str:
    """The path of ``url`` (for messages: no host, no query)."""
    return HttpRequest("GET", url).path


class HttpClient:
    """Authenticated, rate-limited, retrying access to one helpdesk account; see the module
    docstring. Subclasses set :attr:`vendor`."""

    #: the vendor's name in messages ("Zendesk")
    vendor: ClassVar[str]
    #: True when the vendor answers some calls with a body of blanks: it counts as no body
    blank_body_is_empty: ClassVar[bool] = False

    def __init__(
        self,
        config: HttpConnectorConfig,
        authorization: str,
        *,
        transport: Send | None = None,
        clock: Clock | None = None,
        describe: Describe,
        budgets: tuple[RateBudget, ...] = (),
        cost_of: Callable[[HttpRequest], int] | None = None,
    ) -> None:
        self.base_url = config.url
        self._authorization = authorization
        raw = transport or RequestsTransport(timeout=config.timeout_seconds)

        def authed(request: HttpRequest) -> HttpResponse:
            headers = request.headers.merged(
                {"Authorization": self._authorization, "Accept": "application/json"}
            )
            response = raw(replace(request, headers=headers))
            self._observe(request, response)
            return response

        self.sender = PolicySender(
            authed,
            policy=RetryPolicy(
                max_attempts=config.max_attempts, max_total_wait=config.max_total_wait_seconds
            ),
            clock=clock,
            describe=describe,
            vendor=self.vendor,
            budgets=budgets,
            cost_of=cost_of,
        )
        self.clock = self.sender.clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _observe(self, request: HttpRequest, response: HttpResponse) -> None:
        """Called with every response (before the retry policy sees it); default: nothing."""

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send through the budgets and the retry policy."""
        return self.sender(request)

    def _shown_path(self, path: str, url: str) -> str:
        """How a request is named in a "not JSON" message (default: its path, no host)."""
        return response_path(url)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        purpose: str = "",
        item: str | None = None,
        idempotent: bool | None = None,
    ) -> tuple[Any, Headers]:
        """Send and decode JSON; returns ``(data, headers)``. ``path`` may be absolute."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        response = self.send(
            HttpRequest(
                method=method,
                url=url,
                params=tuple((params or {}).items()),
                json_body=body,
                purpose=purpose,
                item=item,
                idempotent=idempotent,
            )
        )
        data = response.json_or_none()
        content = response.body.strip() if self.blank_body_is_empty else response.body
        if data is None and content and response.status != 204:
            shown = self._shown_path(path, url)
            raise InputError(f"{self.vendor} {method} {shown}: response is not JSON")
        return data, response.headers

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        purpose: str = "",
        item: str | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Like :meth:`call`, returning only the decoded JSON."""
        data, _ = self.call(
            method,
            path,
            params=params,
            body=body,
            purpose=purpose,
            item=item,
            idempotent=idempotent,
        )
        return data


ConfigT = TypeVar("ConfigT", bound=HttpConnectorConfig)
ClientT = TypeVar("ClientT", bound=HttpClient)


class HttpConnector(Connector, Generic[ConfigT, ClientT]):
    """Base of the HTTP helpdesk connectors; see the module docstring.

    ``transport`` replaces the HTTP transport (a fake helpdesk in tests), ``clock`` the
    clock, ``env`` the environment the secrets are read from. Credentials are read on the
    first network call, so the pure parts (render, parse) work without them. Subclasses
    implement :meth:`_build_client`.
    """

    config: ConfigT

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        transport: Send | None = None,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(config, self.Config):
            raise ConfigError(f"the {self.name} connector needs a {self.Config.__name__}")
        self.config = cast(ConfigT, config)
        self._transport = transport
        self._clock: Clock = clock or SystemClock()
        self._env = env
        self._client: ClientT | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.url!r})"

    @property
    def client(self) -> ClientT:
        """The authenticated client (built on first use; ConfigError if secrets are missing).

        One client per connector, so its rate budgets span every poll, fetch and apply.
        """
        if self._client is None:
            self._client = self._build_client()
        return self._client

    @abstractmethod
    def _build_client(self) -> ClientT:
        """Read the credentials from ``self._env`` and build the client on
        ``self._transport`` and ``self._clock``."""

    def secret(self, name: str) -> str | None:
        """The environment variable ``name`` from the connector's environment, or None."""
        return secret_from_env(name, self._env)

    def applied_keys(self, ticket: Ticket) -> frozenset[str]:
        """Note markers in the comments, plus public replies marked by ``efr_<key>`` tags."""
        return super().applied_keys(ticket) | replied_keys(ticket.tags)

    # the dry run -----------------------------------------------------------------------

    def dry_answer(self, request: HttpRequest) -> HttpResponse | None:
        """The helpdesk's successful answer to a write ``apply`` sends (and to any read
        that asks about something only the dry run made up, such as a job id); None lets
        a read through to the helpdesk. Pure. Connectors that write override it."""
        raise NotImplementedError(f"{self.name}: write-back is not supported")

    def dry_config(self) -> ConfigT:
        """The config the dry run applies with (default: the same). A connector that reads
        its own writes back to confirm them turns that off here: on a dry run nothing was
        written, so the confirmation would write again."""
        return self.config

    @property
    def dry_runs(self) -> bool:
        """True when the connector answers its writes on a dry run (:meth:`dry_answer`)."""
        return type(self).dry_answer is not HttpConnector.dry_answer

    def dry_twin(self) -> tuple[Self, DryTransport]:
        """A new connector on the same helpdesk whose writes are recorded in the returned
        :class:`~empathy_firewall.connectors.dry.DryTransport` instead of sent (reads
        reach the helpdesk). ``sync --dry-run`` runs the whole sync on it."""
        inner = self._transport or RequestsTransport(timeout=self.config.timeout_seconds)
        dry = DryTransport(inner, self.dry_answer)
        twin = type(self)(self.dry_config(), transport=dry, clock=self._clock, env=self._env)
        return twin, dry

    def rehearsal_twin(self, folder: Path) -> tuple[Connector, list[HttpRequest]] | None:
        """The :meth:`dry_twin` and the writes it records, when the connector answers its
        writes on a dry run (:attr:`dry_runs`)."""
        if not self.dry_runs:
            return None
        twin, dry = self.dry_twin()
        return twin, dry.writes

    def render(self, plans: Sequence[Plan]) -> tuple[HttpRequest, ...]:
        """Exactly the write requests :meth:`apply` sends for ``plans`` now: the production
        apply runs on a :meth:`dry_twin`. Writes nothing; the requests carry no
        credentials."""
        if not plans:
            return ()
        twin, dry = self.dry_twin()
        twin.apply(plans)
        return tuple(dry.writes)
