"""Database sources on real servers: a PostgreSQL server and Spark in local mode, started by tests/servers.py.
Each gives the scorecards a CSV file gives, value by value, with the aggregation run in the engine."""

from __future__ import annotations

import pytest

from servers import spark_warnings
from warehouse_data import COLUMNS, agency_rows, client_file, csv_client, scorecards

pytest.importorskip("ibis", reason="database sources need Ibis: pip install -e '.[test]'")

PERIODS = [
    ("month", ["--period", "all"]),
    ("week", ["--period", "all"]),
    ("month", ["--period", "2026-10-03..2026-10-12"]),
    ("month", ["--period", "current"]),
]


@pytest.fixture(scope="module")
def rows():
    return agency_rows()


@pytest.fixture(scope="module")
def postgres_table(postgres, rows):
    postgres.load("daily", rows, schema="social")
    return postgres.url


@pytest.mark.parametrize(("period", "options"), PERIODS)
def test_a_postgresql_table_gives_the_scorecards_a_csv_file_gives(cli, tmp_path, monkeypatch, rows, postgres_table, period, options):
    monkeypatch.setenv("KPI_TEST_WAREHOUSE", postgres_table)
    database = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_WAREHOUSE", table: social.daily, columns: {COLUMNS}}}', period)
    assert scorecards(cli, database, *options) == scorecards(cli, csv_client(tmp_path / "csv", rows, period), *options)


def test_a_postgresql_query_and_its_problems(cli, tmp_path, monkeypatch, rows, postgres_table):
    monkeypatch.setenv("KPI_TEST_WAREHOUSE", postgres_table)
    query = "SELECT * FROM social.daily WHERE channel = 'tg' OR channel IS NULL"
    database = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_WAREHOUSE", query: "{query}", columns: {COLUMNS}}}')
    from_file = csv_client(tmp_path / "csv", rows.filter((rows["channel"] == "tg") | rows["channel"].is_null()))
    assert scorecards(cli, database, "--period", "all") == scorecards(cli, from_file, "--period", "all")

    missing = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_WAREHOUSE", table: social.dayly, columns: {COLUMNS}}}')
    result = cli("check", missing)
    assert result.exit_code == 2
    assert 'clients.yaml:8:5: error KR309 no table "social.dayly" in env:KPI_TEST_WAREHOUSE (did you mean "daily"?)' in result.stderr


@pytest.fixture(scope="module")
def spark_table(spark, rows):
    spark.load("daily", rows)
    return spark.url


@spark_warnings
@pytest.mark.parametrize(("period", "options"), PERIODS[:3])
def test_a_spark_table_gives_the_scorecards_a_csv_file_gives(cli, tmp_path, monkeypatch, rows, spark_table, period, options):
    monkeypatch.setenv("KPI_TEST_SPARK", spark_table)
    database = client_file(tmp_path / "db", f'{{connection: "env:KPI_TEST_SPARK", table: daily, columns: {COLUMNS}}}', period)
    assert scorecards(cli, database, *options) == scorecards(cli, csv_client(tmp_path / "csv", rows, period), *options)
