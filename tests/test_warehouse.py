"""Database sources in DuckDB (no server): the same scorecards as from files, the aggregation pushed down, and
every problem a diagnostic at the source's line. PostgreSQL and Spark: test_warehouse_servers.py."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest

from warehouse_data import COLUMNS, agency_rows, client_file, csv_client, scorecards

duckdb = pytest.importorskip("duckdb", reason="database sources are tested in DuckDB: pip install -e '.[test]'")


def duckdb_file(path, frame: pl.DataFrame, table: str = "social.daily") -> None:
    schema = table.rpartition(".")[0]
    with duckdb.connect(str(path)) as connection:
        if schema:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        connection.register("frame", frame.to_arrow())
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return agency_rows()


@pytest.fixture
def warehouse(tmp_path, rows):
    path = tmp_path / "db" / "warehouse.duckdb"
    path.parent.mkdir()
    duckdb_file(path, rows)
    return path


@pytest.mark.parametrize(
    ("period", "options"),
    [
        ("month", ["--period", "all"]),
        ("week", ["--period", "all"]),
        ("quarter", ["--period", "all"]),
        ("day", ["--period", "2026-10-15"]),
        ("month", ["--period", "2026-10-03..2026-10-12"]),  # blocks of ten days, counted from the range's first
        ("month", ["--period", "current"]),  # November is unfinished: paced
    ],
)
def test_a_duckdb_table_gives_the_scorecards_csv_and_parquet_files_give(cli, tmp_path, warehouse, rows, period, options):
    from_file = scorecards(cli, csv_client(tmp_path / "csv", rows, period), *options)
    rows.write_parquet(tmp_path / "db" / "rows.parquet")
    from_parquet = scorecards(cli, client_file(tmp_path / "db", f"{{path: rows.parquet, columns: {COLUMNS}}}", period), *options)
    from_database = scorecards(cli, client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.daily, columns: {COLUMNS}}}", period), *options)
    assert from_database == from_file == from_parquet
    assert len(from_file) >= 2


def test_every_kind_of_aggregation_has_values(cli, tmp_path, warehouse):
    """The comparison above means something only if the KPIs have values: hand-checked on October for Acme."""
    cards = scorecards(cli, client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.daily, columns: {COLUMNS}}}"), "--period", "2026-10")
    acme = {kpi["id"]: kpi["value"] for kpi in cards[0]["kpis"]}
    assert cards[0]["client"] == "Acme"
    # followers: the last day (Oct 31 = day 30): vk 500 + 60 = 560 and tg 600 + 60 = 660 -> 1,220 (the 553 row is Nov 15's)
    assert acme["followers"] == 1220
    assert acme["reach"] == 4000  # Oct 1, day 0, client 0
    # cpc: spend / clicks summed over 31 days x 2 channels, seed = day * 7 + channel
    spend = sum(round(12.34 + ((day * 7 + channel) % 13) * 1.07, 2) for day in range(31) for channel in (0, 1))
    clicks = sum(10 + (day * 7 + channel) % 11 for day in range(31) for channel in (0, 1))
    assert acme["cpc"] == round(spend / clicks, 6)
    assert acme["peak"] == max(100 + (day * 7 + channel) % 41 for day in range(31) for channel in (0, 1))
    # mean of per-channel means
    vk, tg = (sum(3.0 + ((day * 7 + channel) % 5) / 2 for day in range(31)) / 31 for channel in (0, 1))
    assert acme["mean_rating"] == pytest.approx((vk + tg) / 2, abs=1e-6)
    times = sorted(float(5 + (day * 7 + channel) % 23) for day in range(31) for channel in (0, 1))
    assert acme["median_response_time"] == (times[30] + times[31]) / 2


def test_the_database_is_read_only_and_unchanged(cli, tmp_path, warehouse):
    before = warehouse.read_bytes()
    scorecards(cli, client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.daily, columns: {COLUMNS}}}"))
    assert warehouse.read_bytes() == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["clients.yaml", "playbook.yaml", "warehouse.duckdb"]


def test_a_query_where_filter_absent_metric_and_env_connection(cli, tmp_path, warehouse, rows, monkeypatch):
    monkeypatch.setenv("KPI_TEST_WAREHOUSE", f"duckdb://{warehouse}")
    query = "SELECT * FROM social.daily WHERE account = 'Bolt'"
    database = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_WAREHOUSE", query: "{query}", columns: {COLUMNS}, where: {{channel: [vk]}}, absent: [shares]}}')
    from_file = csv_client(tmp_path / "csv", rows.filter(pl.col("account") == "Bolt"), "month")
    text = from_file.read_text(encoding="utf-8").replace("columns: {day: date, account: client}}", "columns: {day: date, account: client}, where: {channel: [vk]}, absent: [shares]}")
    from_file.write_text(text, encoding="utf-8")
    # The file has shares: absent: leaves them as they are; the database's query keeps them too.
    assert scorecards(cli, database, "--period", "all") == scorecards(cli, from_file, "--period", "all")


def test_a_metric_the_table_lacks_declared_absent_is_warned_of_at_the_client_files_entry(cli, tmp_path, warehouse):
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.daily, columns: {COLUMNS}, absent: [saves]}}")
    result = cli("check", client, "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert "clients.yaml:8:5: warning KR505 saves declared absent: counted as 0 on this table's rows" in result.stderr
    query = client_file(tmp_path / "query", f'{{connection: ../db/warehouse.duckdb, query: "SELECT * FROM social.daily", columns: {COLUMNS}, absent: [saves]}}')
    assert "counted as 0 on this query's rows" in cli("check", query, "--format", "json", "--fail-on", "never").stderr


def test_timestamps_take_a_stock_at_its_latest_moment(cli, tmp_path):
    rows = agency_rows().filter(pl.col("account") == "Acme").head(3).drop("day")
    frame = rows.with_columns(
        posted=pl.Series(["2026-10-31 09:00:00", "2026-10-31 21:00:00", "2026-10-30 12:00:00"]).str.to_datetime(),
        followers=pl.Series([10250, 10240, 10100]),
        channel=pl.lit("vk"),
    )
    path = tmp_path / "db" / "posts.duckdb"
    path.parent.mkdir()
    duckdb_file(path, frame, "posts")
    cards = scorecards(cli, client_file(tmp_path / "db", "{connection: posts.duckdb, table: posts, columns: {posted: date, account: client}}"), "--period", "2026-10")
    assert next(kpi["value"] for kpi in cards[0]["kpis"] if kpi["id"] == "followers") == 10240


def test_verbose_prints_the_query_sent(cli, tmp_path, warehouse):
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.daily, columns: {COLUMNS}}}")
    result = cli("check", client, "--format", "json", "--fail-on", "never", "--verbose")
    assert "query sent for table \"social.daily\"" in result.stderr
    assert "GROUP BY" in result.stderr and '"social"."daily"' in result.stderr
    assert "GROUP BY" not in cli("check", client, "--format", "json", "--fail-on", "never").stderr


def problem(cli, client) -> str:
    result = cli("check", client)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_a_missing_table_is_named_with_the_closest(cli, tmp_path, warehouse):
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.dialy, columns: {COLUMNS}}}")
    assert 'clients.yaml:8:5: error KR309 no table "social.dialy"' in problem(cli, client)
    assert 'did you mean "daily"' in problem(cli, client)


def test_a_missing_mapped_column_and_text_in_a_number_column(cli, tmp_path, rows):
    path = tmp_path / "db" / "warehouse.duckdb"
    path.parent.mkdir()
    duckdb_file(path, rows.with_columns(pl.col("likes").cast(pl.String)), "daily")
    client = client_file(tmp_path / "db", "{connection: warehouse.duckdb, table: daily, columns: {dya: date, account: client}}")
    assert 'clients.yaml:8:5: error KR304 mapped column "dya" is not in the file (did you mean "day"?)' in problem(cli, client)
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: daily, columns: {COLUMNS}}}")
    assert 'clients.yaml:8:5: error KR302 column "likes" is string, not a number: cast it in query:' in problem(cli, client)


def test_a_failing_query_and_an_unset_variable(cli, tmp_path, warehouse, monkeypatch):
    client = client_file(tmp_path / "db", f'{{connection: warehouse.duckdb, query: "SELEKT 1", columns: {COLUMNS}}}')
    assert "clients.yaml:8:5: error KR309 the query failed: Parser Error: syntax error" in problem(cli, client)
    monkeypatch.delenv("KPI_TEST_UNSET", raising=False)
    client = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_UNSET", table: daily, columns: {COLUMNS}}}')
    assert "clients.yaml:8:5: error KR309 the environment variable KPI_TEST_UNSET is not set: it holds the connection URL" in problem(cli, client)


def test_an_unreachable_server(cli, tmp_path, monkeypatch):
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install -e '.[test]'")
    monkeypatch.setenv("KPI_TEST_WAREHOUSE", "postgres://someone:secret@127.0.0.1:1/agency")
    client = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_WAREHOUSE", table: daily, columns: {COLUMNS}}}')
    stderr = problem(cli, client)
    assert "clients.yaml:8:5: error KR309 cannot connect to postgres://someone:***@127.0.0.1:1/agency:" in stderr
    assert "secret" not in stderr


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{connection: 'postgres://me:hunter2@db/agency', table: daily}", "8:18: error KR217 a password written into a client file is refused"),
        ("{connection: 'postgress://db/agency', table: daily}", '8:18: error KR217 unknown database "postgress" (did you mean "postgres"?)'),
        ("{connection: warehouse.duckdb}", "8:6: error KR217 a database source takes a table: or a query: (one of them)"),
        ("{connection: warehouse.duckdb, table: daily, sheet: 2}", "8:50: error KR217 sheet: is an option of data files"),
        ("{connection: missing.duckdb, table: daily}", '8:18: error KR001 DuckDB file "missing.duckdb" not found'),
        ("{connection: rows.csv, table: daily}", '8:18: error KR217 "rows.csv" is a data file: write it under path:'),
        ("{path: rows.csv, connection: warehouse.duckdb, table: daily}", "8:6: error KR217 give either path (a data file) or connection (a database), not both"),
        ("{connection: 'env:KPI-WAREHOUSE', table: daily}", '8:18: error KR217 "env:KPI-WAREHOUSE": write env: and the name of an environment variable'),
        ("{table: daily}", '8:5: error KR102 missing required key "path" (a data file) or "connection" (a database)'),
    ],
)
def test_a_database_source_written_wrong_is_found_by_validate(cli, tmp_path, warehouse, entry, message):
    (tmp_path / "db" / "rows.csv").write_text("date\n", encoding="utf-8")
    client = client_file(tmp_path / "db", entry)
    result = cli("validate", client)
    assert result.exit_code == 2
    assert f"clients.yaml:{message}" in result.stderr, result.stderr


def test_a_database_source_is_the_only_source_of_its_file(cli, tmp_path, warehouse):
    client = client_file(tmp_path / "db", "{connection: warehouse.duckdb, table: social.daily}\n  - rows.csv")
    (tmp_path / "db" / "rows.csv").write_text("date\n", encoding="utf-8")
    result = cli("validate", client)
    assert result.exit_code == 2
    assert "clients.yaml:7:1: error KR217 a database source must be the only data: of its client file" in result.stderr


def test_a_missing_engine_names_the_extra_to_install(cli, tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("clickhouse_connect") is not None:
        pytest.skip("clickhouse-connect is installed here: the message for a missing engine cannot be seen")
    monkeypatch.setenv("KPI_TEST_WAREHOUSE", "clickhouse://localhost/agency")
    client = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_WAREHOUSE", table: daily, columns: {COLUMNS}}}')
    assert 'error KR309 clickhouse sources need the engine\'s driver: pip install "kpi-rules[clickhouse]"' in problem(cli, client)


def test_commands_that_touch_no_database_never_import_ibis(tmp_path):
    from conftest import EXAMPLES

    script = (
        "import sys\nfrom kpi_rules.cli import main\n"
        f"for args in (['validate', {str(EXAMPLES)!r}], ['check', {str(EXAMPLES / 'clients')!r}, '--fail-on', 'never']):\n"
        "    sys.argv = ['kpi-rules', *args]\n"
        "    try:\n        main()\n    except SystemExit as exit:\n        assert exit.code == 0, exit.code\n"
        "assert 'ibis' not in sys.modules and 'duckdb' not in sys.modules, 'imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr


def test_explain_counts_the_database_rows_behind_a_value(cli, tmp_path, warehouse):
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: social.daily, columns: {COLUMNS}}}")
    result = cli("explain", client, "cpc", "--client", "Acme", "--period", "2026-10", "--format", "json")
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)[0]
    clicks = next(item for item in explained["inputs"] if item["name"] == "clicks")
    # 31 days x 2 channels; the reach rows of Oct 1 have no clicks
    assert clicks["sources"] == [{"path": str(tmp_path / "db" / "warehouse.duckdb"), "rows": 62, "first": "2026-10-01", "last": "2026-10-31"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (pl.col("day").cast(pl.String), 'error KR303 column "day" is string, not a date: cast it in query: (CAST(... AS DATE))'),
        (pl.when(pl.col("likes") == 21).then(None).otherwise(pl.col("day")).alias("day"), "error KR303 table \"daily\" of {path} has rows without a date or a client"),
        (pl.when(pl.col("likes") == 21).then(float("inf")).otherwise(pl.col("rating")).alias("rating"), "error KR302 table \"daily\" of {path} has a value that is not a finite number (inf or NaN)"),
    ],
)
def test_bad_values_in_the_table_are_errors_at_the_source(cli, tmp_path, rows, change, message):
    path = tmp_path / "db" / "warehouse.duckdb"
    path.parent.mkdir()
    duckdb_file(path, rows.with_columns(change), "daily")
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: daily, columns: {COLUMNS}}}")
    assert "clients.yaml:8:5: " + message.format(path=path) in problem(cli, client)


def test_timestamps_and_a_client_time_zone_are_converted_in_the_query(cli, tmp_path, rows):
    path = tmp_path / "db" / "warehouse.duckdb"
    path.parent.mkdir()
    duckdb_file(path, rows.with_columns(pl.col("day").cast(pl.Datetime("us"))), "daily")
    client = client_file(tmp_path / "db", f"{{connection: warehouse.duckdb, table: daily, columns: {COLUMNS}}}")
    client.write_text(client.read_text(encoding="utf-8") + "timezone: Europe/Moscow\n", encoding="utf-8")
    assert 'error KR303 column "day" holds timestamps, and the client has a time zone: convert them in query:' in problem(cli, client)
