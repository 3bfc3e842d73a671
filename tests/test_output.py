import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kpi_rules.diagnostics import InputError
from kpi_rules.output import _HOST, check_output, inputs_of, open_output
from kpi_rules.pipeline import compile_clients
from kpi_rules.resources import bundled_dir

# A writer that stops in the middle of its report until it is killed.
SLOW_WRITER = """
import os, sys, time
from pathlib import Path
if sys.argv[2] == "named":
    del os.O_TMPFILE
from kpi_rules.output import open_output
with open_output(Path(sys.argv[1])) as stream:
    stream.write("x" * 1_000_000)
    stream.flush()
    print("half written", flush=True)
    time.sleep(600)
"""


def _has_nameless_files(folder: Path) -> bool:
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
        return True
    except (AttributeError, OSError):
        return False


@pytest.fixture(params=["nameless", "named"])
def temporary_kind(request, monkeypatch, tmp_path):
    """Both ways of making the temporary file: O_TMPFILE, and the named fallback of other systems."""
    if request.param == "named":
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif not _has_nameless_files(tmp_path):
        pytest.skip("this file system has no O_TMPFILE")
    return request.param


def _codes(error: pytest.ExceptionInfo) -> list[str]:
    return [diagnostic.code for diagnostic in error.value.diagnostics]


def test_text_and_bytes_replace_the_output_and_leave_nothing_else(tmp_path, temporary_kind):
    out = tmp_path / "report.txt"
    out.write_text("old")
    with open_output(out) as stream:
        stream.write("Mañana ✓\n")
    assert out.read_text(encoding="utf-8") == "Mañana ✓\n"
    with open_output(out, binary=True) as stream:
        stream.write(b"PK\x03\x04\x00")
    assert out.read_bytes() == b"PK\x03\x04\x00"
    assert os.listdir(tmp_path) == ["report.txt"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_output_gets_the_mode_the_umask_gives(tmp_path, umask, mode):
    # In a child process: the umask belongs to the whole process.
    script = f"import os; from pathlib import Path; from kpi_rules.output import open_output\nos.umask({umask})\n"
    script += "with open_output(Path('new.txt')) as stream: stream.write('report')"
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    assert (tmp_path / "new.txt").stat().st_mode & 0o7777 == mode


def test_a_replaced_output_keeps_its_mode(tmp_path, temporary_kind):
    out = tmp_path / "report.txt"
    out.write_text("old")
    out.chmod(0o640)
    with open_output(out) as stream:
        stream.write("new")
    assert out.stat().st_mode & 0o7777 == 0o640


def test_a_symlinked_output_is_written_where_it_points(tmp_path):
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "2026-10.json"
    real.write_text("old")
    (tmp_path / "latest.json").symlink_to("reports/2026-10.json")
    with open_output(tmp_path / "latest.json") as stream:
        stream.write("new")
    assert (tmp_path / "latest.json").is_symlink() and real.read_text() == "new"


@pytest.mark.parametrize("interruption", [KeyboardInterrupt(), OSError(28, "No space left on device"), ValueError("bug")])
def test_an_interrupted_write_keeps_the_old_output_and_leaves_nothing(tmp_path, temporary_kind, interruption):
    out = tmp_path / "report.json"
    out.write_text("previous report")
    with pytest.raises((type(interruption), InputError)) as raised:
        with open_output(out) as stream:
            stream.write("half a rep")
            raise interruption
    if isinstance(interruption, OSError):
        assert _codes(raised) == ["KR001"] and "no space left on device" in str(raised.value)
    else:
        assert raised.value is interruption
    assert out.read_text() == "previous report"
    assert os.listdir(tmp_path) == ["report.json"]


def test_concurrent_writers_leave_one_whole_report(tmp_path, temporary_kind):
    """Both writers are mid-report at once (the barrier); the output is then one of the two, whole."""
    out = tmp_path / "report.json"
    both_half_written = threading.Barrier(2, timeout=60)
    reports = {name: json.dumps({"writer": name, "rows": [name * 20] * 5000}) for name in ("a", "b")}
    errors = []

    def write(name: str) -> None:
        try:
            with open_output(out) as stream:
                stream.write(reports[name][:50_000])
                stream.flush()
                both_half_written.wait()
                stream.write(reports[name][50_000:])
        except Exception as error:  # reported below: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=write, args=(name,)) for name in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert out.read_text() in reports.values()
    assert os.listdir(tmp_path) == ["report.json"]


@pytest.mark.parametrize("kind", ["nameless", "named"])
def test_kill_9_mid_write_leaves_no_temporary_file(tmp_path, kind):
    """Nameless: nothing to leave. Named: the next write in the folder removes what the dead writer left."""
    if kind == "nameless" and not _has_nameless_files(tmp_path):
        pytest.skip("this file system has no O_TMPFILE")
    out = tmp_path / "report.json"
    out.write_text("previous report")
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out), kind], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "half written\n"
        left_while_writing = sorted(set(os.listdir(tmp_path)) - {"report.json"})
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
    finally:
        writer.kill()
        writer.stdout.close()
    assert out.read_text() == "previous report"
    if kind == "nameless":
        assert left_while_writing == [] and os.listdir(tmp_path) == ["report.json"]
    else:
        # Recognisable as ours, with the dead writer's process id in it.
        assert len(left_while_writing) == 1 and f"-{writer.pid}-" in left_while_writing[0]
        with open_output(tmp_path / "other.json") as stream:
            stream.write("{}")
        assert sorted(os.listdir(tmp_path)) == ["other.json", "report.json"]


def test_a_live_writer_s_temporary_file_is_not_taken_for_a_stale_one(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    with open_output(tmp_path / "slow.json") as slow:
        slow.write("first half, ")
        with open_output(tmp_path / "quick.json") as quick:  # cleans up stale files in the same folder
            quick.write("{}")
        slow.write("second half")
    assert (tmp_path / "slow.json").read_text() == "first half, second half"


def test_links_planted_under_temporary_names_are_never_followed_nor_removed(tmp_path):
    victim = tmp_path / "data.csv"
    victim.write_text("date,spend\n")
    finished = subprocess.Popen([sys.executable, "-c", ""])
    finished.wait()
    # The old fixed name, and a name like a dead writer's left-over: a link is never ours.
    planted = [".report.json.tmp", f".kpi-rules-{_HOST}-{finished.pid}-0123abcd.tmp"]
    for name in planted:
        (tmp_path / name).symlink_to("data.csv")
    with open_output(tmp_path / "report.json") as stream:
        stream.write("report")
    assert victim.read_text() == "date,spend\n"
    assert all((tmp_path / name).is_symlink() for name in planted)


def test_a_link_planted_at_the_next_temporary_name_is_not_followed(tmp_path, temporary_kind, monkeypatch):
    """Someone who guesses the random part of the name gains nothing: the name is taken, another is drawn."""
    victim = tmp_path / "data.csv"
    victim.write_text("date,spend\n")
    guessed = tmp_path / f".kpi-rules-{_HOST}-{os.getpid()}-guessed.tmp"  # this process lives: not stale
    guessed.symlink_to("data.csv")
    draws = iter(["guessed", "drawn"])
    monkeypatch.setattr("kpi_rules.output.secrets.token_hex", lambda _: next(draws))
    with open_output(tmp_path / "report.json") as stream:
        stream.write("report")
    assert victim.read_text() == "date,spend\n" and guessed.is_symlink()
    assert (tmp_path / "report.json").read_text() == "report"


@pytest.mark.parametrize(
    "make_output",
    [
        lambda folder: folder / "data.csv",
        lambda folder: folder / "sub" / ".." / "data.csv",
        lambda folder: _linked(folder, "symlink.csv", os.symlink),
        lambda folder: _linked(folder, "hardlink.csv", os.link),
    ],
    ids=["same path", "dot-dot", "symlink", "hard link"],
)
def test_an_input_is_never_an_output(tmp_path, make_output):
    (tmp_path / "sub").mkdir()
    data = tmp_path / "data.csv"
    data.write_text("date,spend\n")
    output = make_output(tmp_path)
    with pytest.raises(InputError) as refused:
        with open_output(output, inputs=["client.yaml", data]) as stream:
            stream.write("report")
    assert _codes(refused) == ["KR005"] and str(refused.value).startswith(f"{output}: error KR005")
    assert data.read_text() == "date,spend\n"


def _linked(folder: Path, name: str, link) -> Path:
    link(folder / "data.csv", folder / name)
    return folder / name


def test_the_inputs_of_a_check_include_the_extends_chain_and_the_bundled_library(mini_agency, tmp_path):
    client = mini_agency("date,spend,leads\n2026-10-01,3000,50\n")
    inputs = inputs_of(compile_clients([client]))
    local = {client, tmp_path / "playbook.yaml", tmp_path / "data.csv"}
    bundled = {Path(p).resolve() for p in inputs} - local
    assert local <= {Path(p).resolve() for p in inputs}
    assert bundled and all(bundled_dir("rules").resolve() in path.parents for path in bundled)
    for file in bundled:
        with pytest.raises(InputError) as refused:
            check_output(file, inputs)  # only checks: the bundled files are never written
        assert _codes(refused) == ["KR005"]


@pytest.mark.parametrize(
    "output, message",
    [
        (".", "is a folder"),
        ("/", "is a folder"),
        ("missing/report.json", 'folder "{tmp}/missing" does not exist'),
        ("data.csv/report.json", 'folder "{tmp}/data.csv" is not a folder'),
        ("r" * 256, "file name too long"),
    ],
)
def test_places_that_cannot_be_written_are_named(tmp_path, monkeypatch, output, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("date\n")
    with pytest.raises(InputError) as refused:
        with open_output(Path(output)) as stream:
            stream.write("report")
    assert _codes(refused) == ["KR001"]
    assert str(refused.value).startswith(f"{Path(output)}: error KR001 ") and message.format(tmp=tmp_path) in str(refused.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_folder_or_file_is_named(tmp_path):
    folder, existing = tmp_path / "locked", tmp_path / "kept.txt"
    folder.mkdir(mode=0o555)
    existing.write_text("kept")
    existing.chmod(0o444)
    for output, message in ((folder / "report.json", "no permission"), (existing, "read-only")):
        with pytest.raises(InputError) as refused:
            check_output(output)
        assert _codes(refused) == ["KR001"] and message in str(refused.value)
    assert existing.read_text() == "kept"


def test_a_long_file_name_still_has_room_for_its_temporary_file(tmp_path, temporary_kind):
    out = tmp_path / ("r" * 250 + ".json")
    with open_output(out) as stream:
        stream.write("{}")
    assert out.read_text() == "{}"


# --- check --output: several outputs, planned (and every problem found) before any is written ---

LISTED = "csv, github, html, json, junit, markdown, parquet, pdf, table, xlsx"


@pytest.fixture
def in_agency(mini_agency, tmp_path, monkeypatch):
    """A client scored in tmp_path, the working folder: Acme, leads 50 against the default target."""
    mini_agency("date,spend,leads,clicks\n2026-10-01,3000,50,400\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_several_outputs_in_one_run(cli, in_agency):
    result = cli("check", "client.yaml", "--output", "a.csv", "--output", "b.json", "--output", "-")
    assert result.exit_code in (0, 1) and result.stderr == ""
    assert "Acme" in result.stdout  # - : the table on the terminal
    csv_lines = (in_agency / "a.csv").read_text().splitlines()
    assert csv_lines[0].startswith("client,period_start,") and all(line.startswith("Acme,2026-10-01,") for line in csv_lines[1:])
    scores = json.loads((in_agency / "b.json").read_text())
    assert "Acme" in json.dumps(scores)
    assert len(csv_lines) == 1 + 3  # the header, and the leads goal's KPIs: leads, cpl, lead_cr


def test_format_equals_path_and_format_for_the_terminal(cli, in_agency):
    result = cli("check", "client.yaml", "--output", "csv=scores.dat", "--output", "json=-")
    assert (in_agency / "scores.dat").read_text().startswith("client,period_start,")
    json.loads(result.stdout)
    # --format names the terminal's format, and that of a suffix naming none.
    result = cli("check", "client.yaml", "--format", "junit", "--output", "report.out")
    assert result.stdout == "" and (in_agency / "report.out").read_text().startswith('<?xml version="1.0"')


ALL_WRONG = [
    (
        ["--output", "jsn=x.json"],
        (
            '--output: error KR401 --output jsn=x.json: unknown format "jsn" (did you mean "json"?); '
            f"formats: {LISTED} (a file whose name has =: ./jsn=x.json)"
        ),
    ),
    (
        ["--output", "r.dat"],
        (
            '--output: error KR401 --output r.dat: the suffix ".dat" names no format: use .txt (table), .json (json), '
            ".md (markdown), .csv (csv), .xml (junit), .xlsx (xlsx), .html (html), .htm (html), .pdf (pdf), .parquet (parquet), name it (table=r.dat) "
            "or give --format"
        ),
    ),
    (
        ["--output", "a.csv", "--output", "./a.csv"],
        "--output: error KR401 --output ./a.csv: the same file as --output a.csv: each output needs a file of its own",
    ),
    (["--output", "xlsx=-"], "--output: error KR401 xlsx is written to a file: give --output report.xlsx"),
    (["--format", "xlsx"], "--output: error KR401 xlsx is written to a file: give --output report.xlsx"),
    (["--output", "-", "--output", "-"], "--output: error KR401 - (the terminal) is named twice"),
    (
        ["--format", "json", "--output", "r.txt"],
        "--output: error KR401 --format json is used by no output (r.txt is table): name it (json=FILE), or add --output - for the terminal",
    ),
    (["--output", "a.csv", "--output", "data.csv"], 'data.csv: error KR005 is "data.csv", an input of this run: write the report to another file'),
]


@pytest.mark.parametrize("options, message", ALL_WRONG, ids=[
    "unknown format", "suffix naming none", "same file twice", "binary to the terminal", "binary --format",
    "terminal twice", "format used by none", "output over an input",
])
def test_output_problems_stop_the_run_before_anything_is_written(cli, in_agency, options, message):
    before = {path: path.read_bytes() for path in in_agency.iterdir()}
    result = cli("check", "client.yaml", *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [message, "1 problem(s) in 1 file(s)"]
    assert {path: path.read_bytes() for path in in_agency.iterdir()} == before  # nothing written, nothing harmed


def test_every_output_problem_is_named_at_once(cli, in_agency):
    result = cli("check", "client.yaml", "--output", "jsn=x.json", "--output", "r.dat", "--output", "data.csv", "--output", "ok.csv")
    assert result.exit_code == 2
    assert [line.split(" error ")[1][:5] for line in result.stderr.splitlines()[:-1]] == ["KR401", "KR401", "KR005"]
    assert result.stderr.splitlines()[-1] == "3 problem(s) in 2 file(s)"
    assert not (in_agency / "ok.csv").exists()
