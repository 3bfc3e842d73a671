"""The real engines of tests/servers.py: a frame loaded into PostgreSQL or Spark comes back through Ibis with the
same values and real column types (checked in the engine's own catalogue too, not only through Ibis)."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from servers import spark_warnings

# A date, a text, an integer, a float and a timestamp column, each with a null somewhere.
DAILY = pl.DataFrame(
    {
        "day": [date(2024, 3, 1), date(2024, 3, 2), None],
        "client": ["volga", None, ""],
        "posts": [3, None, -2],
        "reach": [1250.5, 0.1, None],
        "published": [datetime(2024, 3, 1, 9, 30), None, datetime(2024, 3, 3, 23, 59, 59, 5)],
    }
)
IBIS_TYPES = {"day": "date", "client": "string", "posts": "int64", "reach": "float64", "published": "timestamp"}


@pytest.fixture
def postgres_backend(postgres):
    """Ibis connected to the test server, disconnected after the test (an open psycopg connection warns)."""
    backend = ibis.connect(postgres.url)
    yield backend
    backend.disconnect()


def column_types(postgres, table: str, schema: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(postgres.url) as connection:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    return dict(rows)


def read_back(table) -> pl.DataFrame:
    """The table's rows in DAILY's order (the engines keep none), with Ibis' types named as in IBIS_TYPES."""
    assert {name: str(dtype).split("(")[0] for name, dtype in table.schema().items()} == IBIS_TYPES
    return table.order_by(ibis._.reach.desc(nulls_first=False)).to_polars()


def test_postgres_keeps_values_nulls_and_types(postgres, postgres_backend):
    postgres.load("daily", DAILY)

    assert column_types(postgres, "daily", "public") == {
        "day": "date",
        "client": "text",
        "posts": "bigint",
        "reach": "double precision",
        "published": "timestamp without time zone",
    }
    assert_frame_equal(read_back(postgres_backend.table("daily")), DAILY)


def test_postgres_table_in_a_schema_and_a_reload_replacing_it(postgres, postgres_backend):
    postgres.load("daily", DAILY, schema="agency")
    postgres.load("daily", DAILY.head(2), schema="agency")

    assert column_types(postgres, "daily", "agency")["day"] == "date"
    assert_frame_equal(read_back(postgres_backend.table("daily", database="agency")), DAILY.head(2))


def test_postgres_url_connects_to_the_schema_it_names(postgres):
    postgres.load("weekly", DAILY.head(1), schema="reports")
    backend = ibis.connect(f"{postgres.url}/reports")
    try:
        assert_frame_equal(read_back(backend.table("weekly")), DAILY.head(1))
    finally:
        backend.disconnect()


@spark_warnings
def test_spark_keeps_values_nulls_and_types(spark):
    spark.load("daily", DAILY)

    assert spark.session.table("daily").dtypes == [
        ("day", "date"),
        ("client", "string"),
        ("posts", "bigint"),
        ("reach", "double"),
        ("published", "timestamp"),
    ]
    # Spark's rows come back through pandas, whose timestamps are in nanoseconds.
    expected = DAILY.with_columns(pl.col("published").dt.cast_time_unit("ns"))
    assert_frame_equal(read_back(ibis.connect(spark.url).table("daily")), expected)
