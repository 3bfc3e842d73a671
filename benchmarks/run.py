"""The performance suite: whole `kpi-rules check` runs, cold, against a hand-written polars query (the
yardstick), a pandas baseline and a plain read.

    python benchmarks/run.py                    # every size, then docs/performance.md is rewritten
    python benchmarks/run.py --quick            # one small size: proves the suite works and that results agree (CI)
    python benchmarks/run.py --duckdb-only      # only the 10M rows read from a DuckDB file, beside the Parquet file

Each measurement is a new process (cold: imports, reading, scoring, writing the JSON), timed from outside
with its peak memory taken from the operating system (wait4). Every run at a size is repeated --runs times
and reported as the median and the best. The data comes from benchmarks/generate.py and is kept in --work.
At every size the suite checks that kpi-rules writes the document benchmarks/polars_yardstick.py writes
(byte for byte, else value by value), and where the pandas baseline runs, that it agrees on every value and
status. The exit code is 1 when they disagree or (full suite only) a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DAYS = 365
# Both sides print 6 decimals, so two equal values may differ by one unit in the last place after rounding.
ROUNDED = 1.5e-6
GIB = 1024**3


@dataclass(frozen=True)
class Size:
    name: str
    clients: int
    format: str
    pandas: bool  # the baseline is run (and compared) at this size


FULL = (
    Size("100k", 274, "csv", True),
    Size("365k", 1_000, "csv", True),
    Size("1M", 2_740, "csv", True),
    Size("10M", 27_400, "parquet", False),
)
QUICK = (Size("quick", 60, "csv", True),)
# The HTML report (index and a page per client, the latest month) is measured up to the 1M agency's 2,740 clients,
# once per size: it is a separate run, so the JSON workload above is measured exactly as before.
HTML_UP_TO_CLIENTS = 2_740
# Issue 14's ratios against the baselines at 1M rows (other sizes: no slower than pandas).
AGAINST_YARDSTICK = 1.0
AGAINST_PANDAS = {"1M": 0.4}


@dataclass
class Timing:
    seconds: list[float]
    peak_bytes: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


class CommandFailed(Exception):
    def __init__(self, command: list[str], code: int, errors: str):
        super().__init__(f"{' '.join(command)} exited with {code}:\n{errors}")
        self.code, self.errors = code, errors


def run(command: list[str], runs: int, output: Path | None = None) -> Timing:
    """Run a command ``runs`` times, each a new process; wall time and the largest peak RSS of the runs.

    The ``output`` of the run before is removed first, untimed: freeing a file of gigabytes costs the file system
    a tenth of a second or more, and more when a file is replaced (kpi-rules) than when it is truncated."""
    seconds, peak = [], 0
    for _ in range(runs):
        if output is not None:
            output.unlink(missing_ok=True)
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds.append(time.perf_counter() - start)
        errors = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        code = process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: Popen is told
        if code not in (0, 1):  # 1: kpi-rules found failing KPIs, which the benchmark data has by design
            raise CommandFailed(command, code, errors)
        peak = max(peak, usage.ru_maxrss * 1024)
    return Timing(seconds, peak)


def prepare(size: Size, work: Path) -> tuple[Path, Path]:
    """The size's data (generated once, kept) and a client file scoring all its clients with the benchmark playbook."""
    data = work / f"agency-{size.clients}x{DAYS}.{size.format}"
    if not data.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), "--clients", str(size.clients), "--days", str(DAYS), "--output", str(data)],
            check=True,
        )
    client_file = work / f"clients-{size.name}.yaml"
    _write_client_file(client_file, str(data))
    return data, client_file


def _write_client_file(client_file: Path, data: str) -> None:
    """A client file scoring all clients of ``data`` (a file's path, or a YAML list of sources) with the benchmark playbook."""
    with (HERE / "playbook.yaml").open(encoding="utf-8") as file:
        goals = "[" + ", ".join(yaml.safe_load(file)["goals"]) + "]"  # the benchmark playbook's own: every KPI
    client_file.write_text(
        f"kpi-rules: 1\nclients: all\nplaybook: {HERE / 'playbook.yaml'}\ngoals: {goals}\ncurrency: RUB\ndata: {data}\n",
        encoding="utf-8",
    )


def prepare_duckdb(size: Size, data: Path, work: Path) -> Path:
    """A DuckDB file holding the size's rows as table ``daily`` (built once, kept), and a client file reading it.

    The client file maps no columns, as the file's does not: the table has the names the library reads.
    """
    database = data.with_suffix(".duckdb")
    if not database.exists():
        import duckdb

        building = database.with_name(database.name + ".partial")
        building.unlink(missing_ok=True)
        reader = "read_parquet" if data.suffix == ".parquet" else "read_csv"
        quoted = str(data).replace("'", "''")
        with duckdb.connect(str(building)) as connection:
            connection.execute(f"CREATE TABLE daily AS SELECT * FROM {reader}('{quoted}')")
        building.rename(database)
    client_file = work / f"clients-{size.name}-duckdb.yaml"
    _write_client_file(client_file, f"[{{connection: {json.dumps(str(database))}, table: daily}}]")
    return client_file


def kpi_rules_command() -> list[str]:
    script = Path(sys.executable).with_name("kpi-rules")
    return [str(script)] if script.exists() else [shutil.which("kpi-rules") or "kpi-rules"]


def check_command(client_file: Path, output: Path, output_format: str = "json") -> list[str]:
    return kpi_rules_command() + ["check", str(client_file), "--period", "all", "--format", output_format, "--output", str(output)]


def yardstick_command(data: Path, output: Path) -> list[str]:
    return [sys.executable, str(HERE / "polars_yardstick.py"), str(data), str(HERE / "playbook.yaml"), str(output)]


def read_only_command(data: Path) -> list[str]:
    reader = "read_parquet" if data.suffix == ".parquet" else "read_csv"
    return [sys.executable, "-c", f"import polars; polars.{reader}({str(data)!r})"]


def compare(kpi_rules_json: Path, pandas_json: Path) -> list[str]:
    """Every value and status of kpi-rules against the pandas baseline; the differences, at most 10."""
    with kpi_rules_json.open(encoding="utf-8") as file:
        cards = json.load(file)["scorecards"]
    with pandas_json.open(encoding="utf-8") as file:
        baseline = {(row["client"], row["month"]): row for row in json.load(file)}
    differences, compared = [], 0
    if len(cards) != len(baseline):
        differences.append(f"{len(cards)} scorecards from kpi-rules, {len(baseline)} rows from pandas")
    for card in cards:
        row = baseline.get((card["client"], card["period"]["start"]))
        if row is None:
            differences.append(f"pandas has no row for {card['client']} {card['period']['start']}")
            continue
        for kpi in card["kpis"]:
            expected, got = row[kpi["id"]], kpi["value"]
            same_value = (expected is None and got is None) or (
                expected is not None and got is not None and math.isclose(expected, got, rel_tol=1e-6, abs_tol=ROUNDED)
            )
            if not same_value or row[f"status:{kpi['id']}"] != kpi["status"]:
                differences.append(
                    f"{card['client']} {card['period']['start']} {kpi['id']}: kpi-rules {got} {kpi['status']}, "
                    f"pandas {expected} {row['status:' + kpi['id']]}"
                )
            compared += 1
    print(f"  compared {compared:,} values and statuses with pandas: {len(differences)} differences")
    return differences[:10]


def compare_documents(kpi_rules_json: Path, yardstick_json: Path) -> list[str]:
    """kpi-rules' document against the yardstick's, a line (a scorecard) at a time, so that the 10M documents
    (3 GB each) are never held whole: equal lines are equal, others are compared value by value (numbers
    within ROUNDED). The differences, at most 10."""
    differences: list[str] = []
    scorecards = identical = equal = 0
    with kpi_rules_json.open("rb") as ours, yardstick_json.open("rb") as theirs:
        for number, (line, expected) in enumerate(itertools.zip_longest(ours, theirs), start=1):
            if line is None or expected is None:
                differences.append(f"line {number}: only {'the yardstick' if line is None else 'kpi-rules'} has it")
                break
            card = line.startswith(b'{"client":')
            scorecards += card
            if line == expected:
                identical += card
                continue
            if not (card and expected.startswith(b'{"client":')):
                differences.append(f"line {number}: kpi-rules {line[:200]!r}, yardstick {expected[:200]!r}")
                continue
            got, want = (json.loads(text.rstrip(b",\n")) for text in (line, expected))
            found = _json_differences(got, want, f"{got['client']} {got['period']['start']}")
            differences += found
            equal += not found
    print(
        f"  compared {scorecards:,} scorecards with the yardstick: {identical:,} byte-identical, "
        f"{equal:,} equal within rounding; {len(differences)} differences"
    )
    return differences[:10]


def _json_differences(got: object, want: object, where: str) -> list[str]:
    """Where two JSON values differ: numbers within ROUNDED are equal (both sides round to 6 decimals)."""
    if isinstance(got, dict) and isinstance(want, dict):
        if list(got) != list(want):
            return [f"{where}: keys {list(got)} against the yardstick's {list(want)}"]
        where = f"{where} {got['id']}" if "id" in got else where
        return [difference for key in got for difference in _json_differences(got[key], want[key], f"{where} {key}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [difference for a, b in zip(got, want) for difference in _json_differences(a, b, where)]
    numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (got, want))
    if numbers and math.isclose(got, want, rel_tol=1e-6, abs_tol=ROUNDED):
        return []
    return [] if got == want else [f"{where}: kpi-rules {got!r}, yardstick {want!r}"]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    import pandas
    import polars

    usable = len(os.sched_getaffinity(0))  # what this process may run on: a container may have fewer than the CPU
    return (
        f"{cpu}, {usable} usable cores (of {os.cpu_count()}), {memory / GIB:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, polars {polars.__version__}, pandas {pandas.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one small size; no targets enforced, no docs written")
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (default 5, quick 1)")
    parser.add_argument("--work", type=Path, default=HERE / ".work", help="where data and outputs are kept")
    parser.add_argument(
        "--duckdb-only", action="store_true",
        help="only the 10M rows (with --quick, the quick size) from a DuckDB file and from the data file, to Parquet; no docs written",
    )
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = QUICK if args.quick else FULL
    try:
        if args.duckdb_only:
            for size in sizes if args.quick else [size for size in FULL if size.format == "parquet"]:
                data, client_file = prepare(size, args.work)
                print(f"{size.name}: {size.clients:,} clients x {DAYS} days ({size.format})")
                _print_parquet_output(measure_parquet_output(size, data, client_file, args.work, runs))
            return
        suite(sizes, args.work, runs, quick=args.quick)
    except CommandFailed as failure:
        sys.exit(str(failure))


def suite(sizes: tuple[Size, ...], work: Path, runs: int, *, quick: bool) -> None:
    print(f"Machine: {machine()}")
    # The package's bytecode, as pip writes it on install: a checkout (or PYTHONDONTWRITEBYTECODE) would otherwise
    # compile every module from source on every run, about 0.1 s of each start-up that no user has.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "kpi_rules")], check=True, stdout=subprocess.DEVNULL)
    # Start-up first: after the large sizes the machine is still writing their output back to disk.
    repeats = runs if quick else runs * 2
    startup = {
        "python": run([sys.executable, "-c", "pass"], repeats),
        "typer": run([sys.executable, "-c", "import typer"], repeats),
        "version": run(kpi_rules_command() + ["--version"], repeats),
        "validate": run(kpi_rules_command() + ["validate", str(REPO / "examples")], repeats),
        "check": run(kpi_rules_command() + ["check", str(REPO / "examples" / "clients")], repeats),
    }
    print(
        f"--version: {startup['version'].median:.3f} s; validate examples/: {startup['validate'].median:.3f} s; "
        f"check examples/clients/: {startup['check'].median:.3f} s"
    )
    results: dict[str, dict] = {}
    disagreements: dict[str, list[str]] = {"the yardstick": [], "pandas": []}
    for size in sizes:
        data, client_file = prepare(size, work)
        rows = _row_count(data)
        print(f"{size.name}: {size.clients:,} clients x {DAYS} days = {rows:,} rows ({size.format})")
        output = work / f"kpi-rules-{size.name}.json"
        result = {"rows": rows, "format": size.format, "kpi_rules": run(check_command(client_file, output), runs, output), "read": run(read_only_command(data), runs)}
        yardstick_output = work / f"yardstick-{size.name}.json"
        result["yardstick"] = run(yardstick_command(data, yardstick_output), runs, yardstick_output)
        disagreements["the yardstick"] += compare_documents(output, yardstick_output)
        if size.pandas:
            baseline_output = work / f"pandas-{size.name}.json"
            baseline = [sys.executable, str(HERE / "pandas_baseline.py"), str(data), str(HERE / "playbook.yaml"), str(baseline_output)]
            result["pandas"] = run(baseline, runs, baseline_output)
            disagreements["pandas"] += compare(output, baseline_output)
        if size.format == "parquet":
            result |= measure_parquet_output(size, data, client_file, work, runs)
        if size.clients <= HTML_UP_TO_CLIENTS:
            result["html"] = measure_html(client_file, work / f"kpi-rules-{size.name}-html")
        results[size.name] = result
        _print_result(result)

    for baseline, differences in disagreements.items():
        if differences:
            print(f"kpi-rules and {baseline} disagree:\n  " + "\n  ".join(differences))
    if any(disagreements.values()):
        sys.exit(1)
    if quick:
        return
    checks = _targets(results, startup)
    (REPO / "docs" / "performance.md").write_text(_report(results, startup, checks, runs), encoding="utf-8")
    print("docs/performance.md written")
    missed = [name for name, _, _, ok in checks if not ok]
    if missed:
        print("targets missed: " + "; ".join(missed))
        sys.exit(1)


def measure_parquet_output(size: Size, data: Path, client_file: Path, work: Path, runs: int) -> dict:
    """The scorecards written as Parquet, from the data file and from the same rows in a DuckDB file (the
    latter skipped, saying why, where this kpi-rules has no database sources or the duckdb package is missing)."""
    output = work / f"kpi-rules-{size.name}.parquet"
    result = {"parquet_output": run(check_command(client_file, output, "parquet"), runs, output)}
    try:
        database_client_file = prepare_duckdb(size, data, work)
    except ImportError:
        result["duckdb"] = "the duckdb package is not installed (pip install duckdb)"
        return result
    try:
        output = work / f"kpi-rules-{size.name}-duckdb.parquet"
        result["duckdb"] = run(check_command(database_client_file, output, "parquet"), runs, output)
    except CommandFailed as failure:
        if failure.code != 2 or "connection" not in failure.errors:
            raise
        said = next(line for line in failure.errors.splitlines() if "connection" in line).strip()
        result["duckdb"] = f"this kpi-rules reads no database source: {said}"
    return result


def measure_html(client_file: Path, folder: Path) -> dict:
    """One `check --output FOLDER/` of the latest month: its time, and the size of the index and of the pages."""
    timing = run(kpi_rules_command() + ["check", str(client_file), "--output", f"{folder}/"], 1)
    pages = list((folder / "clients").iterdir())
    sizes = [page.stat().st_size for page in pages]
    return {
        "timing": timing,
        "pages": len(pages),
        "total_bytes": sum(sizes) + (folder / "index.html").stat().st_size,
        "index_bytes": (folder / "index.html").stat().st_size,
        "largest_page_bytes": max(sizes),
    }


def _html_line(html: dict) -> str:
    return (
        f"{html['timing'].median:.1f} s, {html['pages']:,} pages, {html['total_bytes'] / 2**20:.1f} MB in all; "
        f"index {html['index_bytes'] / 1024:.0f} KB, largest page {html['largest_page_bytes'] / 1024:.0f} KB"
    )


def _row_count(data: Path) -> int:
    import polars as pl

    scan = pl.scan_parquet(data) if data.suffix == ".parquet" else pl.scan_csv(data)
    return scan.select(pl.len()).collect().item()


def _print_result(result: dict) -> None:
    kpi_rules, read, yardstick = result["kpi_rules"], result["read"], result["yardstick"]
    line = (
        f"  kpi-rules {kpi_rules.median:.2f} s ({kpi_rules.peak_bytes / GIB:.2f} GiB peak); read only {read.median:.2f} s; "
        f"yardstick {yardstick.median:.2f} s ({yardstick.peak_bytes / GIB:.2f} GiB), kpi-rules / yardstick {kpi_rules.median / yardstick.median:.2f}×"
    )
    if "pandas" in result:
        line += f"; pandas {result['pandas'].median:.2f} s ({result['pandas'].peak_bytes / GIB:.2f} GiB)"
    print(line)
    _print_parquet_output(result)
    if "html" in result:
        print("  html report: " + _html_line(result["html"]))


def _print_parquet_output(result: dict) -> None:
    if "parquet_output" in result:
        print(f"  to Parquet: {_timing_text(result['parquet_output'])}; from DuckDB to Parquet: {_timing_text(result['duckdb'])}")


def _timing_text(timing: Timing | str) -> str:
    """A measured row's median and peak, or why it was skipped."""
    return f"{timing.median:.2f} s ({timing.peak_bytes / GIB:.2f} GiB peak)" if isinstance(timing, Timing) else f"skipped: {timing}"


def _targets(results: dict, startup: dict) -> list[tuple[str, str, str, bool]]:
    """(target, measured, wanted, met) for each target of the performance issues, on median times."""
    checks = []
    if "365k" in results:
        seconds = results["365k"]["kpi_rules"].median
        checks.append(("365k rows, every monthly scorecard as JSON", f"{seconds:.2f} s", "≤ 1.0 s", seconds <= 1.0))
    if "1M" in results:
        one = results["1M"]
        seconds, peak = one["kpi_rules"].median, one["kpi_rules"].peak_bytes
        checks.append(("1M rows, time", f"{seconds:.2f} s", "≤ 1.5 s", seconds <= 1.5))
        checks.append(("1M rows, peak memory", f"{peak / GIB:.2f} GiB", "≤ 1 GiB", peak <= GIB))
        ratio = seconds / one["yardstick"].median
        wanted = f"≤ {AGAINST_YARDSTICK:.1f}×"
        checks.append(("1M: against the hand-written polars query", f"{ratio:.2f}× its time", wanted, ratio <= AGAINST_YARDSTICK))
    for name, result in results.items():
        if "pandas" in result:
            ratio, most = result["kpi_rules"].median / result["pandas"].median, AGAINST_PANDAS.get(name, 1.0)
            checks.append((f"{name}: against pandas", f"{ratio:.2f}× its time", f"≤ {most:g}×", ratio <= most))
        ratio = result["kpi_rules"].median / result["read"].median
        if result["format"] == "csv":
            checks.append((f"{name}: against reading the file", f"{ratio:.2f}× the read", "≤ 2.5×", ratio <= 2.5))
    checks.append(("validate examples/", f"{startup['validate'].median:.2f} s", "≤ 0.2 s", startup["validate"].median <= 0.2))
    checks.append(("check examples/clients/", f"{startup['check'].median:.2f} s", "≤ 0.5 s", startup["check"].median <= 0.5))
    checks.append(("--version", f"{startup['version'].median:.2f} s", "≤ 0.2 s", startup["version"].median <= 0.2))
    if "10M" in results:
        ten = results["10M"]
        checks.append(("10M rows (Parquet) completes", f"{ten['kpi_rules'].median:.1f} s", "completes", True))
        parquet = ten["parquet_output"]
        ratio = parquet.median / ten["read"].median
        checks.append(("10M rows, `--format parquet`: against reading the file", f"{ratio:.2f}× the read", "≤ 3×", ratio <= 3))
        checks.append(("10M rows, `--format parquet`: peak memory", f"{parquet.peak_bytes / GIB:.2f} GiB", "< 4 GiB", parquet.peak_bytes < 4 * GIB))
    return checks


def _report(results: dict, startup: dict, checks: list, runs: int) -> str:
    lines = [
        "# Performance",
        "",
        f"Written by `python benchmarks/run.py` on {dt.date.today().isoformat()}; do not edit by hand.",
        "",
        f"Machine: {machine()}.",
        "",
        "Workload: `kpi-rules check clients.yaml --period all --format json --output out.json`, where clients.yaml says",
        "`clients: all` and uses [benchmarks/playbook.yaml](../benchmarks/playbook.yaml) (56 KPIs of the library,",
        "each with a target), on data from [benchmarks/generate.py](../benchmarks/generate.py): N clients x 365 days",
        "x 40 raw metrics, with gaps. Every run is a new process (cold); times are the median of",
        f"{runs} runs (best in brackets); memory is the peak resident set of the process.",
        "Baselines: [benchmarks/polars_yardstick.py](../benchmarks/polars_yardstick.py), the yardstick: one",
        "hand-written polars query that writes the same JSON document (every scorecard, value, status, reason, trend",
        "and score) for this one playbook, what polars itself can do; [benchmarks/pandas_baseline.py](../benchmarks/pandas_baseline.py),",
        "the same KPIs and statuses in plain pandas; and a process that only reads the file with polars. kpi-rules",
        "wrote the yardstick's document at every size (compared line by line, numbers within rounding), and agreed",
        "with pandas on every value and status at every size pandas ran.",
        "",
        (
            "| size | rows | kpi-rules | peak memory | time per million rows | read only | kpi-rules / read "
            "| yardstick | kpi-rules / yardstick | pandas | kpi-rules / pandas |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        ours, read, yardstick = result["kpi_rules"], result["read"], result["yardstick"]
        pandas = result.get("pandas")
        lines.append(
            f"| {name} ({result['format']}) | {result['rows']:,} | {ours.median:.2f} s ({ours.best:.2f}) | {ours.peak_bytes / GIB:.2f} GiB "
            f"| {ours.median / result['rows'] * 1e6:.2f} s | {read.median:.2f} s | {ours.median / read.median:.2f}× "
            f"| {yardstick.median:.2f} s, {yardstick.peak_bytes / GIB:.2f} GiB | {ours.median / yardstick.median:.2f}× "
            f"| {f'{pandas.median:.2f} s, {pandas.peak_bytes / GIB:.2f} GiB' if pandas else 'not run'} "
            f"| {f'{ours.median / pandas.median:.2f}×' if pandas else ''} |"
        )
    outputs = {name: result for name, result in results.items() if "parquet_output" in result}
    if outputs:
        lines += [
            "",
            "The scorecards as Parquet (`--format parquet`), from the file and from the same rows in a DuckDB file",
            "(table `daily`, built with the duckdb package; the data entry is `[{connection: FILE.duckdb, table: daily}]`):",
            "",
            "| size | read from, written as | kpi-rules | peak memory | kpi-rules / read |",
            "|---|---|---|---|---|",
        ]
        for name, result in outputs.items():
            for source, key in (("Parquet file, JSON", "kpi_rules"), ("Parquet file, Parquet", "parquet_output"), ("DuckDB file, Parquet", "duckdb")):
                timing = result[key]
                if isinstance(timing, Timing):
                    lines.append(
                        f"| {name} | {source} | {timing.median:.2f} s ({timing.best:.2f}) | {timing.peak_bytes / GIB:.2f} GiB "
                        f"| {timing.median / result['read'].median:.2f}× |"
                    )
                else:
                    lines.append(f"| {name} | {source} | skipped: {timing} | | |")
    lines += [
        "",
        (
            f"Start-up: `kpi-rules --version` {startup['version'].median:.3f} s, of which Python itself "
            f"{startup['python'].median:.3f} s and importing typer {startup['typer'].median - startup['python'].median:.3f} s "
            "(typer is held below 0.29, whose pydantic layer added 0.1 s to every run); `kpi-rules validate examples/` "
            f"{startup['validate'].median:.3f} s; `kpi-rules check examples/clients/` {startup['check'].median:.3f} s. "
            "polars is imported only by commands that read data, rich only to render."
        ),
        "",
        "## Targets",
        "",
        "| target | measured | wanted | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {measured} | {wanted} | {'yes' if ok else '**no**'} |" for name, measured, wanted, ok in checks]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
