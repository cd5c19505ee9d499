"""Damaged files: a stray quote or a cut download costs only its own records, counted as csv counts them."""

import csv
import io

import pytest

from helpers.errors import TractionError
from helpers.ingest import archive
from test_archive import read, tweet_row, user_row, write_csv

N = 6000  # tweets: line 5,000 lies well past DuckDB's first buffers


def csv_records(text: str) -> int:
    """Data records as Python's csv module reads the text (a blank line is no record)."""
    return sum(1 for fields in csv.reader(io.StringIO(text, newline="")) if fields) - 1


@pytest.fixture(scope="module")
def clean_text(tmp_path_factory):
    rows = [tweet_row(str(i), f"u{i % 37}", tweet_text="two\nlines" if i % 9 == 1 else f"text {i}")
            for i in range(1, N + 1)]
    return write_csv(tmp_path_factory.mktemp("clean") / "c_tweets_csv_hashed.csv", rows).read_text()


def ingest_text(tmp_path, text):
    (tmp_path / "c_tweets_csv_hashed.csv").write_text(text, newline="")
    return archive.ingest(tmp_path, "c", tmp_path / "out")


def line_of(text, needle):
    return text[:text.index(needle)].count("\n") + 1


def test_a_stray_quote_on_line_5000_rejects_that_record_and_loads_the_rest(tmp_path, clean_text):
    lines = clean_text.split("\n")
    assert '"Twitter Web App"' in lines[4999]
    lines[4999] = lines[4999].replace('"Twitter Web App"', '"Twitter "Web" App"')
    text = "\n".join(lines)
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    assert entry["rows_read"] == csv_records(text) == N
    assert (entry["rows_loaded"], entry["rows_rejected"]) == (N - 1, 1)
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [5000] and rejected["source_last_line"].tolist() == [5000]
    assert rejected["raw"].tolist() == [lines[4999]]
    assert rejected["reason"].tolist() == ["unbalanced quote from line 5,000; 1 record rejected"]
    assert entry["damage"] == [{"first_line": 5000, "last_line": 5000, "records_rejected": 1,
                                "reason": "unbalanced quote from line 5,000; 1 record rejected"}]
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert len(tweets) == N - 1 and tweets["source_line"].is_monotonic_increasing
    after = line_of(text, "\n\"4600\",") + 1  # a record after the damage keeps its own line
    assert tweets.set_index("tweetid").loc["4600", "source_line"] == after


def test_a_stray_quote_the_parser_reads_past_keeps_the_rejected_text_to_its_own_line(tmp_path, clean_text):
    # '"comma", inside"' leaves an odd quote count on the line, yet the parser ends the record there (a
    # quote inside an unquoted field): its raw text is that line, not the next one too (hypothesis' ('quote', 1175))
    lines = clean_text.split("\n")
    assert '"Twitter Web App"' in lines[4999] and lines[5000].count('"') % 2 == 0
    lines[4999] = lines[4999].replace('"Twitter Web App"', '"Twitter", Web App"')
    text = "\n".join(lines)
    entry = ingest_text(tmp_path, text)["files"][0]
    assert (entry["rows_loaded"], entry["rows_rejected"]) == (N - 1, 1)
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == rejected["source_last_line"].tolist() == [5000]
    assert rejected["raw"].tolist() == [lines[4999]]
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert 5001 in tweets["source_line"].tolist()  # the next record loads, on its own line


@pytest.mark.parametrize("share", [0.37, 0.81])
def test_a_download_cut_mid_record_loses_that_record_only(tmp_path, clean_text, share):
    data = clean_text.encode()
    cut = int(len(data) * share)
    assert data[cut - 1:cut] != b"\n"
    text = data[:cut].decode()
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    records = csv_records(text)
    assert entry["rows_read"] == records and entry["rows_loaded"] == records - 1 and entry["rows_rejected"] == 1
    rejected = read(tmp_path / "out", "rejected.parquet")
    last_line = text.count("\n") + 1
    first = last_line - rejected["raw"][0].count("\n")
    assert rejected["source_line"].tolist() == [first] and rejected["source_last_line"].tolist() == [last_line]
    assert text.endswith(rejected["raw"][0])
    assert rejected["reason"][0].startswith(f"the file ends inside a record (cut short?) from line {first:,}")
    assert len(read(tmp_path / "out", "tweets.parquet")) == records - 1


def test_an_unterminated_quote_costs_its_record_not_the_next(tmp_path, clean_text):
    text = clean_text.replace('"text 12"', '"text 12', 1)
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_rejected"]) == (N, N - 1, 1)
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [line_of(text, '"text 12,')]
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert "13" in set(tweets["tweetid"]) and "12" not in set(tweets["tweetid"])


@pytest.mark.parametrize("field", ["tweet_text", "tweet_client_name"])
def test_a_closing_quote_removed_mid_file_loads_no_row_with_shifted_fields(tmp_path, clean_text, field):
    old, damaged = ('"text 4450",', '"text 4450,') if field == "tweet_text" else (
        '"text 4450","2020-03-01 12:30","Twitter Web App",', '"text 4450","2020-03-01 12:30","Twitter Web App,')
    assert clean_text.count(old) == 1
    text = clean_text.replace(old, damaged)
    entry = ingest_text(tmp_path, text)["files"][0]
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_rejected"]) == (N, N - 1, 1)
    assert read(tmp_path / "out", "rejected.parquet")["source_line"].tolist() == [line_of(text, '"4450",')]
    tweets = read(tmp_path / "out", "tweets.parquet")
    plain = tweets[~tweets["tweet_text"].str.contains("\n")]  # every loaded row has its own values in place
    assert (plain["tweet_text"] == "text " + plain["tweetid"]).all()
    assert (tweets["tweet_client_name"] == "Twitter Web App").all() and tweets["tweet_time"].notna().all()


def test_a_carriage_return_alone_between_records_rejects_the_two_it_joins(tmp_path, clean_text):
    at = clean_text.index("\n\"21\",")
    text = clean_text[:at] + "\r" + clean_text[at + 1:]
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    assert entry["rows_read"] == csv_records(text) == N
    assert (entry["rows_loaded"], entry["rows_rejected"]) == (N - 2, 2)
    rejected = read(tmp_path / "out", "rejected.parquet")
    line = line_of(text, "\"20\",")
    assert rejected["source_line"].tolist() == [line, line]
    assert [raw.split(",")[0] for raw in rejected["raw"]] == ['"20"', '"21"']
    assert rejected["reason"][0] == f"a carriage return alone inside a line (mixed line ends) from line {line:,}; " \
                                    "2 records rejected"


@pytest.mark.parametrize("end", ["\r\r\n", "\r at the end"])
def test_a_complete_record_ended_by_a_carriage_return_alone_loads(tmp_path, clean_text, end):
    # before: "\r\r\n" after line 20 stopped the ingest ("not a well-formed CSV file"); a last record ended by
    # a CR alone was rejected ("csv: unquoted value")
    if end == "\r\r\n":
        at = clean_text.index("\n\"21\",")
        text = clean_text[:at] + "\r\r\n" + clean_text[at + 1:]
    else:
        text = clean_text.removesuffix("\n") + "\r"
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    assert entry["rows_read"] == csv_records(text) == N
    assert (entry["rows_loaded"], entry["rows_rejected"]) == (N, 0)
    tweets = read(tmp_path / "out", "tweets.parquet").set_index("tweetid")
    assert tweets.loc[str(N), "tweet_text"] == f"text {N}" and tweets.loc["20", "tweet_text"] == "text 20"
    assert tweets.loc["21", "source_line"] == line_of(text, '"21",')


def test_a_file_whose_lines_all_end_in_a_carriage_return_alone_is_named(tmp_path):
    text = write_csv(tmp_path / "x.csv", [user_row("u1"), user_row("u2")]).read_text()
    (tmp_path / "c_users_csv_hashed.csv").write_text(text.replace("\n", "\r"), newline="")
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv: line 1: lines end with a carriage return "
                                            r"alone .*convert the line ends"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_utf16_without_a_byte_order_mark_is_named(tmp_path):
    text = write_csv(tmp_path / "x.csv", [user_row("u1")]).read_text()
    (tmp_path / "c_users_csv_hashed.csv").write_bytes(text.encode("utf-16-le"))
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv: line 1: .*looks like UTF-16.*re-save it as "
                                            r"UTF-8"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def cr_from(text: str, at: int) -> str:
    """The text with every line end from offset ``at`` on a carriage return alone."""
    return text[:at] + text[at:].replace("\r\n", "\n").replace("\n", "\r")


@pytest.mark.parametrize("where", ["middle", "after the header"])
def test_lines_ending_in_a_carriage_return_alone_from_some_line_on_stop_with_that_line(tmp_path, clean_text, where):
    # before: the rest of the file was one damaged stretch (1,748 of 3,486 rows rejected as "cut short?"),
    # or, with only the header ending in LF, one record rejected of 3,486 csv reads
    start = clean_text.index("\n", len(clean_text) // 2 if where == "middle" else 0) + 1
    text = cr_from(clean_text, start)
    assert csv_records(text) == N
    line = text[:start].count("\n") + 1  # the first line ending in a CR alone (lines counted at LF)
    with pytest.raises(TractionError, match=rf"c_tweets_csv_hashed.csv: line {line:,}: lines end with a carriage "
                                            r"return alone from this line on .*convert the line ends"):
        ingest_text(tmp_path, text)


def test_nul_bytes_inside_a_field_reject_that_record_with_the_field_named(tmp_path, clean_text):
    # before: the userid with its NULs loaded as data (a phantom account), no reject
    at = clean_text.index('\n"699","u33",') + 1
    text = clean_text[:at] + clean_text[at:].replace('"u33"', '"u\x00\x0033"', 1)
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    assert entry["rows_read"] == csv_records(text) == N
    assert (entry["rows_loaded"], entry["rows_rejected"]) == (N - 1, 1)
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [line_of(text, '"699",')]
    assert rejected["reason"].tolist() == ["NUL bytes in userid"]
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert not tweets["userid"].str.contains("\x00").any() and "699" not in set(tweets["tweetid"])


def test_a_byte_order_mark_in_the_middle_of_the_file_rejects_its_record(tmp_path, clean_text):
    # before: tweetid '\ufeff"799"' loaded (the mark made the field unquoted, its quotes data)
    at = clean_text.index('\n"798",') + 1
    text = clean_text[:at] + "\ufeff" + clean_text[at:]
    report = ingest_text(tmp_path, text)
    entry = report["files"][0]
    assert entry["rows_read"] == csv_records(text) == N
    assert (entry["rows_loaded"], entry["rows_rejected"]) == (N - 1, 1)
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [line_of(text, '\ufeff"798",')]
    assert rejected["reason"].tolist() == [
        "a byte order mark (U+FEFF) before the record's first field; tweetid is not a number"]
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert tweets["tweetid"].str.fullmatch(r"\d+").all() and len(tweets) == N - 1


def test_a_byte_order_mark_inside_text_is_text(tmp_path, clean_text):
    text = clean_text.replace('"text 12"', '"\ufefftext 12"', 1)
    report = ingest_text(tmp_path, text)
    assert (report["files"][0]["rows_loaded"], report["files"][0]["rows_rejected"]) == (N, 0)
    tweets = read(tmp_path / "out", "tweets.parquet").set_index("tweetid")
    assert tweets.loc["12", "tweet_text"] == "\ufefftext 12"
