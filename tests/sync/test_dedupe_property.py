"""Property tests of the part-level dedupe (``sync.dedupe``): any subset of a merged
note's sections already on the ticket is dropped, the rest is kept word for word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.actions import ActionPart, AddTags, InternalNote, PlannedAction, RuleMatch
from empathy_firewall.connectors.base import markers_in, note_marker
from empathy_firewall.engine.evaluate import NOTE_SEPARATOR, WHY_HEADING, section_key, tag_part_key
from empathy_firewall.sync.dedupe import fresh_action

TICKET = "zendesk:acme:42"
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=80
).filter(
    lambda t: (
        "---" not in t
        and WHY_HEADING not in t
        and "empathy-firewall" not in t
        and "- rule-" not in t
    )
)


def _note(texts: list[str]) -> PlannedAction:
    rules = [f"rule-{n}" for n in range(len(texts))]
    parts = [ActionPart(key=section_key(TICKET, r, "c9#1"), rule_id=r) for r in rules]
    sections = [f"{t}\n{note_marker(p.key)}" for t, p in zip(texts, parts, strict=True)]
    footer = "\n".join(f"- {r} (default): x = 1. To switch off: it." for r in rules)
    body = NOTE_SEPARATOR.join(sections) + "\n\n" + WHY_HEADING + "\n" + footer
    return PlannedAction(
        action=InternalNote(body=body),
        because=tuple(RuleMatch(rule_id=r, pack="default") for r in rules),
        key="ef1-whole",
        parts=tuple(parts),
    )


@given(st.lists(_text, min_size=1, max_size=5), st.data())
def test_known_sections_are_dropped_and_the_rest_kept(
    texts: list[str], data: st.DataObject
) -> None:
    note = _note(texts)
    known_mask = data.draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts)))
    known = {p.key for p, k in zip(note.parts, known_mask, strict=True) if k}
    fresh = fresh_action(note, known, TICKET)
    kept = [(t, p) for t, p, k in zip(texts, note.parts, known_mask, strict=True) if not k]
    if not kept:
        assert fresh is None
        return
    assert fresh is not None
    if not known:
        assert fresh is note
        return
    assert isinstance(fresh.action, InternalNote)
    body = fresh.action.body
    assert markers_in(body) == {p.key for _, p in kept}
    assert [p.rule_id for p in fresh.parts] == [p.rule_id for _, p in kept]
    for text, part in kept:
        assert f"{text}\n{note_marker(part.key)}" in body
        assert f"- {part.rule_id} (" in body
    for part in note.parts:
        if part.key in known:
            assert f"- {part.rule_id} (" not in body
    assert fresh.key != note.key
    again = fresh_action(note, known, TICKET)
    assert again is not None
    assert again.key == fresh.key


@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True), st.data()
)
def test_known_tags_are_dropped(tags: list[str], data: st.DataObject) -> None:
    parts = tuple(ActionPart(key=tag_part_key(TICKET, t, "c9")) for t in tags)
    planned = PlannedAction(
        action=AddTags(tags=tuple(tags)),
        because=(RuleMatch(rule_id="r", pack="default"),),
        key="ef1-tags",
        parts=parts,
    )
    known = set(data.draw(st.lists(st.sampled_from([p.key for p in parts]), unique=True)))
    fresh = fresh_action(planned, known, TICKET)
    left = [t for t, p in zip(tags, parts, strict=True) if p.key not in known]
    if not left:
        assert fresh is None
    else:
        assert fresh is not None
        assert isinstance(fresh.action, AddTags)
        assert list(fresh.action.tags) == left
