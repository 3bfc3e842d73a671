"""Exports as the platforms write them: source options, column matching, traps that once gave wrong numbers."""

import json

import pytest
import xlsxwriter

PLAYBOOK = "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  money: {kpis: [cpl, lead_cr]}\n"


@pytest.fixture
def agency(write):
    """A playbook scoring cpl and lead_cr; returns a function writing a client file with the given sources."""
    write("playbook.yaml", PLAYBOOK)

    def client(data: str, name: str = "client.yaml", extra: str = "") -> object:
        return write(name, f"kpi-rules: 1\nclient: Acme\nplaybook: playbook.yaml\ngoals: [money]\ncurrency: RUB\n{extra}data:\n{data}")

    return client


def scores(cli, client, period="2026-10", *options) -> tuple[dict, object]:
    result = cli("check", client, "--period", period, "--format", "json", *options)
    cards = [json.loads(line.rstrip(",")) for line in result.stdout.splitlines() if line.startswith('{"client"')]
    return {kpi["id"]: kpi for card in cards for kpi in card["kpis"]}, result


def test_utf8_decimal_comma_with_spaces_and_no_break_spaces(cli, agency, write):
    """Once: could not parse '1 000,50' as dtype f64 (the cp1251 file worked), and the error blamed the other file."""
    write("ads.csv", "date;spend;leads;clicks\n2026-10-01;1 000,50;3;10\n2026-10-02;9\u00a0540,00;4;20\n")
    kpis, result = scores(cli, agency('  - {path: ads.csv, separator: ";", decimal: ","}\n'))
    assert result.exit_code == 0, result.stderr
    assert kpis["cpl"]["value"] == pytest.approx(10540.5 / 7, abs=1e-6)


def test_a_bad_cell_is_blamed_on_its_own_file(cli, agency, write):
    write("good.csv", "date,spend,clicks\n2026-10-01,100,10\n")
    write("bad.csv", "date,leads\n2026-10-01,lots\n")
    result = cli("check", agency("  - good.csv\n  - bad.csv\n"), "--period", "2026-10")
    assert result.exit_code == 2
    assert 'bad.csv:2:2: error KR302 "lots" in column "leads" is not a number' in result.stderr
    assert "good.csv:" not in result.stderr


def test_where_keeps_only_the_rows_of_one_result_indicator(cli, agency, write):
    """Once: Results summed over campaigns of different objectives gave 168,735 'leads', marked pass."""
    write("meta.csv", "Day,Result indicator,Results,Link clicks,Spend\n"
          "2026-10-01,actions:lead,5,50,100\n2026-10-01,actions:link_click,900,900,50\n2026-10-02,actions:lead,5,30,60\n")
    source = "  - path: meta.csv\n    where: {Result indicator: actions:lead}\n    columns: {Day: date, Results: leads, Link clicks: clicks}\n"
    kpis, result = scores(cli, agency(source))
    assert result.exit_code == 0, result.stderr
    assert (kpis["cpl"]["value"], kpis["lead_cr"]["value"]) == (16.0, 12.5)  # 160 / 10; 10 / 80 x 100


def test_a_week_that_straddles_the_month_is_split_and_marked_estimated(cli, agency, write):
    """Once: a weekly row dated Monday 28 September counted wholly in September."""
    write("weekly.csv", "start,end,spend,leads,clicks\n2026-09-28,2026-10-04,700,14,70\n2026-10-05,2026-10-11,100,2,20\n")
    source = "  - {path: weekly.csv, date_end: end, columns: {start: date}}\n"
    kpis, result = scores(cli, agency(source))
    assert result.exit_code == 0, result.stderr
    assert kpis["cpl"]["value"] == 50.0  # (400 + 100) / (8 + 2): 4 of the first week's 7 days are October's
    assert kpis["cpl"]["estimated"] is True
    table = cli("check", agency(source), "--period", "2026-10").stdout
    assert "≈ 50.00 RUB" in table and "estimated: a row split over days" in table


def test_rows_week_without_an_end_column(cli, agency, write):
    write("weekly.csv", "date,spend,leads,clicks\n2026-09-28,700,14,70\n")
    kpis, _ = scores(cli, agency("  - {path: weekly.csv, rows: week}\n"))
    assert (kpis["cpl"]["value"], kpis["cpl"]["estimated"]) == (50.0, True)


def test_two_columns_mapped_to_date_are_an_error_at_their_line_from_validate_too(cli, agency, write):
    """Once: Reporting starts and Reporting ends both mapped to date crashed (exit 3), and validate said valid."""
    write("meta.csv", "Reporting starts,Reporting ends,Spend\n2026-10-01,2026-10-01,1\n")
    client = agency("  - path: meta.csv\n    columns:\n      Reporting starts: date\n      Reporting ends: date\n")
    for command in ("validate", "check"):
        result = cli(command, client)
        assert result.exit_code == 2
        assert f'{client}:10:7: error KR306 columns "Reporting starts" and "Reporting ends" are both mapped to date' in result.stderr


def test_several_columns_mapped_to_one_metric_are_added_up(cli, agency, write):
    """Once: address taps + call taps -> contact_clicks crashed (exit 3)."""
    write("d.csv", "date,Spend,Leads form,Leads call,clicks\n2026-10-01,300,4,,10\n2026-10-02,300,1,5,10\n")
    kpis, result = scores(cli, agency("  - path: d.csv\n    columns: {Leads form: leads, Leads call: leads}\n"))
    assert result.exit_code == 0, result.stderr
    assert kpis["cpl"]["value"] == 60.0  # 600 / (4 + 1 + 5)


def test_headers_match_metric_ids_ignoring_case_spaces_and_dashes_other_columns_ignored(cli, agency, write):
    """Once: "Post ID" was suggested as posts, "Ends" as spend, and every unknown column was an error."""
    write("d.csv", "Post ID,Date,SPEND, Leads ,Clicks,Ends,Notes\n1,2026-10-01,300,3,30,Ongoing,x\n")
    kpis, result = scores(cli, agency("  - d.csv\n"))
    assert result.exit_code == 0, result.stderr
    assert (kpis["cpl"]["value"], kpis["lead_cr"]["value"]) == (100.0, 10.0)


def test_an_input_no_source_has_is_a_problem_naming_the_closest_header(cli, agency, write):
    """Once: a broken mapping made every KPI no data, and the run exited 0 even with --fail-on warn."""
    write("d.csv", "date,spend,leads,click\n2026-10-01,300,3,30\n")
    client = agency("  - d.csv\n")
    kpis, result = scores(cli, client, "2026-10", "--fail-on", "warn")
    assert result.exit_code == 2
    assert f'{client}:6:1: error KR304 no data file has a "clicks" column, which lead_cr needs (did you mean "click"?)' in result.stderr
    assert kpis["lead_cr"]["status"] == "no_data" and kpis["cpl"]["value"] == 100.0


def test_post_rows_count_as_posts(cli, write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  posts: {kpis: [applause_rate]}\n")
    write("posts.csv", "Publish time,Likes\n2026-10-01 10:00,30\n2026-10-01 18:00,10\n2026-10-02 09:00,20\n")
    client = write("c.yaml", "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [posts]\ndata:\n"
                   "  - {path: posts.csv, rows: post, columns: {Publish time: date}}\n")
    kpis, result = scores(cli, client)
    assert result.exit_code == 0, result.stderr
    assert kpis["applause_rate"]["value"] == 20.0  # 60 likes / 3 posts


def test_an_excel_export_with_a_title_row_and_a_total_row(cli, agency, tmp_path):
    """Once: .xlsx was refused, and an «Итого» row at the end was a hard error."""
    book = xlsxwriter.Workbook(tmp_path / "vk.xlsx")
    sheet = book.add_worksheet("Статистика")
    rows = [["Выгрузка за октябрь"], [], ["Дата", "Расход", "Лиды", "Клики"],
            ["01.10.2026", 1200.5, 10, 100], ["02.10.2026", 799.5, 10, 100], ["Итого", 2000, 20, 200]]
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    book.close()
    source = ('  - {path: vk.xlsx, sheet: Статистика, header_row: 3, date_format: "%d.%m.%Y",\n'
              "     columns: {Дата: date, Расход: spend, Лиды: leads, Клики: clicks}}\n")
    kpis, result = scores(cli, agency(source))
    assert result.exit_code == 0
    assert kpis["cpl"]["value"] == 100.0  # 2000 / 20, the total row not counted twice
    assert f'{tmp_path / "vk.xlsx"}:6:1: warning KR501 total row "Итого" skipped' in result.stderr
    assert cli("check", agency(source), "--period", "2026-10", "--strict").exit_code == 2


def test_one_client_files_bad_data_does_not_hide_the_others(cli, agency, write, tmp_path):
    write("good.csv", "date,spend,leads,clicks\n2026-10-01,300,3,30\n")
    write("bad.csv", "date,spend,leads,clicks\n2026-10-01,3OO,3,30\n")
    agency("  - good.csv\n", name="clients/good.yaml")
    write("clients/bad.yaml", "kpi-rules: 1\nclient: Beta\nplaybook: ../playbook.yaml\ngoals: [money]\ndata: ../bad.csv\n")
    write("clients/good.yaml", "kpi-rules: 1\nclient: Acme\nplaybook: ../playbook.yaml\ngoals: [money]\ndata: ../good.csv\n")
    result = cli("check", tmp_path / "clients", "--period", "2026-10")
    assert result.exit_code == 2
    assert "Acme · 2026-10" in result.stdout and "Beta" not in result.stdout
    assert 'bad.csv:2:2: error KR302 "3OO" in column "spend" is not a number' in result.stderr


def test_clients_all_a_bad_cell_leaves_out_only_its_client(cli, write):
    write("playbook.yaml", PLAYBOOK)
    write("all.csv", "date,client,spend,leads,clicks\n2026-10-01,A,300,3,30\n2026-10-01,B,x,3,30\n")
    client = write("c.yaml", "kpi-rules: 1\nclients: all\nplaybook: playbook.yaml\ngoals: [money]\ndata: all.csv\n")
    result = cli("check", client, "--period", "2026-10")
    assert result.exit_code == 2
    assert "A · 2026-10" in result.stdout and "B · 2026-10" not in result.stdout
    assert 'not scored for a bad cell below: "B"' in result.stderr


def test_usd_benchmarks_are_not_compared_with_a_rub_client(cli, write):
    """Once: builtin:smm-benchmarks-facebook's CPC in USD was compared with a RUB client's CPC: pass."""
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm-benchmarks-facebook]\ngoals:\n  ads: {kpis: [cpc]}\n")
    write("d.csv", "date,spend,clicks\n2026-10-01,100,100\n")
    client = write("c.yaml", "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [ads]\ncurrency: RUB\ndata: d.csv\n")
    result = cli("validate", client)
    assert result.exit_code == 2
    assert f'{client}:3:11: error KR307 the target for "cpc" is in USD, but this client\'s money is in RUB' in result.stderr
    fixed = write("c.yaml", client.read_text() + "targets:\n  cpc: {target: 120}\n")
    assert cli("check", fixed, "--period", "2026-10").exit_code == 0


def test_a_target_no_goal_scores_is_a_warning_at_its_line(cli, agency, write):
    """Once: a target agreed for a KPI that none of the client's goals scores was silently ignored."""
    write("d.csv", "date,spend,leads,clicks\n2026-10-01,300,3,30\n")
    client = agency("  - d.csv\n", extra="targets:\n  er: {target: 3}\n")
    result = cli("validate", client)
    assert result.exit_code == 0
    assert f"{client}:7:3: warning KR510 target for \"er\", which none of the goals scored here has: it is ignored" in result.stderr
    assert cli("validate", client, "--strict").exit_code == 2


@pytest.mark.parametrize("fail_on, code", [("fail", 0), ("fail,no_data", 1), ("never", 0)])
def test_fail_on_a_comma_list(cli, agency, write, fail_on, code):
    write("d.csv", "date,spend,leads,clicks\n2026-10-01,300,0,30\n")  # cpl: no data (leads is 0)
    assert cli("check", agency("  - d.csv\n"), "--period", "2026-10", "--fail-on", fail_on).exit_code == code


@pytest.mark.parametrize("name", ["date", "client", "channel", "days"])
def test_a_metric_cannot_take_a_reserved_name(cli, write, name):
    """Once: a metric named date, client or channel gave exit 3, and one named days was silently shadowed."""
    playbook = write("playbook.yaml", f"kpi-rules: 1\nextends: [builtin:smm]\nmetrics:\n  {name}: {{agg: sum}}\n")
    result = cli("validate", playbook)
    assert result.exit_code == 2
    assert f'{playbook}:4:3: error KR205 a metric cannot be named "{name}"' in result.stderr


def test_per_post_er_takes_followers_as_of_each_posts_day_from_another_source(cli, write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  posts: {kpis: [er_avg]}\n")
    write("posts.csv", "Publish time,Likes,Comments,Shares\n2026-10-01 10:00,8,2,0\n2026-10-02 18:00,30,6,4\n")
    write("daily.csv", "date,followers\n2026-10-01,1000\n2026-10-02,2000\n")
    client = write("c.yaml", "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [posts]\ndata:\n"
                   "  - {path: posts.csv, rows: post, columns: {Publish time: date}}\n  - daily.csv\n")
    kpis, result = scores(cli, client)
    assert result.exit_code == 0, result.stderr
    assert kpis["er_avg"]["value"] == 1.5  # (10 / 1000 + 40 / 2000) / 2 x 100


def test_a_short_ragged_row_is_a_warning_at_its_line(cli, agency, write):
    """Once: a short row was silently read with its last cells empty."""
    data = write("d.csv", "date;spend;leads;clicks\n2026-10-01;300;3;30\n2026-10-02;100\n")
    result = cli("check", agency('  - {path: d.csv, separator: ";", decimal: ","}\n'), "--period", "2026-10")
    assert result.exit_code == 0
    assert f"{data}:3:2: warning KR504 line has 2 of the header's 4 fields" in result.stderr


def test_cr_only_line_endings_and_nul_bytes(cli, agency, write, tmp_path):
    """Once: CR-only line endings said "no data rows"; a NUL byte was silently accepted."""
    (tmp_path / "mac.csv").write_bytes(b"date,spend,leads,clicks\r2026-10-01,300,3,30\r")
    kpis, result = scores(cli, agency("  - mac.csv\n"))
    assert result.exit_code == 0 and kpis["cpl"]["value"] == 100.0
    (tmp_path / "nul.csv").write_bytes(b"date,spend,leads,clicks\n2026-10-01,3\x0000,3,30\n")
    result = cli("check", agency("  - nul.csv\n"), "--period", "2026-10")
    assert result.exit_code == 2 and "nul.csv:2:13: error KR301 has NUL bytes (byte 36)" in result.stderr


def test_columns_mapped_onto_each_other_take_the_mapping(cli, agency, write):
    """Once: columns: {leads: clicks} gave exit 3. The mapped column is what the metric reads."""
    write("d.csv", "date,spend,leads,clicks\n2026-10-01,300,3,30\n")
    kpis, result = scores(cli, agency("  - {path: d.csv, columns: {leads: clicks, clicks: leads}}\n"))
    assert result.exit_code == 0, result.stderr
    assert kpis["cpl"]["value"] == 10.0  # swapped: leads read from the "clicks" column (30), 300 / 30


def test_an_unknown_preset_names_the_nearest(cli, agency, write):
    write("d.csv", "date,spend\n2026-10-01,1\n")
    client = agency("  - {path: d.csv, preset: meta-ad}\n")
    result = cli("validate", client)
    assert result.exit_code == 2
    assert f'{client}:7:27: error KR210 unknown preset "meta-ad" (did you mean "meta-ads"?); available: meta-ads,' in result.stderr


def test_a_stock_on_a_row_across_the_boundary_is_left_out_with_a_warning(cli, write):
    write("playbook.yaml", "kpi-rules: 1\nextends: [builtin:smm]\ngoals:\n  size: {kpis: [followers, new_followers]}\n")
    write("weekly.csv", "start,end,followers,new_followers\n2026-09-28,2026-10-04,1000,70\n2026-10-11,2026-10-05,1100,7\n")
    client = write("c.yaml", "kpi-rules: 1\nclient: A\nplaybook: playbook.yaml\ngoals: [size]\ndata:\n"
                   "  - {path: weekly.csv, date_end: end, columns: {start: date}}\n")
    kpis, result = scores(cli, client)
    assert (kpis["followers"]["value"], kpis["new_followers"]["value"]) == (1100.0, 47.0)  # 40 of 70, and the 7
    assert "warning KR502 followers: 1 row(s) between 2026-09-28 and 2026-10-04 cross a month's boundary" in result.stderr
    assert "warning KR503 1 row(s) end before they start: counted on their first day" in result.stderr


def test_a_stray_quote_in_a_scanned_csv_is_reported_at_its_line(cli, tmp_path):
    """Once (found by tests/test_fuzz.py): a quote left open in a CSV that is scanned failed when the first rows
    were sampled for times of day, with a traceback."""
    rows = [f"2026-{month:02}-01,a,{month}00" for month in range(1, 13)]
    rows[5] = '2026-06-01,a"600'
    (tmp_path / "d.csv").write_text("date,client,reach\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("kpi-rules: 1\nclients: all\nplaybook: builtin:smm\ngoals: [awareness]\ndata: d.csv\n", encoding="utf-8")
    result = cli("check", tmp_path / "c.yaml")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "d.csv:7:13: error KR301 cannot read CSV" in result.stderr
