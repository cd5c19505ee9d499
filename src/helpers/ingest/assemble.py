"""The outputs from the staged tables: duplicates settled, accounts, rejected rows, the accounting.

``load`` leaves one staged Parquet file per kind, every row with its file and line.
Here duplicates are settled (only the rows whose id repeats are ranked, so a release
without them costs one aggregate), the accounts table is built (the users file, plus
accounts that tweet but are missing from it), every row not loaded goes to
``rejected.parquet`` with its raw text, and rows read = loaded + rejected is checked
per file, not assumed.
"""

import csv
import datetime
from pathlib import Path

import pyarrow as pa

from helpers import schema
from helpers.errors import TractionError
from helpers.ingest import load, quirks, scan

lit, q = quirks.lit, quirks.q
BOOKKEEPING = ("file_index", "source_file", "source_line", "file_row_number")
POSITION = "file_index * 1099511627776 + source_line"  # file order, then line


def parquet(path: Path, row_numbers: bool = False) -> str:
    return f"read_parquet({lit(str(path))}{', file_row_number = true' if row_numbers else ''})"


def copy(con, select: str, columns: dict, target: Path):
    """COPY a SELECT to Parquet with exactly the contract's columns and types."""
    cast = ", ".join(f"CAST({q(c)} AS {t}) AS {q(c)}" for c, t in columns.items())
    con.execute(f"COPY (SELECT {cast} FROM ({select})) TO {lit(str(target))} (FORMAT parquet)")


def rank_duplicates(con, name: str, rows: str, key: str, order: str, ids_repeat: bool = True) -> bool:
    """Table `name`: the rows of `rows` whose `key` repeats, ranked (``dup_rank`` 1 = kept).

    A later row identical to the kept one is merged into it (loaded: nothing is lost; real
    users files repeat rows); a later row that differs is rejected. A damaged key (rounded
    to scientific notation, like 1.01421E+18) cannot identify a row: such rows are merged
    only when the whole row is identical, and otherwise all load, flagged ``id_damaged``.
    Returns whether any key repeats (``ids_repeat`` False: the load's hashes say none does).
    """
    if not ids_repeat:
        return False
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall() if r[0] not in BOOKKEEPING]
    content = "md5(CAST(struct_pack(" + ", ".join(f"{q(n)} := {q(n)}" for n in names) + ") AS VARCHAR))"
    window = f"(PARTITION BY {q(key)}, CASE WHEN {quirks.damaged(key)} THEN {content} END ORDER BY {order})"
    con.execute(f"""CREATE TEMP TABLE {name} AS
        WITH repeated AS (SELECT {q(key)} FROM {rows} GROUP BY {q(key)} HAVING count(*) > 1)
        SELECT *, row_number() OVER {window} AS dup_rank, {content} = first_value({content}) OVER {window} AS identical
        FROM {rows} WHERE {q(key)} IN (SELECT {q(key)} FROM repeated)""")
    return con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] > 0


def dropped(name: str, key: str) -> tuple[str, str]:
    """The SELECTs of a ranked table's rejected rows (file, line, reason) and merged rows (file)."""
    return (f"SELECT source_file, source_line, 'duplicate {key} with different values' "
            f"FROM {name} WHERE dup_rank > 1 AND NOT identical",
            f"SELECT source_file FROM {name} WHERE dup_rank > 1 AND identical")


def rejected_rows(entries: list[dict], duplicates: list) -> list[dict]:
    """Every row not loaded, with its exact raw text (read back from the file by line, or kept from a
    damaged stretch) and its last line."""
    rows = [(e["path"], line, reason) for e in entries for line, reason, _ in e["rejects"]] + list(duplicates)
    spans = {(e["path"], line): n for e in entries for line, _, n in e["rejects"]}
    raw = raw_records(entries, rows, spans)
    rows = [(f, line, raw[(f, line)], reason) for f, line, reason in rows]
    rows += [(e["path"], first, text, reason) for e in entries for first, _, text, reason in e.get("damaged_rows", [])]
    order = {e["path"]: i for i, e in enumerate(entries)}
    rows.sort(key=lambda r: (order[r[0]], r[1]))
    table_of = {e["path"]: e["kind"] for e in entries}
    return [{"table": table_of[f], "source_file": f, "source_line": line, "source_last_line": line + text.count("\n"),
             "raw": text, "reason": reason} for f, line, text, reason in rows]


def raw_records(entries: list[dict], rows, spans: dict | None = None) -> dict:
    """The raw text of (file, line) rows; ``spans`` gives the lines a record spans as its parser
    read it (a stray quote makes the quote count a wrong guess), by (file, line)."""
    lines = {}
    for label, line, *_ in rows:
        lines.setdefault(label, []).append(line)
    disk = {e["path"]: e["disk_path"] for e in entries}
    spans = spans or {}
    return {(label, line): text for label, wanted in lines.items()
            for line, text in scan.read_records(Path(disk[label]), wanted,
                                                {n: spans[label, n] for n in wanted if (label, n) in spans}).items()}


def write_rejected(con, rejected: list[dict], target: Path):
    if not rejected:  # (pa.array imports pandas: only when there is something to write)
        copy(con, "SELECT " + ", ".join(f"NULL::{t} AS {q(c)}" for c, t in schema.REJECTED_SCHEMA.items())
             + " LIMIT 0", schema.REJECTED_SCHEMA, target)
        return
    columns = {c: [r[c] for r in rejected] for c in schema.REJECTED_SCHEMA}
    table = pa.table({"table": pa.array(columns["table"], pa.string()),
                      "source_file": pa.array(columns["source_file"], pa.string()),
                      "source_line": pa.array(columns["source_line"], pa.int64()),
                      "source_last_line": pa.array(columns["source_last_line"], pa.int64()),
                      "raw": pa.array(columns["raw"], pa.string()), "reason": pa.array(columns["reason"], pa.string())})
    con.register("rejected_rows", table)
    copy(con, "SELECT * FROM rejected_rows", schema.REJECTED_SCHEMA, target)
    con.unregister("rejected_rows")


def file_entries(con, entries, loaded_selects, merged_selects, rejected):
    """Per-file accounting; rows read = loaded + rejected is checked here, not assumed."""
    def per_file(selects):
        if not selects:
            return {}
        union = " UNION ALL ".join(f"({select})" for select in selects)
        return dict(con.execute(f"SELECT source_file, count(*) FROM ({union}) GROUP BY source_file").fetchall())

    merged = per_file(merged_selects)
    loaded = per_file(loaded_selects + merged_selects)
    reasons_of = {e["path"]: {} for e in entries}
    for row in rejected:
        reasons = reasons_of[row["source_file"]]
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    files = []
    for entry in entries:
        reasons = reasons_of[entry["path"]]
        rows_loaded, rows_rejected = loaded.get(entry["path"], 0), sum(reasons.values())
        if rows_loaded + rows_rejected != entry["rows_read"]:
            raise TractionError(f"{entry['path']}: {entry['rows_read']} rows read but {rows_loaded} loaded "
                                f"+ {rows_rejected} rejected (a bug in the loader; please report it)")
        keep = ("path", "kind", "sha256", "rows_read", "blank_lines", "date_order",
                "columns_ignored", "columns_missing", "damage")
        files.append({**{k: entry[k] for k in keep}, "rows_loaded": rows_loaded, "rows_rejected": rows_rejected,
                      "rows_merged_identical_duplicates": merged.get(entry["path"], 0),
                      "rejected_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))})
    return files


# ---- the archive form ------------------------------------------------------------


def archive(con, work: Path, users: "load.Loaded | None", tweets: "load.Loaded | None", files: list) -> dict:
    """accounts.parquet, tweets.parquet (final from the staged tweets) and rejected.parquet in work/."""
    entries = (users.entries if users else []) + (tweets.entries if tweets else [])
    user_cols = list(schema.USER_COLUMNS)
    duplicate_selects, merged_selects = [], []
    if users is not None:
        rows = parquet(users.path)
        if rank_duplicates(con, "users_ranked", rows, "userid", "file_index, source_line", users.ids_repeat):
            rejected, merged = dropped("users_ranked", "userid")
            duplicate_selects.append(rejected)
            merged_selects.append(merged)
            con.execute(f"""CREATE TEMP VIEW users_kept AS SELECT u.* FROM {rows} u ANTI JOIN
                (SELECT source_file, source_line FROM users_ranked WHERE dup_rank > 1) d USING (source_file, source_line)
                ORDER BY file_index, source_line""")
        else:
            con.execute(f"CREATE TEMP VIEW users_kept AS SELECT * FROM {rows}")
    else:
        con.execute("CREATE TEMP VIEW users_kept AS SELECT " + ", ".join(
            f"NULL::{schema.ACCOUNTS_SCHEMA[c]} AS {q(c)}" for c in user_cols)
            + ", false AS id_damaged, 0::BIGINT AS file_index, NULL::VARCHAR AS source_file, "
            "0::BIGINT AS source_line LIMIT 0")

    tweet_entries = tweets.entries if tweets else []
    final_tweets = work / "tweets.parquet"
    dropped_tweets = "(SELECT NULL::VARCHAR AS source_file, NULL::BIGINT AS source_line LIMIT 0)"
    withheld = sum(e["withheld"] for e in tweet_entries)
    if tweets is None:
        copy(con, "SELECT " + ", ".join(f"NULL::{t} AS {q(c)}" for c, t in schema.TWEETS_SCHEMA.items()) + " LIMIT 0",
             schema.TWEETS_SCHEMA, final_tweets)
    else:
        staged = parquet(tweets.path, row_numbers=True)
        if rank_duplicates(con, "tweets_ranked", staged, "tweetid", "file_row_number", tweets.ids_repeat):
            rejected, merged = dropped("tweets_ranked", "tweetid")
            duplicate_selects.append(rejected)
            merged_selects.append(merged)
            dropped_tweets = "(SELECT source_file, source_line FROM tweets_ranked WHERE dup_rank > 1)"
            copy(con, f"SELECT t.* FROM {staged} t ANTI JOIN (SELECT file_row_number FROM tweets_ranked "
                      "WHERE dup_rank > 1) d USING (file_row_number) ORDER BY file_row_number",
                 schema.TWEETS_SCHEMA, final_tweets)
            withheld -= _withheld(con, tweet_entries, dropped_tweets)
        else:
            tweets.path.rename(final_tweets)
    tweets_rows = parquet(final_tweets)
    con.execute(f"CREATE TEMP TABLE tweeting AS SELECT DISTINCT userid FROM {tweets_rows}")

    # Accounts that tweet but are missing from the users file: their tweets' own user columns
    # (the archive repeats the at-suspension values on every tweet; the last in file order wins).
    missing = [r[0] for r in con.execute("""SELECT userid FROM tweeting
        WHERE userid NOT IN (SELECT userid FROM users_kept) ORDER BY userid""").fetchall()]
    hashed = "NOT regexp_full_match(userid, '[0-9]+') AND NOT id_damaged"
    accounts = f"""SELECT {', '.join(q(c) for c in user_cols)}, {hashed} AS userid_hashed, id_damaged,
                      false AS from_tweets_file, source_file, source_line, file_index FROM users_kept"""
    if missing:
        side = work / "tweet_users.parquet"
        load.user_columns(con, tweet_entries, files, pa.array(missing, pa.string()), side)
        from_tweets = ", ".join(f"arg_max({q(c)}, {POSITION}) AS {q(c)}" for c in user_cols if c != "userid")
        accounts = f"""({accounts}) UNION ALL BY NAME
            SELECT *, {hashed} AS userid_hashed FROM (
                SELECT userid, {from_tweets}, bool_or(id_damaged) AS id_damaged, true AS from_tweets_file,
                       arg_max(source_file, {POSITION}) AS source_file, arg_max(source_line, {POSITION}) AS source_line,
                       max(file_index) AS file_index
                FROM (SELECT s.* FROM {parquet(side)} s ANTI JOIN {dropped_tweets} d USING (source_file, source_line))
                GROUP BY userid)
            ORDER BY from_tweets_file, file_index, source_line, userid"""
    # without accounts from the tweets, the users' rows are already in file order
    con.execute(f"CREATE TEMP TABLE accounts AS {accounts}")
    copy(con, "SELECT * FROM accounts", schema.ACCOUNTS_SCHEMA, work / "accounts.parquet")

    rejected = rejected_rows(entries, [row for s in duplicate_selects for row in con.execute(s).fetchall()])
    write_rejected(con, rejected, work / "rejected.parquet")
    flagged = {"tweet_time": dates_out_of_range(con, parquet(final_tweets, row_numbers=True), "tweet_time",
                                                "file_row_number"),
               "account_creation_date": dates_out_of_range(con, "accounts", "account_creation_date", POSITION)}
    loaded = ["SELECT source_file FROM accounts WHERE NOT from_tweets_file", f"SELECT source_file FROM {tweets_rows}"]
    files_report = file_entries(con, entries, loaded, merged_selects, rejected)

    n_missing, n_accounts, n_users_damaged, n_hashed, without = con.execute(
        "SELECT count(*) FILTER (from_tweets_file), count(*), count(*) FILTER (id_damaged), "
        "count(*) FILTER (userid_hashed), count(*) FILTER (NOT from_tweets_file AND userid NOT IN "
        "(SELECT userid FROM tweeting)) FROM accounts").fetchall()[0]
    n_tweets, n_damaged_tweets = con.execute(
        f"SELECT count(*), count(*) FILTER (id_damaged) FROM {tweets_rows}").fetchall()[0]
    damaged_by_column = dict.fromkeys(quirks.ID_COLUMNS, 0)
    if n_damaged_tweets:
        damaged_by_column = dict(zip(quirks.ID_COLUMNS, con.execute("SELECT " + ", ".join(
            f"count(*) FILTER ({quirks.damaged(c)})" for c in quirks.ID_COLUMNS) + f" FROM {tweets_rows}").fetchall()[0]))
    return {
        "files": files_report,
        "accounts_tweeting_not_in_users": {"count": n_missing, "examples": missing[:5]},
        "users_without_tweets": without,
        "totals": {
            "rows_read": sum(f["rows_read"] for f in files_report),
            "rows_loaded": sum(f["rows_loaded"] for f in files_report),
            "rows_rejected": len(rejected),
            "rows_merged_identical_duplicates": sum(f["rows_merged_identical_duplicates"] for f in files_report),
            "accounts": n_accounts, "accounts_from_users_file": n_accounts - n_missing,
            "accounts_from_tweets_file": n_missing, "accounts_hashed": n_hashed,
            "accounts_id_damaged": n_users_damaged, "tweets": n_tweets, "tweets_id_damaged": n_damaged_tweets,
            "tweets_coordinates_present_withheld": withheld},
        "tweets_id_damaged_by_column": damaged_by_column,
        "dates_out_of_range": {column: found for column, found in flagged.items() if found["count"]},
        "tweets_file": "tweets.parquet is empty (no tweets file)" if tweets is None else "tweets.parquet",
    }


PLATFORM_START = "2006-03-21"  # Twitter's first tweet: no account or tweet is older


def dates_out_of_range(con, table: str, column: str, order: str) -> dict:
    """Loaded dates before the platform existed or after today (no release holds a later one): flagged,
    not rejected, with a count and the first few by file and line."""
    today = datetime.date.today().isoformat()
    where = f"{q(column)} < DATE '{PLATFORM_START}' OR {q(column)} > DATE '{today}'"
    count = con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchall()[0][0]
    examples = con.execute(f"""SELECT source_file, source_line, CAST({q(column)} AS VARCHAR) FROM {table}
        WHERE {where} ORDER BY {order} LIMIT 5""").fetchall() if count else []
    return {"count": count, "before": PLATFORM_START, "after": today,
            "examples": [{"file": f, "line": line, "value": value} for f, line, value in examples]}


def _withheld(con, entries: list[dict], dropped_rows: str) -> int:
    """Withheld coordinates among the duplicate rows not loaded (read back from their raw text)."""
    rows = con.execute(f"SELECT source_file, source_line FROM {dropped_rows}").fetchall()
    raw = raw_records(entries, rows)
    count = 0
    for (label, _), text in raw.items():
        entry = next(e for e in entries if e["path"] == label)
        fields = next(csv.reader([text]), [])
        columns = entry["columns"]
        count += any(c in columns and columns[c] < len(fields) and fields[columns[c]].strip().lower() == "present"
                     for c in ("latitude", "longitude"))
    return count


# ---- the account-table form ------------------------------------------------------


ENGAGEMENT_PARTS = ["like_total", "retweet_total", "reply_total", "quote_total"]


def account_table(con, work: Path, table: "load.Loaded") -> dict:
    entry, staged = table.entries[0], table.path
    present = [c for c in ENGAGEMENT_PARTS if c not in entry["columns_missing"]]
    if "engagement_total" not in entry["columns_missing"]:
        engagement, note = "engagement_total", "engagement_total as given in the file"
    else:
        engagement = " + ".join(present) if present else "NULL"
        note = f"engagement_total = {' + '.join(present) or 'unknown'} (the components present)"
    rows = parquet(staged)
    duplicate_selects, merged_selects = [], []
    kept = rows
    if rank_duplicates(con, "table_ranked", rows, "userid", "source_line", table.ids_repeat):
        rejected, merged = dropped("table_ranked", "userid")
        duplicate_selects.append(rejected)
        merged_selects.append(merged)
        kept = (f"(SELECT u.* FROM {rows} u ANTI JOIN (SELECT source_line FROM table_ranked WHERE dup_rank > 1) d "
                "USING (source_line))")
    columns = {**schema.ACCOUNT_TABLE_COLUMNS, "id_damaged": "BOOLEAN", "source_file": "VARCHAR",
               "source_line": "BIGINT"}
    con.execute(f"""CREATE TEMP TABLE accounts AS SELECT * REPLACE ({engagement} AS engagement_total)
        FROM {kept} ORDER BY source_line""")
    copy(con, "SELECT * FROM accounts", columns, work / "accounts.parquet")
    rejected = rejected_rows([entry], [row for s in duplicate_selects for row in con.execute(s).fetchall()])
    write_rejected(con, rejected, work / "rejected.parquet")
    files = file_entries(con, [entry], ["SELECT source_file FROM accounts"], merged_selects, rejected)
    n_accounts, n_damaged = con.execute("SELECT count(*), count(*) FILTER (id_damaged) FROM accounts").fetchall()[0]
    return {
        "files": files,
        "engagement_components_present": present,
        "engagement_components_missing": [c for c in ENGAGEMENT_PARTS if c not in present],
        "engagement_total": note,
        "totals": {"rows_read": files[0]["rows_read"], "rows_loaded": files[0]["rows_loaded"],
                   "rows_rejected": len(rejected), "rows_merged_identical_duplicates":
                       sum(f["rows_merged_identical_duplicates"] for f in files),
                   "accounts": n_accounts, "accounts_id_damaged": n_damaged},
    }
