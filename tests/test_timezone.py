"""A client's time zone: timestamps in the data are converted to it before their day is taken."""

import datetime as dt

import polars as pl
import pytest

from conftest import REPO
from kpi_rules.data.load import read_source
from kpi_rules.diagnostics import InputError
from kpi_rules.model import SourceDef
from kpi_rules.pipeline import compile_clients, score

D = dt.date
POSTS = REPO / "tests" / "data" / "time" / "posts.csv"
PLAYBOOK = "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  posts: {kpis: [applause_rate]}\n"


def dates(path, timezone=None, **options) -> list[dt.date]:
    source = SourceDef(path=path, format=options.pop("format", "csv"), timezone=timezone, **options)
    return read_source(source, ["likes"], scan=False).frame.collect()["date"].to_list()


def client_file(write, timezone_line: str = "", data: str = f"  - {{path: {POSTS}, rows: post, columns: {{Publish time: date}}}}\n"):
    write("playbook.yaml", PLAYBOOK)
    return write("client.yaml", f"kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [posts]\n{timezone_line}data:\n{data}")


def applause(client, period: str) -> float:
    (card,) = score(compile_clients([client]), period)
    return next(kpi.value for kpi in card.kpis if kpi.id == "applause_rate")


def test_a_post_late_on_31_october_utc_counts_in_november_in_moscow(write):
    moscow = client_file(write, "timezone: Europe/Moscow\n")
    # Moscow: October has the post of the 30th (10 likes); November the other three (30 + 20 + 40 likes).
    assert (applause(moscow, "2026-10"), applause(moscow, "2026-11")) == (10.0, 30.0)
    as_written = client_file(write)
    # Without a time zone each timestamp's own day counts: two posts in October (10 + 30), two in November (20 + 40).
    assert (applause(as_written, "2026-10"), applause(as_written, "2026-11")) == (20.0, 30.0)


def test_the_dates_of_iso_timestamps_with_and_without_a_zone():
    options = {"rows": "post", "columns": (("Publish time", "date"),)}
    assert dates(POSTS, **options) == [D(2026, 10, 30), D(2026, 10, 31), D(2026, 11, 2), D(2026, 11, 2)]
    # 23:30 at UTC-5 on 2 November is 07:30 on the 3rd in Moscow.
    assert dates(POSTS, "Europe/Moscow", **options) == [D(2026, 10, 30), D(2026, 11, 1), D(2026, 11, 2), D(2026, 11, 3)]
    # Los Angeles is behind UTC: 22:30 UTC on 31 October is 15:30 there, still the 31st.
    assert dates(POSTS, "America/Los_Angeles", **options) == [D(2026, 10, 30), D(2026, 10, 31), D(2026, 11, 2), D(2026, 11, 2)]


def test_offsets_as_exports_write_them_and_naive_times_taken_as_local(write):
    path = write(
        "t.csv",
        "date,likes\n"
        "2026-10-31T21:00:00Z,1\n"  # 00:00 on 1 November in Moscow
        "2026-10-31T20:59:59.999Z,1\n"  # a millisecond before: still 31 October
        "2026-10-31 21:30 UTC,1\n"
        "2026-10-31T23:30:00+03,1\n"  # already Moscow time
        "2026-10-31T23:30:00+0300,1\n"
        "2026-10-31 22:30,1\n"  # no offset: local time already, as exports write it
        "2026-10-31,1\n",  # a plain date is a day of the client's calendar: kept
    )
    assert dates(path, "Europe/Moscow") == [D(2026, 11, 1), D(2026, 10, 31), D(2026, 11, 1), D(2026, 10, 31), D(2026, 10, 31), D(2026, 10, 31), D(2026, 10, 31)]


def test_daylight_saving_time_is_the_zones_on_each_day(write):
    # Berlin is UTC+2 in summer and UTC+1 from 25 October 2026.
    path = write("t.csv", "date,likes\n2026-07-31T22:30:00Z,1\n2026-10-31T22:30:00Z,1\n")
    assert dates(path, "Europe/Berlin") == [D(2026, 8, 1), D(2026, 10, 31)]


def test_a_leap_day_reached_across_midnight(write):
    path = write("t.csv", "date,likes\n2028-02-28T22:00:00Z,1\n2028-02-29T22:00:00Z,1\n")
    assert dates(path, "Asia/Tokyo") == [D(2028, 2, 29), D(2028, 3, 1)]


def test_timestamps_with_a_date_format(write):
    path = write("t.csv", "date,likes\n31.10.2026 22:30,1\n31.10.2026 20:30,1\n")
    # Meta's "Publish time" is written so: local time, its day kept.
    assert dates(path, "Europe/Moscow", date_format="%d.%m.%Y %H:%M") == [D(2026, 10, 31), D(2026, 10, 31)]
    assert dates(path, date_format="%d.%m.%Y %H:%M") == [D(2026, 10, 31), D(2026, 10, 31)]
    aware = write("a.csv", "date,likes\n2026-10-31 22:30:00-0500,1\n")
    # 03:30 UTC on 1 November: with the zone, 06:30 in Moscow; without, polars reads the instant in UTC.
    assert dates(aware, "Europe/Moscow", date_format="%Y-%m-%d %H:%M:%S%z") == [D(2026, 11, 1)]
    assert dates(aware, date_format="%Y-%m-%d %H:%M:%S%z") == [D(2026, 11, 1)]


def test_datetime_columns_aware_and_naive(tmp_path):
    naive = [dt.datetime(2026, 10, 31, 22, 30), dt.datetime(2026, 10, 31, 12, 0)]
    frame = pl.DataFrame({"date": naive, "likes": [1.0, 2.0]})
    frame.write_parquet(tmp_path / "naive.parquet")
    frame.with_columns(pl.col("date").dt.replace_time_zone("America/New_York")).write_parquet(tmp_path / "aware.parquet")
    assert dates(tmp_path / "naive.parquet", format="parquet") == [D(2026, 10, 31), D(2026, 10, 31)]
    assert dates(tmp_path / "naive.parquet", "Europe/Moscow", format="parquet") == [D(2026, 10, 31), D(2026, 10, 31)]
    # 22:30 in New York (UTC-4 until 1 November) is 05:30 on 1 November in Moscow.
    assert dates(tmp_path / "aware.parquet", "Europe/Moscow", format="parquet") == [D(2026, 11, 1), D(2026, 10, 31)]


@pytest.mark.parametrize("cell", ["2026-10-31T25:00:00Z", "2026-10-31T22:30:00 MSK", "2026-02-30T10:00:00Z", "31/10/2026 22:30"])
def test_a_timestamp_that_will_not_parse_is_named_at_its_cell(write, cell):
    write("posts.csv", f"Publish time,Likes\n2026-10-30T12:00:00Z,10\n{cell},30\n")
    data = "  - {path: posts.csv, rows: post, columns: {Publish time: date}}\n"
    # Scanned first, read again the slow way to name the cell.
    with pytest.raises(InputError) as caught:
        score(compile_clients([client_file(write, "timezone: Europe/Moscow\n", data)]), "2026-10")
    assert f'posts.csv:3:1: error KR303 "{cell}" in column "Publish time" is not a date' in str(caught.value)


def test_an_unknown_time_zone_is_named_once_at_its_line(write):
    write("a.csv", "date,likes\n2026-10-01,1\n")
    client = client_file(write, "timezone: Europe/Moskow\n", "  - a.csv\n  - a.csv\n")
    with pytest.raises(InputError) as caught:
        compile_clients([client])
    assert [str(problem) for problem in caught.value.diagnostics] == [
        (
            f'{client}:5:11: error KR211 unknown time zone "Europe/Moskow" (did you mean "Europe/Moscow"?): '
            "use an IANA name such as Europe/Moscow, Asia/Almaty or UTC"
        )
    ]


@pytest.mark.parametrize("name, hint", [("europe/moscow", ' (did you mean "Europe/Moscow"?)'), ("localtime", ""), ("../../etc/passwd", "")])
def test_names_that_are_not_a_place(write, name, hint):
    """A zone's name is looked up, never opened as a path; the machine's own zone is not a client's."""
    write("a.csv", "date,likes\n2026-10-01,1\n")
    with pytest.raises(InputError) as caught:
        compile_clients([client_file(write, f'timezone: "{name}"\n', "  - a.csv\n")])
    assert f'KR211 unknown time zone "{name}"{hint}:' in str(caught.value)


def test_an_unknown_time_zone_does_not_hide_the_files_other_problems(write):
    client = client_file(write, "timezone: Mars/Olympus\n", "  - missing.csv\n")
    with pytest.raises(InputError) as caught:
        compile_clients([client])
    assert [problem.code for problem in caught.value.diagnostics] == ["KR211", "KR001"]


def test_the_time_zone_reaches_every_source(write):
    write("a.csv", "date,likes\n2026-10-01,1\n")
    (group,) = compile_clients([client_file(write, "timezone: Asia/Almaty\n", "  - a.csv\n  - {path: a.csv, rows: post}\n")])
    assert [source.timezone for source in group.template.sources] == ["Asia/Almaty", "Asia/Almaty"]
