"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself on a temporary playbook repository:
a valid playbook passes, an invalid one fails with its diagnostic.

The playbook repository's .pre-commit-config.yaml names a snapshot of this project at one revision, as a user's
names a tag: pre-commit installs the hook's environment once (about 30 s) and both runs use it. (`pre-commit
try-repo` would do the same with a throw-away cache, installing again for every run.)"""

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

# pip's words when it cannot reach an index: the hook's environment cannot be installed here.
OFFLINE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable", "No matching distribution found")


def _git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory):
    """The project as it is now (uncommitted and new files too) committed in a repository of its own: one
    fixed revision, so pre-commit installs the hooks' environment once for every run."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and the project's git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    folder = tmp_path_factory.mktemp("hooks-repo")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "snapshot")
    return folder


@pytest.fixture
def environment(tmp_path_factory, monkeypatch):
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}.items():
        monkeypatch.setenv(name, value)
    # pre-commit's own cache, shared by the tests of the module and never the user's.
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path_factory.getbasetemp() / "pre-commit-home"))


def _run_hook(hooks_repo, playbooks, hook):
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks_repo, capture_output=True, text=True, check=True).stdout.strip()
    config = {"repos": [{"repo": str(hooks_repo), "rev": revision, "hooks": [{"id": hook}]}]}
    (playbooks / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _git(playbooks, "add", "-A")
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--color", "never"], cwd=playbooks, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    if result.returncode and "Installing environment" in output and any(word in output for word in OFFLINE):
        pytest.skip(f"pre-commit could not install the hook's environment: no package index reachable ({output.strip().splitlines()[-1]})")
    return result.returncode, output


def test_the_manifest_is_valid_for_pre_commit():
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert hooks["kpi-rules-validate"]["entry"] == "kpi-rules validate"
    assert hooks["kpi-rules-test"]["entry"] == "kpi-rules test"


def test_validate_hook_passes_then_fails_with_the_diagnostic(hooks_repo, environment, tmp_path):
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    _git(playbooks, "init", "-q")
    (playbooks / "clients").mkdir()
    (playbooks / "data").mkdir()
    shutil.copy(REPO / "examples" / "data" / "agency-daily.csv", playbooks / "data")
    shutil.copy(REPO / "examples" / "playbook.yaml", playbooks / "playbook.yaml")
    shutil.copy(REPO / "examples" / "northwind-logo.svg", playbooks / "northwind-logo.svg")
    # A client file too (its playbook and data are read); YAML in dot-folders and dot-files (this CI file, the
    # .pre-commit-config.yaml) is not a playbook and is left out.
    client = (REPO / "examples" / "clients" / "b2b-firm.yaml").read_text(encoding="utf-8")
    (playbooks / "clients" / "b2b-firm.yaml").write_text(client, encoding="utf-8")
    (playbooks / ".ci.yml").write_text("steps: [lint]\n", encoding="utf-8")
    _git(playbooks, "add", "-A")
    code, output = _run_hook(hooks_repo, playbooks, "kpi-rules-validate")
    assert code == 0, output
    assert "kpi-rules validate" in output and "Passed" in output

    (playbooks / "broken.yaml").write_text(
        "kpi-rules: 1\nname: Broken\nextends: [builtin:smm]\nkpis:\n  cpl2: {formula: spend / leeds, unit: currency, better: lower}\n",
        encoding="utf-8",
    )
    _git(playbooks, "add", "-A")
    code, output = _run_hook(hooks_repo, playbooks, "kpi-rules-validate")
    assert code == 1, output
    assert "Failed" in output
    assert 'broken.yaml:5:19: error KR201 formula of "cpl2": unknown name "leeds" (did you mean "leads"?)' in output, output
