"""init: the folder it writes is scored by check at once, with no data gaps; it never overwrites; and it works
from a freshly built and installed package in a new virtual environment."""

import datetime as dt
import json
import os
import site
import subprocess
import sys
import sysconfig
import time

import pytest
from conftest import REPO

from kpi_rules.diagnostics import InputError
from kpi_rules.scaffold import (
    CLIENT,
    build_scaffold,
    library_goals,
    platforms,
    write_scaffold,
)

TODAY = dt.date(2026, 11, 23)


def _check(cli, folder):
    result = cli("check", folder / "clients", "--format", "json", "--fail-on", "never")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("goals", "platform"), [(list(library_goals()), "vk"), (["sales", "community"], None), (["leads"], "instagram")])
def test_check_scores_the_new_folder_with_no_data_gaps(cli, tmp_path, goals, platform):
    written = write_scaffold(tmp_path, build_scaffold(goals, platform, TODAY))
    assert [path.relative_to(tmp_path).as_posix() for path in written] == [
        "playbook.yaml", "clients/sample-client.yaml", "data/sample-client.csv",
    ]
    report = _check(cli, tmp_path)
    (card,) = report["scorecards"]
    # The last whole month before today: August to October 2026 are written, October is scored.
    assert (card["client"], card["period"]["start"], card["period"]["end"]) == (CLIENT, "2026-10-01", "2026-10-31")
    assert [goal["id"] for goal in card["goals"]] == goals
    assert card["kpis"] and all(kpi["status"] != "no_data" for kpi in card["kpis"]), card["kpis"]
    currency = "RUB" if platform == "vk" else "USD"
    assert f"currency: {currency}\n" in (tmp_path / "clients" / "sample-client.yaml").read_text()


def test_validate_accepts_the_playbook_and_client(cli, tmp_path):
    write_scaffold(tmp_path, build_scaffold(["awareness"], "telegram", TODAY))
    result = cli("validate", tmp_path / "playbook.yaml", tmp_path / "clients")
    assert (result.exit_code, result.stdout.strip()) == (0, "2 file(s) valid")


def test_the_same_day_gives_the_same_files():
    assert build_scaffold(["sales"], "vk", TODAY) == build_scaffold(["sales"], "vk", TODAY)
    assert build_scaffold(["sales"], "vk", TODAY) != build_scaffold(["sales"], "vk", TODAY + dt.timedelta(days=40))


def test_an_existing_file_stops_everything(tmp_path):
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "sample-client.yaml").write_text("mine\n")
    with pytest.raises(InputError) as error:
        write_scaffold(tmp_path, build_scaffold(["sales"], None, TODAY))
    assert [(d.path, d.code) for d in error.value.diagnostics] == [(str(tmp_path / "clients" / "sample-client.yaml"), "KR410")]
    assert (tmp_path / "clients" / "sample-client.yaml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["clients", "sample-client.yaml"]


def test_a_file_appearing_while_writing_is_kept_and_the_others_removed(tmp_path, monkeypatch):
    """Files are created exclusively: one made by someone else meanwhile is not overwritten."""
    scaffold = build_scaffold(["sales"], None, TODAY)
    real_mkdir = type(tmp_path).mkdir

    def mkdir_then_someone_writes(self, *args, **kwargs):
        real_mkdir(self, *args, **kwargs)
        if self.name == "data":
            (self / "sample-client.csv").write_text("theirs\n")

    monkeypatch.setattr(type(tmp_path), "mkdir", mkdir_then_someone_writes)
    with pytest.raises(InputError) as error:
        write_scaffold(tmp_path, scaffold)
    assert [d.code for d in error.value.diagnostics] == ["KR410"]
    assert (tmp_path / "data" / "sample-client.csv").read_text() == "theirs\n"
    assert not (tmp_path / "playbook.yaml").exists() and not (tmp_path / "clients" / "sample-client.yaml").exists()


def test_cli_init_then_check(cli, tmp_path):
    result = cli("init", tmp_path / "agency", "--goal", "community", "--platform", "vk")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"Next: kpi-rules check {tmp_path / 'agency' / 'clients'}/"
    assert cli("check", tmp_path / "agency" / "clients", "--fail-on", "never").exit_code == 0
    again = cli("init", tmp_path / "agency", "--goal", "community")
    assert again.exit_code == 2 and again.stderr.count("KR410") == 3


def test_platforms_are_the_benchmark_libraries():
    assert platforms() == ["facebook", "instagram", "telegram", "tiktok", "vk"]


def test_init_and_check_in_a_fresh_virtual_environment(tmp_path):
    """Build and install the package (not the checkout) into a new virtual environment; its own kpi-rules
    inits a folder and checks it. The dependencies come from this environment, so no index is needed."""
    started = time.monotonic()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    # This environment's packages, after the new one's own: the dependencies, pip and hatchling to build with.
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (tmp_path / "venv" / purelib.removeprefix(str(venv) + os.sep)).joinpath("outer.pth").write_text("\n".join(sorted(ours)) + "\n")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(REPO)],
        capture_output=True, text=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    where = subprocess.run([python, "-c", "import kpi_rules; print(kpi_rules.__file__)"], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), "the installed package, not the checkout"
    folder = tmp_path / "agency"
    init = subprocess.run([bin_dir / "kpi-rules", "init", folder, "--goal", "sales", "--goal", "community"], capture_output=True, text=True, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    check = subprocess.run([bin_dir / "kpi-rules", "check", folder / "clients", "--format", "json", "--fail-on", "never"], capture_output=True, text=True, cwd=tmp_path)
    assert (check.returncode, check.stderr) == (0, "")
    (card,) = json.loads(check.stdout)["scorecards"]
    assert all(kpi["status"] != "no_data" for kpi in card["kpis"])
    assert time.monotonic() - started < 90
