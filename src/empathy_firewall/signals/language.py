"""Which language a customer wrote in, from py3langid's shipped model (no download).

py3langid (a maintained fork of langid.py) ships its naive-Bayes model inside the package and
scores a tweet-length text in tens of microseconds. We restrict it to the languages the
scorer supports plus their most common European neighbours, so that a Dutch or Catalan
message is recognised as *not* supported instead of being forced into Spanish or German,
and so that the ranking stays fast. Short or ambiguous texts ("ok", "Thanks!", an order
number) get ``"und"`` (undetermined) rather than a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = [
    "SUPPORTED_LANGUAGES",
    "UNDETERMINED",
    "Language",
    "detect_language",
    "detect_languages",
]

#: languages the scorer is trained and evaluated on (ISO 639-1)
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr", "pt", "it")
#: the answer when the text is too short or too ambiguous to tell
UNDETERMINED = "und"
# Neighbours that are easy to confuse with a supported language; knowing them lets us say
# "unsupported" instead of mislabelling. Fewer candidates also make the ranking faster.
_CANDIDATES: tuple[str, ...] = (
    *SUPPORTED_LANGUAGES,
    *("nl", "ca", "ro", "pl", "sv", "da", "no", "tr"),
)
#: below this posterior the answer is "und"
MIN_CONFIDENCE = 0.6
#: fewer letters than this: "und" without asking the model
MIN_LETTERS = 8
# texts at least this long are sent to the model without counting their letters first
_CHECK_LETTERS_BELOW = 48
#: only the start of a long message is read: enough to tell the language, and fast
MAX_CHARS = 400
# texts walked together by the batch identifier
_BATCH = 512


@dataclass(frozen=True, slots=True)
class Language:
    """An identified language: ISO 639-1 ``code`` (or ``"und"``) and its posterior."""

    code: str
    confidence: float

    @property
    def supported(self) -> bool:
        """Whether the scorer (and the drafts) cover this language."""
        return self.code in SUPPORTED_LANGUAGES


class _BatchIdentifier:
    """py3langid's shipped model, run over many texts at once with numpy.

    py3langid walks a byte automaton (a 39 MB transition table: one cache miss per byte,
    paid in the interpreter) and counts the output of each state it visits. Here the walk
    advances every text of a batch by one byte per numpy step, so the misses overlap and the
    interpreter is paid once per byte position instead of once per byte. The counting and the
    scoring (log1p of the counts times the class table, length-tempered softmax) are
    py3langid's own arithmetic, so the answers are the same as its ``classify``.
    """

    def __init__(self, identifier: Any) -> None:
        import numpy as np

        self._np = np
        self._encode: Callable[[str], bytes] = identifier._encode
        self._nextmove = np.asarray(identifier.tk_nextmove, dtype=np.int32)
        self._rowbase = np.asarray(identifier._rowbase, dtype=np.int64)
        self._output = np.asarray(identifier.tk_output, dtype=np.int32)
        self._table = np.ascontiguousarray(identifier.nb_ptc, dtype=np.float32)
        self._prior = np.asarray(identifier.nb_pc, dtype=np.float32)
        self.classes: list[str] = list(identifier.nb_classes)

    def classify_many(self, heads: Sequence[str]) -> list[tuple[str, float]]:
        """(code, posterior) of each text, as py3langid's ``classify`` with ``norm_probs``."""
        np = self._np
        if not heads:
            return []
        datas = [self._encode(head) for head in heads]
        lengths = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
        order = np.argsort(lengths, kind="stable")
        scores = np.zeros((len(datas), len(self.classes)), dtype=np.float32)
        for chunk in np.array_split(order, max(1, len(order) // _BATCH)):
            self._score_chunk([datas[i] for i in chunk], lengths[chunk], scores, chunk)
        scores *= (1.0 / np.sqrt(np.maximum(lengths, 1)))[:, None].astype(np.float32)
        scores = np.exp(scores - scores.max(1, keepdims=True))
        scores /= scores.sum(1, keepdims=True)
        best = scores.argmax(1)
        return [(self.classes[b], float(scores[i, b])) for i, b in enumerate(best.tolist())]

    def _score_chunk(self, datas: list[bytes], lengths: Any, scores: Any, rows: Any) -> None:
        np = self._np
        width = int(lengths.max()) if len(lengths) else 0
        if width == 0:
            return
        grid = np.zeros((len(datas), width), dtype=np.int64)
        for r, data in enumerate(datas):
            grid[r, : len(data)] = np.frombuffer(data, dtype=np.uint8)
        state = np.zeros(len(datas), dtype=np.int64)
        visited = np.empty((len(datas), width), dtype=np.int32)
        nextmove, rowbase, output = self._nextmove, self._rowbase, self._output
        for column in range(width):
            state = nextmove[rowbase[state] + grid[:, column]]
            visited[:, column] = output[state]
        visited[np.arange(width)[None, :] >= lengths[:, None]] = -1
        which, _ = np.nonzero(visited >= 0)
        features = visited[visited >= 0]
        if not len(features):
            return
        key = which.astype(np.int64) * len(self._table) + features
        unique, counts = np.unique(key, return_counts=True)
        text = unique // len(self._table)
        contribution = (
            np.log1p(counts.astype(np.float32))[:, None] * self._table[unique % len(self._table)]
        )
        starts = np.flatnonzero(np.r_[True, text[1:] != text[:-1]])
        summed = np.zeros((len(datas), len(self.classes)), dtype=np.float32)
        summed[text[starts]] = np.add.reduceat(contribution, starts, axis=0) + self._prior
        scores[rows] = summed


@cache
def _identifier() -> Any:
    """py3langid's shipped model, restricted to our candidates (loaded once)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_CANDIDATES))
    return identifier


@cache
def _batch_identifier() -> _BatchIdentifier | None:
    """The numpy batch walk over the same model; None if py3langid's internals changed."""
    identifier = _identifier()
    try:
        if getattr(identifier, "_alias_pairs", ()):
            return None
        return _BatchIdentifier(identifier)
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - another py3langid
        return None


def _head(text: str) -> str | None:
    """The part of ``text`` the model reads, or None when it is too short to tell."""
    head = text[:MAX_CHARS]
    if len(head) < _CHECK_LETTERS_BELOW and sum(map(str.isalpha, head)) < MIN_LETTERS:
        return None
    return head


def _decide(code: str, confidence: float) -> Language:
    confidence = float(confidence)
    if confidence != confidence or confidence < MIN_CONFIDENCE:  # NaN or unsure
        return Language(UNDETERMINED, 0.0 if confidence != confidence else confidence)
    return Language(str(code), round(confidence, 4))


def detect_language(text: str) -> Language:
    """The language of ``text``; ``Language("und", 0.0)`` when it cannot be told."""
    head = _head(text)
    if head is None:
        return Language(UNDETERMINED, 0.0)
    return _decide(*_identifier().classify(head))


def detect_languages(texts: Sequence[str]) -> list[Language]:
    """:func:`detect_language` of each text, the same answers, several times faster per text.

    The automaton walk runs over all texts at once (see :class:`_BatchIdentifier`).
    """
    heads = [_head(text) for text in texts]
    batch = _batch_identifier()
    asked = [head for head in heads if head is not None]
    if batch is None:
        answers = [_identifier().classify(head) for head in asked]
    else:
        answers = batch.classify_many(asked)
    found = iter(answers)
    return [
        Language(UNDETERMINED, 0.0) if head is None else _decide(*next(found)) for head in heads
    ]
