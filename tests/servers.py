"""Real database engines for the tests of database sources: a PostgreSQL server started in a temporary folder and
Spark in local mode. Each is a session fixture (made available in conftest.py) giving a `url` for `ibis.connect`
and a `load(table, frame)` that puts a polars frame in as a table with real column types. Where an engine cannot
run on the machine, its tests are skipped with the reason and the package that would install it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # polars is imported where a frame is loaded: conftest imports this module for every test run
    import polars as pl

DATABASE = "kpi"
SERVER_USER = "postgres"
# Column types from polars dtypes; a Datetime is a timestamp, or a timestamptz where it has a time zone.
POSTGRES_TYPES = {
    "Date": "date",
    "Float64": "double precision",
    "Int64": "bigint",
    "String": "text",
    "Boolean": "boolean",
}
# Spark's results come back through pandas (ibis executes with toPandas), and on pandas 3 that path warns:
# pyspark 4.0 passes astype(copy=...) and ibis 12 reads pd.options.future.infer_string, both deprecated; pyspark
# leaves the socket of every collect() for the garbage collector to close (pyspark/util.py _load_from_socket).
# For the tests that query Spark: `pytestmark = spark_warnings` or `@spark_warnings`.
spark_warnings = pytest.mark.filterwarnings(
    "ignore:The copy keyword is deprecated:DeprecationWarning",
    "ignore:The 'future.infer_string' option is deprecated:DeprecationWarning",
    "ignore:unclosed <socket.socket:ResourceWarning",
)


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server: `url` for ibis.connect (or psycopg), `load` to create a table in it."""

    url: str

    def load(self, table: str, frame: pl.DataFrame, schema: str | None = None) -> None:
        """Create `table` (in `schema`, created if missing), replacing one of that name, and copy the rows in."""
        import psycopg
        from psycopg import sql

        target = sql.Identifier(schema, table) if schema else sql.Identifier(table)
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(postgres_type(dtype)))
            for name, dtype in frame.schema.items()
        )
        with psycopg.connect(self.url, autocommit=True) as connection:
            if schema:
                connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            connection.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
            # polars' CSV writes a null as nothing and an empty string as "", which is how COPY's CSV reads them.
            copy_rows = sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(target)
            with connection.cursor().copy(copy_rows) as copy:
                copy.write(frame.write_csv())


def postgres_type(dtype: pl.DataType) -> str:
    kind = dtype.base_type().__name__
    if kind == "Datetime":
        return "timestamptz" if dtype.time_zone else "timestamp"
    if kind not in POSTGRES_TYPES:
        raise TypeError(f"no PostgreSQL column type for polars {dtype} in tests/servers.py")
    return POSTGRES_TYPES[kind]


def find_postgres_binaries() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: pg_config's, Debian's newest, or the PATH's."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout
        candidates.append(Path(bindir.strip()))
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(
        debian, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0, reverse=True
    )
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    needed = ("initdb", "pg_ctl", "postgres")
    return next((folder for folder in candidates if all((folder / name).is_file() for name in needed)), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1, trust authentication, database `kpi`; stopped and removed at the end."""
    binaries = find_postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found: apt-get install postgresql")
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'ibis-framework[postgres]'")
    import psycopg

    # PostgreSQL refuses to run as root (CI runs as root): there the server runs as Debian's postgres user.
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    account = server_account() if as_root else None
    if as_root and not (shutil.which("runuser") and account):
        pytest.skip(f"running as root with no {SERVER_USER} user (or runuser) to run the PostgreSQL server as")
    prefix = ["runuser", "-u", SERVER_USER, "--"] if as_root else []

    # Under /tmp when root: the server user must reach the folder, and root's TMPDIR may be closed to it.
    folder = Path(tempfile.mkdtemp(prefix="kpi-rules-postgres-", dir="/tmp" if as_root else None))
    if account:
        os.chown(folder, account.pw_uid, account.pw_gid)
    data, log = folder / "data", folder / "server.log"

    def run(*command: str | Path) -> subprocess.CompletedProcess:
        # cwd: the server user may not be allowed into the tests' working directory.
        return subprocess.run([*prefix, *map(str, command)], cwd=folder, capture_output=True, text=True, check=False)

    try:
        created = run(
            binaries / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        if created.returncode:
            raise RuntimeError(f"initdb failed:\n{created.stdout}{created.stderr}")
        # Another process may take the free port before the server does: then try another one.
        for _ in range(3):
            port = free_port()
            # -F: no fsync (the data is thrown away); -k: the Unix socket in our folder, not /var/run/postgresql.
            options = f"-h 127.0.0.1 -p {port} -k {folder} -F -c full_page_writes=off"
            server = run(binaries / "pg_ctl", "start", "-D", data, "-l", log, "-w", "-t", "60", "-o", options)
            if server.returncode == 0:
                break
        else:
            raise RuntimeError(f"PostgreSQL did not start:\n{server.stdout}{server.stderr}\n{log.read_text()}")
        try:
            with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/postgres", autocommit=True) as connection:
                connection.execute(f"CREATE DATABASE {DATABASE}")
            yield Postgres(f"postgres://postgres@127.0.0.1:{port}/{DATABASE}")
        finally:
            run(binaries / "pg_ctl", "stop", "-D", data, "-m", "immediate", "-w")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def server_account():
    """The postgres user's passwd entry, or None; pwd exists on Unix only, where the tests can run as root."""
    import pwd

    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        return None


@dataclass(frozen=True)
class Spark:
    """A local Spark session: `ibis.connect(url)` in this process reads it; `load` registers a table in it."""

    session: object  # pyspark.sql.SparkSession, imported only when the fixture runs
    # Ibis' PySpark backend turns a pyspark:// URL into SparkSession.builder.getOrCreate(): this very session.
    url: str = "pyspark://"

    def load(self, table: str, frame: pl.DataFrame) -> None:
        """Register `frame` as the temporary view `table` (replacing one of that name), typed from its dtypes
        through Arrow: Date -> date, Datetime -> timestamp, Float64 -> double, Int64 -> bigint, String -> string."""
        self.session.createDataFrame(frame.to_arrow()).createOrReplaceTempView(table)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """Spark in local mode, one core, UTC, quiet; stopped at the end of the session."""
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'ibis-framework[pyspark]'")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java for Spark: apt-get install default-jre-headless")
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as environment:
        # Read when the JVM and its Python workers start: bind to loopback (no warning about the host's name)
        # and run Python UDFs in this interpreter, whichever python3 is on PATH.
        environment.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        environment.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[1]")
            .appName("kpi-rules-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.memory", "512m")
            .config("spark.sql.session.timeZone", "UTC")
            # A one-core test run: the client JIT compiler and serial GC start faster; dates read in UTC.
            .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Duser.timezone=UTC")
            .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield Spark(session)
    finally:
        session.stop()
