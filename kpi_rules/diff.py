"""What a playbook change does to the scores (``kpi-rules diff``): the files at a git revision against the working tree.

The revision's tree is written to a temporary folder with ``git archive`` (git itself, run as a subprocess;
nothing in the repository changes), and the same client files are compiled and scored there and here by the
pipeline. Files the run reads that git does not track (data kept out of git) are the working tree's in both
runs. The report: the rules that changed (KPIs added or removed, formulas, targets, goals; per playbook and
per client file) and, per client and period, every KPI whose value or status changed.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.model import ClientGroupDef, PlaybookDef, TargetDef


@dataclass(frozen=True)
class RuleChange:
    file: str  # the playbook or client file, relative to the repository
    kind: str  # kpi added, kpi removed, formula, target, goal
    item: str  # the KPI's or goal's id
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ScoreChange:
    client: str
    period: str  # 2026-10, 2026-Q4, 2026-W42, a day, a range
    kpi: str
    unit: str
    currency: str | None
    before_value: float | None
    after_value: float | None
    before_status: str | None  # None: not scored at the revision (the KPI or the period is new)
    after_status: str | None  # None: no longer scored


@dataclass(frozen=True)
class DiffReport:
    rev: str
    rules: tuple[RuleChange, ...]
    scores: tuple[ScoreChange, ...]
    untracked: tuple[str, ...]  # files read from the working tree in both runs


def diff_revision(paths: list[Path], rev: str, period: str = "all") -> DiffReport:
    from kpi_rules.pipeline import compile_clients, score

    top = _toplevel(paths)
    _check_revision(top, rev)
    now = compile_clients(paths)
    with tempfile.TemporaryDirectory(prefix="kpi-rules-diff-") as folder:
        tree = Path(folder)
        _archive(top, rev, tree)
        untracked = _copy_untracked(top, tree, _data_read(now))
        relative = [tree / path.resolve().relative_to(top) for path in paths]
        present = [path for path in relative if path.exists()]
        try:
            before = compile_clients(present) if present else []
            before_results = score(before, period) if before else None
        except InputError as error:
            raise InputError([_at_revision(d, tree, top, rev) for d in error.diagnostics]) from None
        rules = _rule_changes(before, now, tree, top)
    after_results = score(now, period)
    errors = [d for d in after_results.problems if d.is_error]
    if errors:
        raise InputError(errors)
    return DiffReport(rev, tuple(rules), tuple(_score_changes(before_results, after_results)), tuple(untracked))


def _git(top: Path | None, *args: str):
    try:
        return subprocess.run(["git", *args], cwd=top, capture_output=True, check=False, text=True)
    except FileNotFoundError:
        raise InputError([Diagnostic("--rev", None, None, "KR620", "git is not installed: diff reads the revision with git")]) from None


def _toplevel(paths: list[Path]) -> Path:
    """The repository that holds every path."""
    tops = set()
    for path in paths:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        done = _git(folder if folder.is_dir() else None, "rev-parse", "--show-toplevel")
        if done.returncode != 0:
            raise InputError([Diagnostic(str(path), None, None, "KR620", "not in a git repository: diff compares the files with a git revision")])
        tops.add(Path(done.stdout.strip()).resolve())
    if len(tops) > 1:
        raise InputError([Diagnostic(" ".join(map(str, paths)), None, None, "KR620", "the paths are in different git repositories: diff one at a time")])
    return tops.pop()


def _check_revision(top: Path, rev: str) -> None:
    if rev.startswith("-") or _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise InputError([Diagnostic("--rev", None, None, "KR620", f'unknown revision "{rev}": name a branch, tag or commit')])


def _archive(top: Path, rev: str, folder: Path) -> None:
    """The revision's tree written into ``folder``, streamed from git (a repository's data need not fit in memory)."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(["git", "archive", "--format=tar", rev], cwd=top, stdout=subprocess.PIPE, stderr=errors)
        try:
            # "data": no absolute paths, links out of the folder or device files, whatever the archive holds.
            with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
                archive.extractall(folder, filter="data")
        except tarfile.TarError:
            pass  # git's own message says why, below
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip().splitlines()
            raise InputError([Diagnostic("--rev", None, None, "KR620", f"git archive {rev} failed: {message[0] if message else code}")])


def _data_read(groups: list[ClientGroupDef]) -> set[Path]:
    """The data files of the run (client files and playbooks not in git are new: they are not copied)."""
    files = set()
    for group in groups:
        files.update(Path(source.path).resolve() for source in group.template.sources)
        files.update(Path(source.path).resolve() for _, sources in group.template.competitors for source in sources)
    return files


def _copy_untracked(top: Path, tree: Path, files: set[Path]) -> list[str]:
    """Data files in the repository's folder that git does not track (kept out of it): the same in both runs."""
    tracked = {top / name for name in _git(top, "ls-files", "-z").stdout.split("\0") if name}
    copied = []
    for path in sorted(files):
        if path.is_relative_to(top) and path not in tracked and path.is_file():
            target = tree / path.relative_to(top)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                copied.append(path.relative_to(top).as_posix())
    return copied


def _at_revision(diagnostic: Diagnostic, tree: Path, top: Path, rev: str) -> Diagnostic:
    """A problem of the revision's files, named as git names them (main:examples/playbook.yaml)."""
    prefix = str(tree) + "/"
    return replace(diagnostic, path=diagnostic.path.replace(prefix, f"{rev}:"), message=diagnostic.message.replace(prefix, f"{rev}:"))


def _shown(path: str, root: Path) -> str:
    resolved = Path(path).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path


def _rule_changes(before: list[ClientGroupDef], after: list[ClientGroupDef], tree: Path, top: Path) -> list[RuleChange]:
    old = {_shown(group.path, tree.resolve()): group for group in before}
    new = {_shown(group.path, top): group for group in after}
    changes: list[RuleChange] = []
    compared: set[str] = set()
    for name, group in new.items():
        was = old.get(name)
        if was is None:
            changes.append(RuleChange(name, "client file added", name, None, "new"))
            continue
        playbook = _shown(group.playbook.path, top)
        if playbook not in compared:
            compared.add(playbook)
            changes += _playbook_changes(playbook, was.playbook, group.playbook)
        changes += _client_changes(name, was, group)
    changes += [RuleChange(name, "client file removed", name, "was there", None) for name in old if name not in new]
    return changes


def _playbook_changes(name: str, before: PlaybookDef, after: PlaybookDef) -> list[RuleChange]:
    changes = [RuleChange(name, "kpi added", kpi, None, after.kpis[kpi].formula.text) for kpi in after.kpis if kpi not in before.kpis]
    changes += [RuleChange(name, "kpi removed", kpi, before.kpis[kpi].formula.text, None) for kpi in before.kpis if kpi not in after.kpis]
    for kpi in after.kpis:
        if kpi in before.kpis:
            was, now = before.kpis[kpi], after.kpis[kpi]
            if was.formula.text != now.formula.text:
                changes.append(RuleChange(name, "formula", kpi, was.formula.text, now.formula.text))
            if (was.better, was.unit) != (now.better, now.unit):
                changes.append(RuleChange(name, "direction or unit", kpi, f"{was.better}, {was.unit}", f"{now.better}, {now.unit}"))
    changes += _target_changes(name, before.targets, after.targets)
    for goal in dict.fromkeys([*before.goals, *after.goals]):
        was = before.goals[goal].kpis if goal in before.goals else None
        now = after.goals[goal].kpis if goal in after.goals else None
        if was != now:
            changes.append(RuleChange(name, "goal", goal, ", ".join(was) if was else None, ", ".join(now) if now else None))
    return changes


def _client_changes(name: str, before: ClientGroupDef, after: ClientGroupDef) -> list[RuleChange]:
    """Goals and the targets agreed in the client file itself (a playbook's change is listed with the playbook)."""
    changes = []
    if before.template.goals != after.template.goals:
        changes.append(RuleChange(name, "goals", "goals", ", ".join(before.template.goals), ", ".join(after.template.goals)))
    own_before = {k: t for k, t in before.template.targets.items() if before.playbook.targets.get(k) != t}
    own_after = {k: t for k, t in after.template.targets.items() if after.playbook.targets.get(k) != t}
    changes += _target_changes(name, own_before, own_after)
    for client in dict.fromkeys([*before.overrides, *after.overrides]):
        was, now = before.overrides.get(client), after.overrides.get(client)
        targets = _target_changes(name, was.targets if was else {}, now.targets if now else {})
        changes += [replace(change, item=f"{change.item} for {client}") for change in targets]
    return changes


def _target_changes(name: str, before, after) -> list[RuleChange]:
    return [
        RuleChange(name, "target", kpi, target_text(before.get(kpi)), target_text(after.get(kpi)))
        for kpi in dict.fromkeys([*before, *after])
        if before.get(kpi) != after.get(kpi)
    ]


def target_text(target: TargetDef | None) -> str | None:
    """A target as written: target 3, warn 1.5; min 1.5, max 4; a plan; vs baseline +10%."""
    if target is None:
        return None
    if target.plan:
        return "plan " + ", ".join(f"{point.start}: {point.value:g}" for point in target.plan)
    if target.line:
        return f"line {target.line[0].start}: {target.line[0].value:g} to {target.line[1].start}: {target.line[1].value:g}"
    if target.vs:
        return f"vs {target.vs} {target.change}" + (f", warn {target.warn_change}" if target.warn_change else "")
    return ", ".join(f"{key} {value:g}" for key, value in target.as_dict().items())


def _score_changes(before, after) -> list[ScoreChange]:
    old = _kpis_by_card(before) if before is not None else {}
    new = _kpis_by_card(after)
    changes = []
    for key in dict.fromkeys([*new, *old]):
        was, now = old.get(key, {}), new.get(key, {})
        for kpi in dict.fromkeys([*now, *was]):
            a, b = was.get(kpi), now.get(kpi)
            if a is not None and b is not None and a.status == b.status and _same(a.value, b.value):
                continue
            shown = b or a
            changes.append(
                ScoreChange(
                    key[0], key[2], kpi, shown.unit, key[3],
                    a.value if a else None, b.value if b else None, a.status if a else None, b.status if b else None,
                )
            )
    return changes


def _kpis_by_card(results) -> dict[tuple, dict]:
    from kpi_rules.render.junit import period_name

    found = {}
    for card in results:
        period = period_name({"grain": card.grain, "period_start": card.start, "period_end": card.end})
        found[(card.client, card.grain, period, card.currency)] = {kpi.id: kpi for kpi in card.kpis}
    return found


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
