"""The report's words in the reader's language: gettext catalogues (kpi_rules/locale/<lang>/LC_MESSAGES/kpi_rules.po).

Messages are English text with ``{placeholders}``; ``translate("Summary", "ru")`` gives the Russian entry
(English when a language or an entry is missing). The .po files are read with Babel when a language other
than English is first asked for, so no compiled .mo is kept and English runs never import Babel.

The engine explains a missing value in English ("leads is 0: the ratio is undefined"); ``translate_reason``
matches such a text against the templates in REASONS and translates it with its parts kept. A text no template
matches stays English.

Every message is written in the code as a literal: ``translate("...", lang)`` or, where it is only named,
``N_("...")``; tests/test_i18n.py finds them all and requires a ru and a pl entry for each.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

LANGUAGES = ("en", "ru", "pl")
DOMAIN = "kpi_rules"


def N_(message: str) -> str:
    """Marks a message that is translated later (gettext's convention): the message itself."""
    return message


def language(lang: str | None) -> str:
    """The report language for ``lang``: one of LANGUAGES (en for anything else: labels may still be in it)."""
    lang = (lang or "en").lower()
    return lang if lang in LANGUAGES else "en"


def translate(message: str, lang: str | None, **values: object) -> str:
    """``message`` in ``lang``, with ``values`` put in its placeholders."""
    lang = language(lang)
    text = message if lang == "en" else catalogue(lang).get(message) or message
    return text.format(**values) if values else text


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> msgstr of the language's .po file (untranslated and fuzzy entries left out)."""
    from babel.messages.pofile import read_po

    path = resources.files("kpi_rules").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")
    with path.open("rb") as stream:
        messages = read_po(stream, locale=lang, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in messages if m.id and m.string and not m.fuzzy}


# The English texts the engine writes as a reason for no data (evaluate, thresholds, aggregate) or as a note,
# most specific first: "no value of {vs} for this period" before "no {name} for this period".
REASONS = (
    N_("waived until {date}: {reason}"),
    N_("waiver until {date} expired: {reason}"),
    N_("{formula} is 0: the ratio is undefined"),
    N_("{formula} is unknown: no data in the baseline period"),
    N_("{formula} is unknown: no data for the period before"),
    N_("{formula} is unknown: no data {count} periods before, or for a period in between"),
    N_("no baseline: the client file sets none (baseline:)"),
    N_("no baseline value: the baseline period has no data for it"),
    N_("no previous period: the data has no value for the period before"),
    N_("no competitor has a value for this period"),
    N_("no data row in this period gives a value (inputs missing or a denominator 0)"),
    N_("the value is not finite (an overflow, an infinite input or the root of a negative number)"),
    N_("no value of {reference} for this period"),
    N_("no {metric} data in this period"),
    N_('the data has no "{metric}" column'),
    N_("no {name} for this period"),
    N_("{metric} counts unique people and cannot be summed from {count} rows (days, posts or channels): supply it once per {period}, for several channels on one row with an empty channel cell"),
    N_("{metric} is not dated at the start of the {period}: supply it once per {period}"),
)
# Placeholder values that are words of ours rather than the user's: translated too.
WORDS = {"period": {"day": N_("day"), "week": N_("week"), "month": N_("month"), "quarter": N_("quarter"), "year": N_("year")}}


@lru_cache(maxsize=None)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each template as a regular expression with a named group per placeholder (a repeated one back-referenced)."""
    compiled = []
    for template in REASONS:
        seen: set[str] = set()
        parts = []
        for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
            parts.append(re.escape(literal))
            if name:
                parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
                seen.add(name)
        compiled.append((re.compile("".join(parts), re.DOTALL), template))
    return tuple(compiled)


def translate_reason(text: str | None, lang: str | None) -> str:
    """An engine's English reason or note in ``lang``: matched against REASONS, its parts kept; else as it is."""
    if not text or language(lang) == "en":
        return text or ""
    for pattern, template in _patterns():
        match = pattern.fullmatch(text)
        if match:
            values = {name: translate(WORDS[name][value], lang) if value in WORDS.get(name, {}) else value for name, value in match.groupdict().items()}
            return translate(template, lang, **values)
    return text
