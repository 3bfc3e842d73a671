import datetime as dt

import polars as pl
import pytest

from kpi_rules.data import load as data_module
from kpi_rules.diagnostics import InputError
from kpi_rules.model import SourceDef

METRICS = ["spend", "leads", "impressions", "reach"]


def read(path, **options):
    return data_module.read_source(SourceDef(path=path, format=options.pop("format", "csv"), **options), METRICS, scan=False).frame.collect()


def test_russian_excel_export_cp1251_semicolons_decimal_commas_and_mapping(write):
    path = write(
        "vk.csv",
        "Дата;Расход;Показы\n05.10.2026;1 234,56;10000\n06.10.2026;\u00a0999,5;\n",
        encoding="cp1251",
    )
    frame = read(
        path, encoding="cp1251", separator=";", decimal=",", date_format="%d.%m.%Y",
        columns=(("Дата", "date"), ("Расход", "spend"), ("Показы", "impressions")),
    )
    assert frame["spend"].to_list() == [1234.56, 999.5]
    assert frame["impressions"].to_list() == [10000.0, None]
    assert frame["date"].dt.day().to_list() == [5, 6]


def test_text_in_a_number_column_names_file_line_and_column(write):
    path = write("d.csv", "date,spend,leads\n2026-10-01,100,1\n2026-10-02,abc,2\n2026-10-03,5,n/a\n")
    with pytest.raises(InputError) as caught:
        read(path)
    assert [str(d) for d in caught.value.diagnostics] == [
        f'{path}:3:2: error KR302 "abc" in column "spend" is not a number',
        f'{path}:4:3: error KR302 "n/a" in column "leads" is not a number',
    ]


def test_bad_dates_missing_date_column_and_misspelled_metric(write):
    with pytest.raises(InputError, match=r':3:1: error KR303 "2026-13-01" in column "date" is not a date'):
        read(write("a.csv", "date,spend\n2026-10-01,1\n2026-13-01,2\n"))
    with pytest.raises(InputError) as caught:
        read(write("b.csv", "day,spned\n2026-10-01,1\n"))
    assert str(caught.value).endswith('error KR304 no "date" column')


def test_mapping_to_a_missing_column_or_unknown_metric(write):
    path = write("c.csv", "date,Amount spent (USD)\n2026-10-01,1\n")
    with pytest.raises(InputError) as caught:
        read(path, columns=(("Amount spent", "spend"), ("Amount spent (USD)", "spnd")))
    text = str(caught.value)
    assert 'mapped column "Amount spent" is not in the file' in text
    assert 'mapped to unknown metric "spnd" (did you mean "spend"?)' in text


def test_timestamps_of_per_post_exports_count_as_their_day(write):
    frame = read(write("p.csv", "date,leads\n2026-10-05 14:30,1\n2026-10-05T09:00:00,2\n"))
    assert frame["date"].to_list() == [frame["date"][0]] * 2


def test_json_yaml_and_parquet_sources(write, tmp_path):
    json_path = write("d.json", '[{"date": "2026-10-01", "spend": 10, "leads": "2"}]')
    yaml_path = write("d.yaml", "- {date: 2026-10-01, spend: 10, leads: 2}\n")
    parquet_path = tmp_path / "d.parquet"
    pl.DataFrame({"date": ["2026-10-01"], "spend": [10.0], "leads": [2]}).write_parquet(parquet_path)
    for path, kind in ((json_path, "json"), (yaml_path, "yaml"), (parquet_path, "parquet")):
        frame = read(path, format=kind)
        assert frame.select("spend", "leads").row(0) == (10.0, 2.0), kind
    with pytest.raises(InputError, match=r'row 1: "x" in column "spend" is not a number'):
        read(write("bad.json", '[{"date": "2026-10-01", "spend": "x"}]'), format="json")


def test_unreadable_files_are_input_errors(write, tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="KR301 cannot read PARQUET"):
        read(tmp_path / "broken.parquet", format="parquet")
    with pytest.raises(InputError, match="expected a list of records"):
        read(write("d.yaml", "a: 1\n"), format="yaml")


def test_a_wrong_separator_is_named(write):
    with pytest.raises(InputError, match='the header looks separated by ";": add separator: ";" to the source'):
        read(write("s.csv", "date;spend\n2026-10-01;1\n"))


def test_an_empty_date_is_an_error(write):
    with pytest.raises(InputError, match=r':3:1: error KR303 an empty cell in column "date" is not a date'):
        read(write("e.csv", "date,spend\n2026-10-01,1\n,2\n"))


def test_a_cp1251_file_without_its_encoding_is_named(tmp_path):
    path = tmp_path / "ru.csv"
    path.write_bytes("Дата,Расход\n2026-10-01,1\n".encode("cp1251"))
    with pytest.raises(InputError, match="not UTF-8 .*add encoding: cp1251"):
        read(path)


def test_nested_values_in_a_record_file_are_input_errors(write):
    with pytest.raises(InputError, match="KR30[12]"):
        read(write("n.yaml", "- {date: 2026-10-01, spend: {amount: 1}}\n- {date: 2026-10-02, spend: {amount: 2}}\n"), format="yaml")


def test_a_typed_parquet_file_is_scanned_not_read(tmp_path):
    path = tmp_path / "typed.parquet"
    pl.DataFrame({"date": [dt.date(2026, 10, 1)], "client": ["A"], "spend": [10], "leads": [2.0]}).write_parquet(path)
    frame = data_module.read_source(SourceDef(path=path, format="parquet"), METRICS).frame
    assert isinstance(frame, pl.LazyFrame) and "Parquet SCAN" in frame.explain()
    assert frame.collect().row(0) == (dt.date(2026, 10, 1), "A", 10.0, 2.0)


def test_text_in_a_parquet_number_column_is_reported(tmp_path):
    path = tmp_path / "text.parquet"
    pl.DataFrame({"date": [dt.date(2026, 10, 1)] * 2, "spend": ["10", "ten"]}).write_parquet(path)
    with pytest.raises(InputError, match='row 2: "ten" in column "spend" is not a number'):
        read(path, format="parquet")


def test_an_empty_date_in_a_typed_parquet_file_is_reported(tmp_path):
    path = tmp_path / "gap.parquet"
    pl.DataFrame({"date": [dt.date(2026, 10, 1), None], "spend": [1.0, 2.0]}).write_parquet(path)
    with pytest.raises(InputError, match='row 2: an empty cell in column "date" is not a date'):
        read(path, format="parquet")
