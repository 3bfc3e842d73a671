"""The performance suite works (timings are its business, not the tests'): benchmarks/run.py --quick."""

import ast
import importlib.util
import json
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from kpi_rules.compile import Compiler


# Added to the library by issue 13, after the performance figures were first measured: left out of the benchmark
# so that its workload (56 KPIs) stays comparable with the published figures.
NOT_BENCHMARKED = {
    "reach_rate", "video_completion_rate", "engagements_with_saves", "er_with_saves", "err_with_saves", "active_core",
    "err_unique_reach", "cpf_paid", "cpe", "cost_per_dialogue", "romi", "roi_margin", "positive_share",
    "er_views_avg", "avg_watch_time", "video_view_rate", "median_response_time", "organic_reach_share", "unique_visitors",
}


def test_the_benchmark_playbook_targets_every_library_kpi_but_the_new_ones_in_its_goals():
    compiler = Compiler()
    library = compiler.playbook("builtin:smm", REPO)
    benchmark = compiler.playbook(str(REPO / "benchmarks" / "playbook.yaml"), REPO)
    assert not compiler.diagnostics
    own_goals = yaml.safe_load((REPO / "benchmarks" / "playbook.yaml").read_text(encoding="utf-8"))["goals"]
    scored = {kpi for goal in own_goals for kpi in benchmark.goals[goal].kpis}
    assert scored == set(library.kpis) - NOT_BENCHMARKED == set(benchmark.targets)
    assert len(scored) == 56


def test_quick_suite_runs_and_kpi_rules_agrees_with_pandas_and_writes_the_yardsticks_document(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--work", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "with pandas: 0 differences" in result.stdout
    # 60 clients x 12 months, less the months before the one late client (client 7 of 50) joins: 712 scorecards,
    # written by the hand-written polars query byte for byte as kpi-rules writes them.
    assert "compared 712 scorecards with the yardstick: 712 byte-identical, 0 equal within rounding; 0 differences" in result.stdout
    assert (tmp_path / "kpi-rules-quick.json").read_bytes() == (tmp_path / "yardstick-quick.json").read_bytes()
    assert "kpi-rules / yardstick " in result.stdout and " usable cores (of " in result.stdout
    assert "html report: " in result.stdout and ", 60 pages, " in result.stdout


@pytest.fixture
def run_module(monkeypatch):
    """benchmarks/run.py as a module (benchmarks/ is no package)."""
    spec = importlib.util.spec_from_file_location("benchmark_run", REPO / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _document(path, scorecards):
    lines = ['{"kpi_rules_version":"0.1.0",', '"playbooks":{},', '"scorecards":[']
    lines += [json.dumps(card, separators=(",", ":")) + ("," if n < len(scorecards) - 1 else "") for n, card in enumerate(scorecards)]
    path.write_text("\n".join([*lines, "]}"]) + "\n", encoding="utf-8")
    return path


def _card(client, er, status="pass"):
    return {"client": client, "period": {"start": "2026-01-01"}, "score": 50.0, "kpis": [{"id": "er", "value": er, "status": status}]}


def test_documents_are_compared_a_scorecard_at_a_time_numbers_within_rounding(tmp_path, capsys, run_module):
    run = run_module
    ours = _document(tmp_path / "ours.json", [_card("a", 1.234567), _card("b", 2.0)])
    # b's value one unit off in the sixth decimal: both sides round to 6 decimals, so that is equal.
    assert run.compare_documents(ours, _document(tmp_path / "same.json", [_card("a", 1.234567), _card("b", 2.000001)])) == []
    assert "compared 2 scorecards with the yardstick: 1 byte-identical, 1 equal within rounding; 0 differences" in capsys.readouterr().out
    found = run.compare_documents(ours, _document(tmp_path / "off.json", [_card("a", 1.2346), _card("b", 2.0, "warn")]))
    assert found == ["a 2026-01-01 kpis er value: kpi-rules 1.234567, yardstick 1.2346", "b 2026-01-01 kpis er status: kpi-rules 'pass', yardstick 'warn'"]
    # A scorecard missing: its line meets the closing line, then kpi-rules' document goes on alone.
    short = run.compare_documents(ours, _document(tmp_path / "short.json", [_card("a", 1.234567)]))
    assert len(short) == 2 and short[0].startswith("line 5: kpi-rules b'{\"client\":\"b\"") and short[0].endswith("yardstick b']}\\n'")
    assert short[1] == "line 6: only kpi-rules has it"


def test_each_timed_run_starts_without_the_output_of_the_run_before(tmp_path, run_module):
    # Freeing the last run's file is the file system's work, not the command's: it is removed before the clock starts.
    output = tmp_path / "out.txt"
    output.write_text("an earlier run's output", encoding="utf-8")
    appends_a_line = [sys.executable, "-c", f"open({str(output)!r}, 'a').write('run\\n')"]
    timing = run_module.run(appends_a_line, 3, output)
    assert len(timing.seconds) == 3
    assert output.read_text(encoding="utf-8") == "run\n"


def test_the_yardstick_does_not_use_kpi_rules():
    tree = ast.parse((REPO / "benchmarks" / "polars_yardstick.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and not any(name.startswith("kpi_rules") for name in imported)


def test_the_generator_is_deterministic(tmp_path):
    outputs = []
    for name in ("a.csv", "b.csv"):
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--clients", "3", "--days", "40",
                        "--output", str(tmp_path / name)], check=True)
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    header, *rows = outputs[0].decode().splitlines()
    assert header.startswith("client,date,posts") and 100 < len(rows) <= 120  # 3 x 40 days, some missing


def test_the_report_and_its_targets_from_every_kind_of_row(run_module, monkeypatch):
    run = run_module
    monkeypatch.setattr(run, "machine", lambda: "a test machine, 2 usable cores (of 4)")

    def timing(seconds, gib):
        return run.Timing([seconds + 0.2, seconds, seconds - 0.1], int(gib * run.GIB))  # median, then the best

    startup = {"python": timing(0.02, 0), "typer": timing(0.1, 0), "version": timing(0.15, 0), "validate": timing(0.25, 0), "check": timing(0.5, 0)}
    results = {
        "1M": {"rows": 1_000_000, "format": "csv", "kpi_rules": timing(3.0, 0.5), "read": timing(1.5, 0.3), "yardstick": timing(1.5, 0.4), "pandas": timing(10.0, 1)},
        "10M": {
            "rows": 10_000_000, "format": "parquet", "kpi_rules": timing(30.0, 5), "read": timing(3.0, 2), "yardstick": timing(20.0, 3),
            "parquet_output": timing(9.0, 3.5), "duckdb": "this kpi-rules reads no database source: unknown key \"connection\"",
        },
    }
    checks = {name: (measured, wanted, met) for name, measured, wanted, met in run._targets(results, startup)}
    assert checks["1M: against the hand-written polars query"] == ("2.00× its time", "≤ 1.0×", False)
    assert checks["1M: against pandas"] == ("0.30× its time", "≤ 0.4×", True)
    assert checks["10M rows, `--format parquet`: against reading the file"] == ("3.00× the read", "≤ 3×", True)
    assert checks["10M rows, `--format parquet`: peak memory"] == ("3.50 GiB", "< 4 GiB", True)
    assert checks["validate examples/"] == ("0.25 s", "≤ 0.2 s", False)
    assert checks["check examples/clients/"] == ("0.50 s", "≤ 0.5 s", True)
    report = run._report(results, startup, run._targets(results, startup), runs=2)
    assert "Machine: a test machine, 2 usable cores (of 4)." in report
    assert "| 1M (csv) | 1,000,000 | 3.00 s (2.90) | 0.50 GiB | 3.00 s | 1.50 s | 2.00× | 1.50 s, 0.40 GiB | 2.00× | 10.00 s, 1.00 GiB | 0.30× |" in report
    assert "| 10M | Parquet file, Parquet | 9.00 s (8.90) | 3.50 GiB | 3.00× |" in report
    assert '| 10M | DuckDB file, Parquet | skipped: this kpi-rules reads no database source: unknown key "connection" | | |' in report
    assert "`kpi-rules check examples/clients/` 0.500 s" in report
