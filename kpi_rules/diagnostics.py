"""User-facing problems: one record type, stable codes, one text format.

Every problem in a user's files (YAML, schema, formulas, data) becomes a
``Diagnostic`` printed as ``path:line:col: error KR104 message`` (yamllint's
parsable format). Stages collect them and raise ``InputError`` once, so the
user sees every problem of a stage in one run.
"""

from __future__ import annotations

from dataclasses import dataclass

# Stable codes: tests, docs and users' CI greps rely on them. Never renumber.
CODES: dict[str, str] = {
    "KR001": "file not found or unreadable",
    "KR002": "YAML syntax error",
    "KR003": "duplicate key in a YAML mapping",
    "KR004": "a playbook given where a client file was expected",
    "KR005": "output would overwrite an input of the run",
    "KR006": "YAML file over a limit: size, depth or aliases",
    "KR101": "schema: unknown key",
    "KR102": "schema: missing required key",
    "KR103": "schema: wrong type or value",
    "KR201": "unknown name in a formula",
    "KR202": "formula syntax error",
    "KR203": "construct not allowed in a formula",
    "KR204": "KPI dependency cycle",
    "KR205": "unknown KPI, goal or metric referenced",
    "KR206": "target does not fit the KPI",
    "KR207": "extends: unknown or circular playbook",
    "KR208": "formula over a limit: length, nesting depth or number of parts",
    "KR209": "number out of range in a formula: not finite or not real",
    "KR210": "unknown export preset",
    "KR211": "unknown time zone",
    "KR212": "a planned target that does not fit the client's periods",
    "KR213": "a relative target without its reference (baseline, competitor) or against its KPI's direction",
    "KR214": "a waiver that is not a date or waives nothing scored",
    "KR215": "a baseline that is not a period of the client's grain",
    "KR216": "a report logo that cannot be embedded",
    "KR217": "a database source written wrong",
    "KR301": "data file cannot be read",
    "KR302": "data cell is not a number",
    "KR303": "data cell is not a date",
    "KR304": "data column missing",
    "KR305": "no data for the client",
    "KR306": "two data columns for one date, client or channel",
    "KR307": "money in another currency than the client's",
    "KR308": "a metric declared absent that the playbook does not have",
    "KR309": "the database cannot be reached or queried",
    "KR401": "bad command-line value",
    "KR402": "too many scorecards for one HTML page",
    "KR403": "no browser to print a PDF",
    "KR410": "a file that would be overwritten (init never overwrites)",
    "KR411": "nothing to forecast: no cost per result the test period can price",
    "KR501": "warning: a total row of an export skipped",
    "KR502": "warning: a stock or unique count on a row that crosses a period's boundary left out",
    "KR503": "warning: a data row ends before it starts",
    "KR504": "warning: a CSV line with fewer fields than the header",
    "KR505": "warning: a metric a data source declares absent counted as 0",
    "KR510": "warning: a target for a KPI the client's goals do not score",
    "KR520": "warning: a count or an amount (a flow) below 0 on a row",
    "KR521": "warning: a stock with two different values on the day it is read from",
    "KR522": "warning: days without rows between a client's first and last period",
    "KR523": "warning: a stock changing by more than 50% from one period to the next",
    "KR524": "warning: followers rising in a period with no new followers",
    "KR610": "a playbook test that cannot be scored: its period holds several periods of the grain",
    "KR620": "diff: not a git repository, an unknown revision, or git failing",
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int | None
    column: int | None
    code: str
    message: str
    level: str = "error"  # or "warning": printed and counted, an error only with --strict

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.level} {self.code} {self.message}"

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def as_warning(self) -> Diagnostic:
        return Diagnostic(self.path, self.line, self.column, self.code, self.message, "warning")


class InputError(Exception):
    """Invalid input: files, formulas, data or options. Exit code 2."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = tuple(sorted(set(diagnostics), key=_reading_order))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def _reading_order(diagnostic: Diagnostic) -> tuple:
    return (diagnostic.path, diagnostic.line or 0, diagnostic.column or 0, diagnostic.code, diagnostic.message)


MAX_OF_A_KIND = 100  # diagnostics of one code printed per file: 20,000 unknown targets are one mistake to fix
SUGGESTION_BUDGET = 200_000  # name-to-candidate comparisons one set of candidates spends on did-you-mean hints


class Suggestions:
    """Did-you-mean hints against one set of candidates, prepared once, for the first names only: each
    hint compares the name with every candidate (20,000 unknown names against 20,000 KPIs took hours)."""

    def __init__(self, candidates) -> None:
        # Compared in lower case: "ER" or "Leads" should find "er" and "leads".
        self._by_lower = {candidate.lower(): candidate for candidate in sorted(candidates, reverse=True)}
        self._choices = list(self._by_lower)
        self._left = min(MAX_OF_A_KIND, SUGGESTION_BUDGET // max(1, len(self._choices)))

    def __call__(self, name: str) -> str:
        """A ' (did you mean "x"?)' suffix when a close candidate exists, else ''."""
        import difflib

        if not self._left:
            return ""
        self._left -= 1
        close = difflib.get_close_matches(name.lower(), self._choices, n=1, cutoff=0.6)
        return f' (did you mean "{self._by_lower[close[0]]}"?)' if close else ""


def did_you_mean(name: str, candidates) -> str:
    """A ' (did you mean "x"?)' suffix when a close candidate exists, else ''."""
    return Suggestions(candidates)(name)
