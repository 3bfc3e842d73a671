"""Numbers, money, percentages, changes, dates and targets as a report's reader writes them, per language.

English keeps the output kpi-rules has always had ("2,008.78 RUB", "3.81%", "+10.0%") and never imports
Babel; Russian and Polish take their conventions from Babel's CLDR data ("2 008,78 ₽", "1 234,56 zł",
"3,81 %" in Russian, "3,81%" in Polish, as CLDR has them). Babel is imported only when a non-English report is
rendered. Words (units such as "pp", "warn", "baseline") come from the message catalogue (kpi_rules.i18n).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache, partial

from kpi_rules.i18n import N_, language, translate
from kpi_rules.model import TargetDef

EMPTY = "—"
# What a relative target is measured against, as a reader says it; any other ``vs`` is a competitor's name.
VS_TEXT = {
    "baseline": N_("baseline"),
    "previous": N_("previous period"),
    "best_competitor": N_("best competitor"),
    "competitors_mean": N_("competitors' mean"),
}


def number(value: float, decimals: int, lang: str = "en") -> str:
    """``value`` with thousands separators and ``decimals`` decimals: "1,234.50" (en), "1 234,50" (ru, pl)."""
    lang = language(lang)
    if lang == "en":
        return f"{value:,.{decimals}f}"
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=lang)


def percent(value: float, decimals: int = 2, lang: str = "en", sign: bool = False) -> str:
    """A number that is already in percent (3.81 is 3.81 %), written with the language's percent pattern."""
    text = number(value, decimals, lang)
    if sign and value >= 0 and not text.startswith("-"):
        text = "+" + text
    return _percent_pattern(language(lang)).replace("#", text)


@lru_cache(maxsize=None)
def _percent_pattern(lang: str) -> str:
    """"#%" (en, pl) or "#\xa0%" (ru): where the number goes and what surrounds it."""
    if lang == "en":
        return "#%"
    from babel import Locale

    pattern = Locale.parse(lang).percent_formats[None].pattern.split(";")[0]
    return re.sub(r"[#0,.]+", "#", pattern, count=1).replace("%", Locale.parse(lang).number_symbols["latn"]["percentSign"])


def money(value: float, currency: str | None, lang: str = "en") -> str:
    """An amount: "2,008.78 RUB" (en), "2 008,78 ₽" (ru), "1 234,56 zł" (pl); without a currency, just the number."""
    lang = language(lang)
    if currency is None:
        return number(value, 2, lang)
    if lang == "en":
        return f"{value:,.2f} {currency}"
    from babel.numbers import UnknownCurrencyError, format_currency

    try:
        return format_currency(value, currency, locale=lang)
    except UnknownCurrencyError:  # pragma: no cover - the client file's currency is checked against ISO codes
        return f"{number(value, 2, lang)}\xa0{currency}"


def format_date(date: dt.date, lang: str = "en") -> str:
    """A day: ISO in English (2026-10-31), the language's short form otherwise (31.10.2026)."""
    lang = language(lang)
    if lang == "en":
        return date.isoformat()
    from babel.dates import format_date as babel_date

    return babel_date(date, "short", locale=lang)


def format_count(count: int, lang: str = "en") -> str:
    return number(count, 0, lang)


def format_weight(weight: float, lang: str = "en") -> str:
    """A goal's weight as written: 1.5, "1,5" in Russian and Polish."""
    if language(lang) == "en":
        return f"{weight:g}"
    from babel.numbers import format_decimal

    return format_decimal(weight, format="0.###", locale=language(lang))


def format_value(value: float | None, unit: str, currency: str | None, lang: str = "en") -> str:
    """A value with its unit: thousands separators and decimals that suit the unit."""
    if value is None:
        return EMPTY
    match unit:
        case "%":
            return percent(value, 2, lang)
        case "currency":
            return money(value, currency, lang)
        case "count":
            return number(value, 0 if float(value).is_integer() or abs(value) >= 100 else 1, lang)
        case "x":
            return f"{number(value, 2, lang)}×"
        case "ratio":
            return number(value, 2, lang)
    return f"{number(value, 2, lang)} {translate(unit, lang) if unit == 'pp' else unit}".rstrip()


def format_score(score: float | None) -> str:
    """A 0-100 score in whole points, halves up (62.5 is 63, as a client would round it)."""
    return EMPTY if score is None else str(math.floor(score + 0.5))


def format_change(change: float | None, lang: str = "en") -> str:
    """A relative change as a reader says it: 0.1 is "+10.0%" ("+10,0 %" in Russian)."""
    return EMPTY if change is None else percent(change * 100, 1, lang, sign=True)


def format_gap(gap: float | None, unit: str, currency: str | None, lang: str = "en") -> str:
    """Value minus target: "+0.81 pp" for a percentage, "-120.00 RUB" for money."""
    if gap is None:
        return ""
    text = format_value(gap, N_("pp") if unit == "%" else unit, currency, lang)
    return ("+" if gap > 0 else "") + text


def format_target(
    target: dict[str, float] | None, unit: str, better: str, currency: str | None, basis: str = "", lang: str = "en"
) -> str:
    """Thresholds as a reader says them: "≥ 3.00% (warn ≥ 1.50%)", "≤ 60.00 RUB", "1.50× – 4.00×";
    ``basis`` (what a relative target came from) goes first in the brackets: "≥ 3.30% (baseline 3.00% +10%)"."""
    show = partial(format_value, unit=unit, currency=currency, lang=lang)
    asides = [basis] if basis else []
    if not target:
        text = ""
    elif "target" in target:
        sign = "≥" if better == "higher" else "≤"
        text = f"{sign} {show(target['target'])}"
        if "warn" in target:
            asides.append(translate("warn {sign} {value}", lang, sign=sign, value=show(target["warn"])))
    elif "min" in target and "max" in target:
        text = f"{show(target['min'])} – {show(target['max'])}"
    else:
        text = f"≥ {show(target['min'])}" if "min" in target else f"≤ {show(target['max'])}"
    if not text:
        return basis
    return f"{text} ({'; '.join(asides)})" if asides else text


def vs_text(vs: str, lang: str = "en") -> str:
    """What a relative target is measured against: a reference's name, or the competitor's as written."""
    return translate(VS_TEXT[vs], lang) if vs in VS_TEXT else vs


def describe_target(target: TargetDef, unit: str, better: str, currency: str | None, lang: str = "en") -> str:
    """A target as it is defined, for references (no period at hand): fixed thresholds, a plan, a line or a change
    against a reference: "plan 4,800 (2026-09-01) … 5,600 (2026-11-01); warn -5%", "baseline +10% (warn +0%)"."""
    show = partial(format_value, unit=unit, currency=currency, lang=lang)
    if target.vs is not None:
        warn = f" ({translate('warn {change}', lang, change=target.warn_change)})" if target.warn_change else ""
        return f"{vs_text(target.vs, lang)} {target.change}{warn}"
    if not target.planned:
        return format_target(target.as_dict(), unit, better, currency, lang=lang)
    first, last = target.line or (target.plan[0], target.plan[-1])
    if target.warn_change:
        warn = "; " + translate("warn {change}", lang, change=target.warn_change)
    elif target.warn is not None:
        warn = "; " + translate("warn {change}", lang, change=show(target.warn))
    else:
        warn = ""
    kind = translate(N_("line") if target.line else N_("plan"), lang)
    return f"{kind} {show(first.value)} ({first.start}) … {show(last.value)} ({last.start}){warn}"


def format_kpi_target(kpi, currency: str | None, lang: str = "en") -> str:
    """The KPI's thresholds in the period and, for a relative target, what they came from."""
    return format_target(kpi.target, kpi.unit, kpi.better, currency, _basis(kpi, currency, lang), lang)


def _basis(kpi, currency: str | None, lang: str) -> str:
    """What a relative target is measured against: "baseline 3.00% +10%", or "vs baseline 3.00%" for a band."""
    if kpi.vs is None:
        return ""
    against = vs_text(kpi.vs, lang)
    if kpi.reference is None:
        return translate("no {reference} value", lang, reference=against)
    reference = format_value(kpi.reference, kpi.unit, currency, lang)
    if kpi.change_agreed:
        return f"{against} {reference} {kpi.change_agreed}"
    return translate("vs {reference} {value}", lang, reference=against, value=reference)


def period_label(grain: str, start: dt.date, end: dt.date | None = None) -> str:
    """A period as its ISO-like name (2026-10, 2026-W42, 2026-Q4): the same in every language."""
    match grain:
        case "range":
            return f"{start}..{end}"
        case "month":
            return start.strftime("%Y-%m")
        case "week":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        case "quarter":
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        case "year":
            return str(start.year)
    return start.isoformat()
