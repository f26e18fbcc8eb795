"""The dry run (``render``) shows what ``apply`` writes to a real RT 5, request for request."""

from __future__ import annotations

from rt_server import RtAdmin, connector, require_rt, settle

from empathy_firewall.connectors.http import RequestsTransport
from empathy_firewall.testing.conformance import sample_plan
from empathy_firewall.wire import HttpRequest, HttpResponse


def test_apply_sends_exactly_the_rendered_requests() -> None:
    admin = RtAdmin(require_rt())
    admin.ensure_tags_field()
    queue = admin.new_queue()
    tid = admin.new_ticket(queue, "Where is my order?", CustomFields={"Tags": ["vip"]})
    settle()
    sent: list[HttpRequest] = []
    transport = RequestsTransport()

    def recording(request: HttpRequest) -> HttpResponse:
        sent.append(request)
        return transport(request)

    rt = connector(admin.url, queue, transport=recording)
    ticket = next(t for p in rt.poll(None) for t in p.tickets)
    plan = sample_plan(ticket.source, rt.capabilities)  # a tag, a note, priority high
    rendered = rt.render([plan])
    assert admin.state(queue)[tid]["tags"] == ["vip"], "the dry run wrote"
    sent.clear()
    (result,) = rt.apply([plan])
    assert set(result.applied) == {a.key for a in plan.actions}
    writes = [(r.method, r.url, r.json_body) for r in sent if r.method != "GET"]
    assert writes == [(r.method, r.url, r.json_body) for r in rendered]
    assert writes[0][2] == {"CustomFields": {"Tags": ["vip", "ef_conformance"]}, "Priority": 75}
    assert admin.state(queue)[tid]["tags"] == ["vip", "ef_conformance"]
