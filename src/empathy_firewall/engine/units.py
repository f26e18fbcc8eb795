"""Times in plain words for customers, in their language: "about 3 hours", "unas 3 horas".

Used by the ``duration`` and ``hours`` template filters. A language without words here
falls back to English; the default pack only writes drafts in languages listed here.
"""

from __future__ import annotations

import math

__all__ = ["duration_words", "hours_words"]

# (one minute, N minutes, about one hour, about N hours, more than a day, N days)
_DURATION: dict[str, tuple[str, str, str, str, str, str]] = {
    "en": ("1 minute", "{n} minutes", "about an hour", "about {n} hours", "more than a day",
           "{n} days"),
    "es": ("1 minuto", "{n} minutos", "cerca de una hora", "unas {n} horas", "más de un día",
           "{n} días"),
    "de": ("1 Minute", "{n} Minuten", "etwa eine Stunde", "etwa {n} Stunden",
           "mehr als einen Tag", "{n} Tage"),
    "fr": ("1 minute", "{n} minutes", "environ une heure", "environ {n} heures",
           "plus d'une journée", "{n} jours"),
    "pt": ("1 minuto", "{n} minutos", "cerca de uma hora", "cerca de {n} horas",
           "mais de um dia", "{n} dias"),
    "it": ("1 minuto", "{n} minuti", "circa un'ora", "circa {n} ore", "più di un giorno",
           "{n} giorni"),
}  # fmt: skip
# (one hour, N hours), as used after "within" ("innerhalb von einer Stunde")
_HOURS: dict[str, tuple[str, str]] = {
    "en": ("an hour", "{n} hours"),
    "es": ("una hora", "{n} horas"),
    "de": ("einer Stunde", "{n} Stunden"),
    "fr": ("une heure", "{n} heures"),
    "pt": ("uma hora", "{n} horas"),
    "it": ("un'ora", "{n} ore"),
}
_UNKNOWN = {
    "en": "some time",
    "es": "un tiempo",
    "de": "einige Zeit",
    "fr": "un certain temps",
    "pt": "algum tempo",
    "it": "un po' di tempo",
}


def _number(value: object) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return None
    return float(value)


def duration_words(value: object, language: str = "en") -> str:
    """Minutes as a customer would say them: ``40 minutes``, ``about 3 hours``, ``2 days``."""
    lang = language if language in _DURATION else "en"
    minutes_f = _number(value)
    if minutes_f is None:
        return _UNKNOWN[lang]
    one_min, mins, one_hour, hours, day, days = _DURATION[lang]
    minutes = max(0, round(minutes_f))
    if minutes < 60:
        return one_min if minutes == 1 else mins.format(n=minutes)
    hour_count = minutes / 60
    if hour_count < 23.5:
        rounded = round(hour_count)
        return one_hour if rounded == 1 else hours.format(n=rounded)
    day_count = hour_count / 24
    if day_count < 1.5:
        return day
    return days.format(n=round(day_count))


def hours_words(value: object, language: str = "en") -> str:
    """A whole number of hours (at least 1), as said after "within": ``an hour``,
    ``3 Stunden``."""
    lang = language if language in _HOURS else "en"
    count = _number(value)
    rounded = max(1, round(count)) if count is not None else 1
    one, many = _HOURS[lang]
    return one if rounded == 1 else many.format(n=rounded)
