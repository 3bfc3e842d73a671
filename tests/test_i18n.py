"""Report text in Russian and Polish: complete catalogues, the engine's reasons translated, numbers by Babel."""

import ast
import datetime as dt
import io
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

import kpi_rules
from kpi_rules.i18n import LANGUAGES, REASONS, catalogue, language, translate, translate_reason
from kpi_rules.render import make_console
from kpi_rules.render.formatting import (
    format_change,
    format_date,
    format_gap,
    format_kpi_target,
    format_value,
    format_weight,
    money,
    percent,
)
from kpi_rules.render.markdown import render_markdown_scorecards
from kpi_rules.render.table import render_table
from kpi_rules.results import GoalResult, KpiResult, Scorecard

PACKAGE = Path(kpi_rules.__file__).parent
NBSP = "\xa0"


def used_messages() -> dict[str, str]:
    """Every message the code names: the literal first argument of translate(...) or N_(...), with where it is."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            argument = node.args[0]
            if name in ("translate", "N_") and isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.setdefault(argument.value, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_messages_of_every_renderer():
    messages = used_messages()
    assert {"Summary: {counts}", "no data", "pp", "baseline", "Gap / note", "{formula} is 0: the ratio is undefined"} <= set(messages)
    assert set(REASONS) <= set(messages)


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_every_message_used_has_a_translation_that_differs_from_the_english(lang):
    entries = catalogue(lang)
    missing = {message: where for message, where in used_messages().items() if message not in entries}
    assert not missing, f"no {lang} entry in kpi_rules/locale/{lang}/LC_MESSAGES/kpi_rules.po for: {missing}"
    same = [message for message in used_messages() if entries[message] == message]
    assert not same, f"{lang} entries equal to the English: {same}"


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_translations_keep_their_placeholders_and_no_entry_is_left_over(lang):
    entries = catalogue(lang)
    for message, text in entries.items():
        # A translation may drop a repeated placeholder's second use, never add one or lose one.
        assert placeholders(text) == placeholders(message), (lang, message, text)
    assert set(entries) <= set(used_messages()), f"{lang} entries no code uses: {set(entries) - set(used_messages())}"


def test_unknown_languages_and_messages_stay_english():
    assert language("RU") == "ru"
    assert language("de") == language(None) == "en"
    assert translate("Summary: {counts}", "de", counts="1 pass") == "Summary: 1 pass"
    assert translate("a message no catalogue has", "ru") == "a message no catalogue has"


@pytest.mark.parametrize("reason, lang, text", [
    ("leads is 0: the ratio is undefined", "ru", "leads равно 0: отношение не определено"),
    ("leads is 0: the ratio is undefined", "pl", "leads wynosi 0: iloraz jest nieokreślony"),
    ("no spend data in this period", "ru", "нет данных spend за этот период"),
    ("no previous period: the data has no value for the period before", "pl", "brak poprzedniego okresu: dane nie mają wartości za poprzedni okres"),
    ("waived until 2026-11-30: rebrand: new logo", "ru", "цель отложена до 2026-11-30: rebrand: new logo"),
    ("no value of Rival Cafe for this period", "ru", "нет значения Rival Cafe за этот период"),
    ('the data has no "reach" column', "pl", 'dane nie mają kolumny "reach"'),
    ("previous(er) is unknown: no data 3 periods before, or for a period in between", "ru",
     "previous(er) неизвестно: нет данных за период 3 назад или за период между ними"),
    (("reach counts unique people and cannot be summed from 3 rows (days, posts or channels): supply it once per month, "
      "for several channels on one row with an empty channel cell"), "pl",
     ("reach liczy unikalne osoby i nie sumuje się z 3 wierszy (dni, posty lub kanały): podaj go raz na okres (miesiąc), "
      "dla kilku kanałów w jednym wierszu z pustą komórką kanału")),
    ("reach is not dated at the start of the week: supply it once per week", "ru",
     "reach не датирован началом периода (неделя): укажите его один раз за период"),
    ("a reason from a newer engine", "ru", "a reason from a newer engine"),
    ("leads is 0: the ratio is undefined", "en", "leads is 0: the ratio is undefined"),
    (None, "ru", ""),
])
def test_the_engines_reasons_are_translated_with_their_parts_kept(reason, lang, text):
    assert translate_reason(reason, lang) == text


def test_a_repeated_placeholder_must_repeat_its_value():
    # "once per {period}" twice: a text with two different words is not this template.
    odd = "reach is not dated at the start of the week: supply it once per month"
    assert translate_reason(odd, "ru") == odd


@pytest.mark.parametrize("value, unit, currency, lang, text", [
    (2008.78, "currency", "RUB", "ru", f"2{NBSP}008,78{NBSP}₽"),
    (1234.56, "currency", "PLN", "pl", f"1{NBSP}234,56{NBSP}zł"),
    (2008.78, "currency", "RUB", "en", "2,008.78 RUB"),
    (2008.78, "currency", "RUB", "pl", f"2{NBSP}008,78{NBSP}RUB"),
    (2008.78, "currency", None, "ru", f"2{NBSP}008,78"),
    (3.5, "%", None, "ru", f"3,50{NBSP}%"),
    (3.5, "%", None, "pl", "3,50%"),
    (3.5, "%", None, "en", "3.50%"),
    (12345.0, "count", None, "ru", f"12{NBSP}345"),
    (12.5, "count", None, "pl", "12,5"),
    (2.5, "x", None, "ru", "2,50×"),
    (-1234.5, "ratio", None, "pl", f"-1{NBSP}234,50"),
    (0.5, "pp", None, "ru", "0,50 п. п."),
    (0.5, "pp", None, "pl", "0,50 p.p."),
    (0.5, "pp", None, "en", "0.50 pp"),
    (None, "%", None, "ru", "—"),
])
def test_values_by_the_languages_conventions(value, unit, currency, lang, text):
    assert format_value(value, unit, currency, lang) == text


def test_percentages_changes_gaps_dates_and_weights():
    assert percent(3.5, 1, "ru") == f"3,5{NBSP}%"
    assert format_change(0.1, "ru") == f"+10,0{NBSP}%"
    assert format_change(-0.054, "pl") == "-5,4%"
    assert format_change(0.1) == "+10.0%"
    assert format_gap(0.81, "%", None, "ru") == "+0,81 п. п."
    assert format_gap(-120.0, "currency", "RUB", "ru") == f"-120,00{NBSP}₽"
    assert format_date(dt.date(2026, 10, 1), "ru") == "01.10.2026"
    assert format_date(dt.date(2026, 10, 1), "pl") == "1.10.2026"
    assert format_date(dt.date(2026, 10, 1)) == "2026-10-01"
    assert format_weight(1.5, "ru") == "1,5"
    assert format_weight(2.0, "pl") == "2"
    assert money(1234.56, "EUR", "de") == "1,234.56 EUR"  # a language without a catalogue is written as English


def test_targets_in_words_of_the_language():
    kpi = KpiResult("er", "ER", 3.0, "%", "higher", "pass", {"target": 3.3, "warn": 2.85}, 0.0, None,
                    vs="previous", reference=3.0, change_agreed="+10%")
    assert format_kpi_target(kpi, None, "ru") == f"≥ 3,30{NBSP}% (предыдущий период 3,00{NBSP}% +10%; внимание ≥ 2,85{NBSP}%)"
    assert format_kpi_target(kpi, None, "pl") == "≥ 3,30% (poprzedni okres 3,00% +10%; uwaga ≥ 2,85%)"
    band = KpiResult("er", "ER", 3.0, "%", "higher", "pass", {"min": 2.7, "max": 3.3}, 0.0, None, vs="baseline", reference=3.0)
    assert format_kpi_target(band, None, "pl") == "2,70% – 3,30% (porównanie: baza 3,00%)"


def scorecard(lang: str) -> Scorecard:
    kpis = (
        KpiResult("er", "ER", 3.81, "%", "higher", "pass", {"target": 3.0, "warn": 1.5}, 0.81, None, change=0.025,
                  history=(3.5, 3.6, 3.81)),
        KpiResult("cpl", "CPL", 2008.78, "currency", "lower", "fail", {"target": 1500.0}, 508.78, None, change=-0.1),
        KpiResult("cr", "CR", None, "%", "higher", "no_data", {"target": 2.0}, None, "leads is 0: the ratio is undefined"),
        KpiResult("reach", "Reach", 12345.0, "count", "higher", "waived", {"target": 20000.0}, None, "waived until 2026-11-30: rebrand"),
        KpiResult("sales", "Sales", 40.0, "count", "higher", "info", None, None, None, estimated=True, projected=80.0),
    )
    goals = (GoalResult("growth", "Growth", ("er", "cpl", "cr"), "fail", 50.0, 1.5), GoalResult("sales", "Sales", ("reach", "sales"), "info"))
    return Scorecard("Coffee House", "Northwind", "RUB", "month", dt.date(2026, 11, 1), dt.date(2026, 11, 30), 30, 15, False,
                     goals, kpis, score=50.0, days_elapsed=15, lang=lang)


def rendered(cards: list[Scorecard]) -> str:
    stream = io.StringIO()
    console = make_console(stream, to_file=True)
    console.width = 120
    render_table(cards, console)
    return "\n".join(line.rstrip() for line in stream.getvalue().replace(NBSP, " ").splitlines())


RUSSIAN = """\
Coffee House · 2026-11 · ✘ провал · Балл 50/100
Northwind · 01.11.2026 – 30.11.2026
⚠ период не закончен (15 из 30 дн.): проверен по темпу
Growth  ✘ провал  балл 50 (вес 1,5)
┏━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Показатель ┃   Значение ┃ Цель                         ┃ Статус       ┃   Динамика ┃ Отклонение / примечание         ┃
┡━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ ER         │     3,81 % │ ≥ 3,00 % (внимание ≥ 1,50 %) │ ✔ выполнен   │ ▁▃█ +2,5 % │ +0,81 п. п.                     │
│ CPL        │ 2 008,78 ₽ │ ≤ 1 500,00 ₽                 │ ✘ провал     │    -10,0 % │ +508,78 ₽                       │
│ CR         │          — │ ≥ 2,00 %                     │ ? нет данных │          — │ leads равно 0: отношение не     │
│            │            │                              │              │            │ определено                      │
└────────────┴────────────┴──────────────────────────────┴──────────────┴────────────┴─────────────────────────────────┘
Sales  · справочно
┏━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Показатель ┃  Значение ┃ Цель     ┃ Статус      ┃ Динамика ┃ Отклонение / примечание                          ┃
┡━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ Reach      │    12 345 │ ≥ 20 000 │ ~ отложен   │        — │ цель отложена до 2026-11-30: rebrand             │
│ Sales      │ ≈ 40 → 80 │          │ · справочно │        — │ оценка: строка данных разделена по дням; прогноз │
└────────────┴───────────┴──────────┴─────────────┴──────────┴──────────────────────────────────────────────────┘
Итого: выполнен: 1 · внимание: 0 · провал: 1 · нет данных: 1 · справочно: 1 · отложен: 1

"""

POLISH = """\
Coffee House · 2026-11 · ✘ niespełniony · Wynik 50/100
Northwind · 1.11.2026 – 30.11.2026
⚠ okres się nie skończył (15 z 30 dni): sprawdzony według tempa
Growth  ✘ niespełniony  wynik 50 (waga 1,5)
┏━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Wskaźnik ┃      Wartość ┃ Cel                     ┃ Stan           ┃ Tendencja ┃ Odchylenie / uwagi                  ┃
┡━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ ER       │        3,81% │ ≥ 3,00% (uwaga ≥ 1,50%) │ ✔ spełniony    │ ▁▃█ +2,5% │ +0,81 p.p.                          │
│ CPL      │ 2 008,78 RUB │ ≤ 1 500,00 RUB          │ ✘ niespełniony │    -10,0% │ +508,78 RUB                         │
│ CR       │            — │ ≥ 2,00%                 │ ? brak danych  │         — │ leads wynosi 0: iloraz jest         │
│          │              │                         │                │           │ nieokreślony                        │
└──────────┴──────────────┴─────────────────────────┴────────────────┴───────────┴─────────────────────────────────────┘
Sales  · informacyjnie
┏━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Wskaźnik ┃   Wartość ┃ Cel      ┃ Stan            ┃ Tendencja ┃ Odchylenie / uwagi                                  ┃
┡━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ Reach    │    12 345 │ ≥ 20 000 │ ~ zawieszony    │         — │ cel zawieszony do 2026-11-30: rebrand               │
│ Sales    │ ≈ 40 → 80 │          │ · informacyjnie │         — │ szacunek: wiersz danych podzielony na dni; prognoza │
└──────────┴───────────┴──────────┴─────────────────┴───────────┴─────────────────────────────────────────────────────┘
Podsumowanie: spełniony: 1 · uwaga: 0 · niespełniony: 1 · brak danych: 1 · informacyjnie: 1 · zawieszony: 1
"""


def test_a_russian_scorecard():
    assert rendered([scorecard("ru")]).strip() == RUSSIAN.strip()


def test_a_polish_scorecard():
    assert rendered([scorecard("pl")]).strip() == POLISH.strip()


def test_an_english_scorecard_keeps_its_words():
    text = rendered([scorecard("en")])
    assert "Summary: 1 pass · 0 warn · 1 fail · 1 no data · 1 info · 1 waived" in text
    assert "2,008.78 RUB" in text and "leads is 0: the ratio is undefined" in text and "+0.81 pp" in text


def test_markdown_in_the_scorecards_language():
    text = render_markdown_scorecards([scorecard("ru")]).replace(NBSP, " ")
    assert "## Coffee House · 2026-11 · ✘ провал · балл 50/100" in text
    assert "01.11.2026 – 30.11.2026. Период не закончен (15 из 30 дн.): проверен по темпу." in text
    assert "| Показатель | значение | цель | статус | изменение | отклонение / примечание |" in text
    assert "| CR | — | ≥ 2,00 % | ? нет данных | — | leads равно 0: отношение не определено |" in text


def test_an_overview_of_clients_of_different_languages_is_english():
    text = rendered([scorecard("ru"), scorecard("pl")])
    assert text.startswith("All clients")
    assert "Coffee House · 2026-11 · ✘ провал" in text and "Coffee House · 2026-11 · ✘ niespełniony" in text


def test_validate_and_version_do_not_import_babel():
    for args in (["validate", "examples/"], ["--version"]):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "kpi_rules", *args], capture_output=True, text=True, cwd=PACKAGE.parent)
        assert not re.search(r"\bbabel\b", run.stderr, re.IGNORECASE), args
