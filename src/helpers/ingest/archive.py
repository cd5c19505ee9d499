"""Archive ingest: a campaign's CSV files -> typed Parquet, every row accounted for.

``ingest`` finds a campaign's users and tweets files (plain, zipped, multi-part),
parses them with DuckDB (every column VARCHAR, so ids are never numbers), types
them in SQL and writes into ``out_dir``:

- ``accounts.parquet`` (``schema.ACCOUNTS_SCHEMA``): the users file, plus accounts
  that tweet but are missing from it (``from_tweets_file``);
- ``tweets.parquet`` (``schema.TWEETS_SCHEMA``): always written, empty when the
  campaign has only a users file;
- ``rejected.parquet`` (``schema.REJECTED_SCHEMA``): every row read but not loaded,
  with its file, physical line, exact raw text and reason;
- ``load_report.json``: per file rows read = loaded + rejected, content hashes, ...

``ingest_account_table`` loads the aggregate form (one row per account,
``schema.ACCOUNT_TABLE_COLUMNS``); it writes no ``tweets.parquet``.

Outputs are cached by the inputs' content hashes (re-runs are near-instant) and
moved into place only when complete; ``load_report.json`` goes last and is the
marker a later run trusts.
"""

import fnmatch
import functools
import hashlib
import json
import os
import re
import shutil
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from helpers import schema
from helpers.ingest import quirks
from helpers.ingest import scan
from helpers.errors import TractionError

INGEST_VERSION = 2  # bump when outputs change for the same input (2: written once from the CSV)
REPORT = "load_report.json"
OUTPUTS = {"archive": ["accounts.parquet", "tweets.parquet", "rejected.parquet"],
           "account_table": ["accounts.parquet", "rejected.parquet"]}


class LoadReport(dict):
    """The load report (a dict, as written to load_report.json) that prints its own summary."""

    from_cache = False

    def summary(self) -> str:
        totals = self["totals"]
        lines = [f"{self['form']} ingest of {self['campaign']!r} from {Path(self['data_dir']).name}/"
                 + (" (simulated)" if self.get("simulated") else "")
                 + (" [cache]" if self.from_cache else "")]
        for entry in self["files"]:
            lines.append(f"  {entry['kind']:<13} {entry['path']}: read {entry['rows_read']:,}, "
                         f"loaded {entry['rows_loaded']:,}, rejected {entry['rows_rejected']:,}")
            for reason, count in entry["rejected_by_reason"].items():
                lines.append(f"      {count:>9,}  {reason}")
        items = [f"{k.replace('_', ' ')} {v:,}" for k, v in totals.items() if isinstance(v, int)]
        lines += ["  " + ", ".join(items[i:i + 4]) for i in range(0, len(items), 4)]
        missing = self.get("accounts_tweeting_not_in_users")
        if missing and missing["count"]:
            lines.append(f"  accounts tweeting but not in the users file: {missing['count']:,} (added)")
        if "users_without_tweets" in self:
            lines.append(f"  users without tweets: {self['users_without_tweets']:,}")
        return "\n".join(lines)


@dataclass
class Source:
    """One input CSV: a file in data_dir or a member of a zip there."""

    kind: str  # 'users', 'tweets' or 'account_table'
    label: str  # path relative to data_dir ('x.zip/member.csv' for zip members)
    container: Path  # the file on disk (the zip for members)
    member: str | None = None
    sha256: str | None = None  # the file's content hash, once the cache key has computed it


# ---- finding the files -------------------------------------------------------


def _natural_key(text: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _candidates(data_dir: Path) -> list[Source]:
    found = []
    for path in sorted(data_dir.iterdir()):
        if path.suffix.lower() == ".csv" and path.is_file():
            found.append(Source("", path.name, path))
        elif path.suffix.lower() == ".zip" and path.is_file():
            try:
                with zipfile.ZipFile(path) as archive:
                    names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            except zipfile.BadZipFile:
                raise TractionError(f"{path.name}: not a readable zip file") from None
            found += [Source("", f"{path.name}/{name}", path, name) for name in names]
    return found


def find_sources(data_dir, campaign, tweets_glob=None, users_glob=None) -> list[Source]:
    """The campaign's users and tweets files, parts in natural order (part2 before part10)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise TractionError(f"data folder not found: {data_dir}")
    candidates = _candidates(data_dir)
    patterns = {"users": users_glob or f"{campaign}_users_csv_*.csv",
                "tweets": tweets_glob or f"{campaign}_tweets_csv_*.csv"}
    sources = []
    for kind, pattern in patterns.items():
        chosen = [s for s in candidates if fnmatch.fnmatchcase(s.label, pattern)
                  or fnmatch.fnmatchcase(Path(s.label).name, pattern)]
        if any("_unhashed" in s.label for s in chosen) and any("_hashed" in s.label for s in chosen):
            raise TractionError(f"{data_dir}: both hashed and unhashed {kind} files for {campaign!r} "
                                f"({', '.join(s.label for s in chosen)}); choose one with a {kind} glob")
        for source in sorted(chosen, key=lambda s: _natural_key(s.label)):
            sources.append(Source(kind, source.label, source.container, source.member))
    if not any(s.kind == "users" for s in sources) and not any(s.kind == "tweets" for s in sources):
        listing = ", ".join(s.label for s in candidates) or "no CSV or zip files"
        raise TractionError(f"{data_dir}: no files for campaign {campaign!r} (looked for "
                            f"{patterns['users']} and {patterns['tweets']}); found: {listing}")
    return sources


# ---- cache -------------------------------------------------------------------


def _content_hash(path: Path, memo: dict) -> str:
    """sha256 of a file, remembered by (size, mtime) so an unchanged file is not re-read."""
    stat = path.stat()
    key, stamp = str(path.resolve()), [stat.st_size, stat.st_mtime_ns]
    if memo.get(key, {}).get("stamp") != stamp:
        memo[key] = {"stamp": stamp, "sha256": scan.sha256_of(path)}
    return memo[key]["sha256"]


def _cache_key(form: str, sources: list[Source], params: dict, out_dir: Path) -> str:
    memo_path = out_dir / ".hash_memo.json"
    memo = json.loads(memo_path.read_text()) if memo_path.is_file() else {}
    inputs = [[s.kind, s.label, _content_hash(s.container, memo)] for s in sources]
    for source, (*_, sha256) in zip(sources, inputs):
        source.sha256 = sha256 if source.member is None else None  # a zip member is hashed when read
    _write_atomic(memo_path, json.dumps(memo))
    blob = json.dumps({"version": INGEST_VERSION, "form": form, "inputs": inputs, **params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _cached(out_dir: Path, key: str):
    report_path = out_dir / REPORT
    if not report_path.is_file():
        return None
    try:
        report = LoadReport(json.loads(report_path.read_text()))
    except ValueError:
        return None
    if report.get("cache_key") != key or not all((out_dir / n).is_file() for n in report.get("outputs", ["?"])):
        return None
    report.from_cache = True
    return report


def _write_atomic(path: Path, text: str):
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def _publish(work: Path, out_dir: Path, report: LoadReport):
    """Move finished outputs into out_dir; the report goes last (it is the cache marker)."""
    (out_dir / REPORT).unlink(missing_ok=True)
    for name in report["outputs"]:
        os.replace(work / name, out_dir / name)
    _write_atomic(out_dir / REPORT, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def _connect(work: Path, memory_limit: str, threads):
    con = duckdb.connect()
    con.execute(f"SET memory_limit = {quirks.lit(memory_limit)}")
    con.execute(f"SET temp_directory = {quirks.lit(str(work / 'duckdb_tmp'))}")
    con.execute("SET preserve_insertion_order = true")  # rows keep file order: line numbers pair by position
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _run(form, sources, out_dir, params, build):
    """Shared frame of both forms: cache check, temp folder, build, publish."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = _cache_key(form, sources, {k: v for k, v in params.items() if k not in ("memory_limit", "threads")}, out_dir)
    cached = _cached(out_dir, key)
    if cached is not None:
        return cached
    work = out_dir / f".ingest-tmp-{uuid.uuid4().hex}"
    work.mkdir()
    try:
        con = _connect(work, params.get("memory_limit", "2GB"), params.get("threads"))
        try:
            report = LoadReport(build(con, work))
        except duckdb.OutOfMemoryException as error:
            raise TractionError(f"DuckDB ran out of memory ({str(error).splitlines()[0]}); raise the memory "
                                f"limit (now {params.get('memory_limit', '2GB')})") from None
        except duckdb.Error as error:
            raise TractionError(f"DuckDB could not read the input: {str(error).splitlines()[0]}") from None
        finally:
            con.close()
        report.update(cache_key=key, ingest_version=INGEST_VERSION, outputs=OUTPUTS[form])
        _publish(work, out_dir, report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _materialise(source: Source, work: Path) -> Path:
    """A plain file to read: the file itself, or the zip member extracted into work/."""
    if source.member is None:
        return source.container
    target = work / "members" / f"{uuid.uuid4().hex}.csv"
    target.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(source.container) as archive, archive.open(source.member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    return target


# ---- assembling the outputs --------------------------------------------------

lit, q = quirks.lit, quirks.q


def _loaded(entries, kind):
    """The loaded rows of a kind's files, in file order (re-read from the CSV on each use)."""
    where = {e["path"]: " WHERE reason IS NULL" if e["rejects"] else " WHERE NOT __bad" if e["unchecked"] else ""
             for e in entries}
    selects = [f"SELECT * FROM {e['view']}{where[e['path']]}" for e in entries if e["kind"] == kind]
    return "(" + " UNION ALL ".join(selects) + ")" if selects else None


def _copy(con, select: str, columns: dict, target: Path):
    """COPY a SELECT to Parquet with exactly the contract's columns and types."""
    cast = ", ".join(f"CAST({q(c)} AS {t}) AS {q(c)}" for c, t in columns.items())
    con.execute(f"COPY (SELECT {cast} FROM ({select})) TO {lit(str(target))} (FORMAT parquet)")


BOOKKEEPING = ("file_index", "source_file", "source_line", "reason", "misaligned", "__slash_dates", "__parsed")


def _rank_duplicates(con, name, rows, key) -> tuple[str, str]:
    """Table `name`: the loaded rows of `rows`, ranked among rows sharing `key` (1 = kept).

    A later row identical to the kept one is merged into it (loaded: nothing is lost; real
    users files repeat rows); a later row that differs is rejected. Returns the SELECTs of
    the rejected and of the merged rows.
    """
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall() if r[0] not in BOOKKEEPING]
    content = "md5(CAST(struct_pack(" + ", ".join(f"{q(n)} := {q(n)}" for n in names) + ") AS VARCHAR))"
    window = f"(PARTITION BY {key} ORDER BY file_index, source_line)"
    con.execute(f"""CREATE TEMP TABLE {name} AS SELECT *, row_number() OVER {window} AS dup_rank,
        {content} = first_value({content}) OVER {window} AS identical FROM {rows}""")
    rejected = (f"SELECT source_file, source_line, 'duplicate {key} with different values' "
                f"FROM {name} WHERE dup_rank > 1 AND NOT identical")
    return rejected, f"SELECT source_file FROM {name} WHERE dup_rank > 1 AND identical"


def _rejected(con, work, entries, table_of, duplicate_selects) -> list[dict]:
    """Every row not loaded, with its exact raw text read back from the file by line."""
    rows = [(entry["path"], line, reason) for entry in entries for line, reason in entry["rejects"]]
    for select in duplicate_selects:
        rows += con.execute(select).fetchall()
    disk = {e["path"]: e["disk_path"] for e in entries}
    order = {e["path"]: i for i, e in enumerate(entries)}
    rows.sort(key=lambda r: (order[r[0]], r[1]))
    by_file = {}
    for row in rows:
        by_file.setdefault(row[0], []).append(row[1])
    raw = {(label, line): text for label, lines in by_file.items()
           for line, text in scan.read_records(Path(disk[label]), lines).items()}
    return [{"table": table_of[r[0]], "source_file": r[0], "source_line": r[1],
             "raw": raw[(r[0], r[1])], "reason": r[2]} for r in rows]


def _write_rejected(con, rejected, target):
    con.execute("CREATE TEMP TABLE rejected_rows (" + ", ".join(
        f"{q(c)} {t}" for c, t in schema.REJECTED_SCHEMA.items()) + ")")
    if rejected:
        con.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?)", [tuple(r.values()) for r in rejected])
    _copy(con, "SELECT * FROM rejected_rows", schema.REJECTED_SCHEMA, target)


def _file_entries(con, entries, loaded_selects, merged_selects, rejected):
    """Per-file accounting; rows read = loaded + rejected is checked here, not assumed."""
    def per_file(selects):
        if not selects:
            return {}
        union = " UNION ALL ".join(f"({select})" for select in selects)
        return dict(con.execute(f"SELECT source_file, count(*) FROM ({union}) GROUP BY source_file").fetchall())

    merged = per_file(merged_selects)
    loaded = per_file(loaded_selects + merged_selects)
    files = []
    for entry in entries:
        reasons = {}
        for row in rejected:
            if row["source_file"] == entry["path"]:
                reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
        rows_loaded, rows_rejected = loaded.get(entry["path"], 0), sum(reasons.values())
        if rows_loaded + rows_rejected != entry["rows_read"]:
            raise TractionError(f"{entry['path']}: {entry['rows_read']} rows read but {rows_loaded} loaded "
                                f"+ {rows_rejected} rejected (a bug in the loader; please report it)")
        keep = ("path", "kind", "sha256", "rows_read", "blank_lines", "date_order",
                "columns_ignored", "columns_missing")
        files.append({**{k: entry[k] for k in keep}, "rows_loaded": rows_loaded, "rows_rejected": rows_rejected,
                      "rows_merged_identical_duplicates": merged.get(entry["path"], 0),
                      "rejected_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))})
    return files


def _write_tweets(con, entries, tweets_path) -> str:
    """The one write of the tweets, straight from the CSV files; returns the SELECT of their rows.

    Unchecked files (see ``stage_file``) are checked by their count: exactly rows_read rows
    written means none was rejected or dropped; otherwise the file is staged again, checked,
    and the tweets written again (rare: rejects, slash dates, a malformed file).
    """
    for attempt in range(2):
        tweets = _loaded(entries, "tweets")
        # The COPY reads its lines by POSITIONAL JOIN, on one thread: the withheld counts (a
        # parallel read of two columns, on a cursor of the same database) run beside it.
        with ThreadPoolExecutor(1) as pool:
            withheld = {e["path"]: pool.submit(lambda sql: con.cursor().execute(sql).fetchall()[0][0], e["withheld"])
                        for e in entries if e["kind"] == "tweets" and e["unchecked"]}
            _copy(con, f"SELECT * FROM {tweets}", schema.TWEETS_SCHEMA, tweets_path)
        written = {path: (rows, lined) for path, rows, lined in con.execute(
            f"SELECT source_file, count(*), count(source_line) FROM read_parquet({lit(str(tweets_path))}) "
            "GROUP BY source_file").fetchall()}
        again = False
        for entry in entries:
            if entry["kind"] != "tweets" or not entry["unchecked"]:
                continue
            if written.get(entry["path"], (0, 0)) == (entry["rows_read"], entry["rows_read"]):
                entry["unchecked"] = False
                entry["withheld"] = withheld[entry["path"]].result()
            else:
                entry.update(entry.pop("restage")())
                again = True
        if not again:
            return tweets
    raise AssertionError("unreachable: restaged files are checked")


def _assemble_archive(con, work, entries) -> dict:
    users, tweets = _loaded(entries, "users"), _loaded(entries, "tweets")
    user_cols = [c for c in schema.USER_COLUMNS]
    duplicate_selects, merged_selects = [], []
    tweets_path = work / "tweets.parquet"
    if users:
        rejected_dups, merged = _rank_duplicates(con, "users_ok", users, "userid")
        duplicate_selects.append(rejected_dups)
        merged_selects.append(merged)
    else:
        con.execute("CREATE TEMP TABLE users_ok AS SELECT " + ", ".join(
            f"NULL::{schema.ACCOUNTS_SCHEMA[c]} AS {q(c)}" for c in user_cols)
            + ", false AS id_damaged, 0 AS file_index, NULL::VARCHAR AS source_file, 0::BIGINT AS source_line,"
            " 1 AS dup_rank LIMIT 0")
    if tweets:
        tweets = _write_tweets(con, entries, tweets_path)
        con.execute(f"CREATE TEMP VIEW tweet_rows AS SELECT * FROM {tweets}")
        duplicates = con.execute(f"SELECT count(*) - count(DISTINCT tweetid) FROM read_parquet({lit(str(tweets_path))})"
                                 ).fetchone()[0]
        withheld = sum(e["withheld"] for e in entries if e["kind"] == "tweets")
        if duplicates:  # rare: rank (a sort) and write again only when there is something to reject
            rejected_dups, merged = _rank_duplicates(con, "tweets_ok", tweets, "tweetid")
            duplicate_selects.append(rejected_dups)
            merged_selects.append(merged)
            con.execute("CREATE OR REPLACE TEMP VIEW tweet_rows AS "
                        "SELECT * FROM tweets_ok WHERE dup_rank = 1 ORDER BY file_index, source_line")
            _copy(con, "SELECT * FROM tweet_rows", schema.TWEETS_SCHEMA, tweets_path)
            withheld = con.execute("SELECT count(*) FILTER (coordinates_present) FROM tweet_rows").fetchone()[0]
    else:
        con.execute("CREATE TEMP VIEW tweet_rows AS SELECT " + ", ".join(
            f"NULL::{t} AS {q(c)}" for c, t in schema.TWEETS_SCHEMA.items())
            + ", 0 AS file_index, false AS coordinates_present, " + ", ".join(
            f"NULL::{schema.ACCOUNTS_SCHEMA[c]} AS {q(c)}" for c in user_cols if c != "userid") + " LIMIT 0")
        _copy(con, "SELECT * FROM tweet_rows", schema.TWEETS_SCHEMA, tweets_path)
        withheld = 0

    # Accounts that tweet but are missing from the users file: their tweets' own user columns
    # (the archive repeats the at-suspension values on every tweet; the last in file order wins).
    position = "file_index * 1099511627776 + source_line"
    from_tweets = ", ".join(f"arg_max({q(c)}, {position}) AS {q(c)}" for c in user_cols if c != "userid")
    hashed = f"NOT regexp_full_match(userid, '[0-9]+') AND NOT id_damaged"
    # Found from the written Parquet (one column), so the CSV is read again only when some are missing.
    con.execute(f"""CREATE TEMP TABLE missing_users AS SELECT DISTINCT userid FROM read_parquet({lit(str(tweets_path))})
        WHERE userid NOT IN (SELECT userid FROM users_ok WHERE dup_rank = 1)""")
    con.execute(f"""CREATE TEMP TABLE accounts AS
        SELECT {', '.join(q(c) for c in user_cols)}, {hashed} AS userid_hashed, id_damaged,
               false AS from_tweets_file, source_file, source_line, file_index
        FROM users_ok WHERE dup_rank = 1
        UNION ALL BY NAME
        SELECT *, {hashed} AS userid_hashed FROM (
            SELECT userid, {from_tweets}, bool_or(id_damaged) AS id_damaged, true AS from_tweets_file,
                   arg_max(source_file, {position}) AS source_file, arg_max(source_line, {position}) AS source_line,
                   max(file_index) AS file_index
            FROM tweet_rows WHERE userid IN (SELECT userid FROM missing_users) GROUP BY userid)""")
    _copy(con, "SELECT * FROM accounts ORDER BY from_tweets_file, file_index, source_line, userid",
          schema.ACCOUNTS_SCHEMA, work / "accounts.parquet")

    table_of = {e["path"]: e["kind"] for e in entries}
    rejected = _rejected(con, work, entries, table_of, duplicate_selects)
    _write_rejected(con, rejected, work / "rejected.parquet")
    loaded = ["SELECT source_file FROM accounts WHERE NOT from_tweets_file",
              f"SELECT source_file FROM read_parquet({lit(str(tweets_path))})"]
    files = _file_entries(con, entries, loaded, merged_selects, rejected)

    tweets_path = lit(str(tweets_path))
    missing = [r[0] for r in con.execute(
        "SELECT userid FROM accounts WHERE from_tweets_file ORDER BY userid LIMIT 5").fetchall()]
    n_missing, n_accounts, n_users_damaged, n_hashed = con.execute(
        "SELECT count(*) FILTER (from_tweets_file), count(*), count(*) FILTER (id_damaged), "
        "count(*) FILTER (userid_hashed) FROM accounts").fetchone()
    without = con.execute(f"SELECT count(*) FROM accounts WHERE NOT from_tweets_file AND userid NOT IN "
                          f"(SELECT DISTINCT userid FROM read_parquet({tweets_path}))").fetchone()[0]
    damaged_by_column = dict(zip(quirks.ID_COLUMNS, con.execute("SELECT " + ", ".join(
        f"count(*) FILTER ({quirks.damaged(c)})" for c in quirks.ID_COLUMNS)
        + f" FROM read_parquet({tweets_path})").fetchone()))
    n_tweets, n_damaged_tweets = con.execute(
        f"SELECT count(*), count(*) FILTER (id_damaged) FROM read_parquet({tweets_path})").fetchone()
    return {
        "files": files,
        "accounts_tweeting_not_in_users": {"count": n_missing, "examples": missing},
        "users_without_tweets": without,
        "totals": {
            "rows_read": sum(f["rows_read"] for f in files), "rows_loaded": sum(f["rows_loaded"] for f in files),
            "rows_rejected": len(rejected), "accounts": n_accounts, "accounts_from_users_file": n_accounts - n_missing,
            "accounts_from_tweets_file": n_missing, "accounts_hashed": n_hashed,
            "accounts_id_damaged": n_users_damaged, "tweets": n_tweets, "tweets_id_damaged": n_damaged_tweets,
            "tweets_coordinates_present_withheld": withheld},
        "tweets_id_damaged_by_column": damaged_by_column,
        "tweets_file": "tweets.parquet is empty (no tweets file)" if not tweets else "tweets.parquet",
    }


ENGAGEMENT_PARTS = ["like_total", "retweet_total", "reply_total", "quote_total"]


def _assemble_account_table(con, work, entry) -> dict:
    part = _loaded([entry], "account_table")
    present = [c for c in ENGAGEMENT_PARTS if c not in entry["columns_missing"]]
    if "engagement_total" not in entry["columns_missing"]:
        engagement, note = "engagement_total", "engagement_total as given in the file"
    else:
        engagement = " + ".join(present) if present else "NULL"
        note = f"engagement_total = {' + '.join(present) or 'unknown'} (the components present)"
    duplicate, merged = _rank_duplicates(con, "table_ok", part, "userid")
    columns = {**schema.ACCOUNT_TABLE_COLUMNS, "id_damaged": "BOOLEAN", "source_file": "VARCHAR",
               "source_line": "BIGINT"}
    con.execute(f"""CREATE TEMP TABLE accounts AS SELECT * REPLACE ({engagement} AS engagement_total)
        FROM table_ok WHERE dup_rank = 1 ORDER BY source_line""")
    _copy(con, "SELECT * FROM accounts", columns, work / "accounts.parquet")
    rejected = _rejected(con, work, [entry], {entry["path"]: "account_table"}, [duplicate])
    _write_rejected(con, rejected, work / "rejected.parquet")
    files = _file_entries(con, [entry], ["SELECT source_file FROM accounts"], [merged], rejected)
    n_accounts, n_damaged = con.execute("SELECT count(*), count(*) FILTER (id_damaged) FROM accounts").fetchone()
    return {
        "files": files,
        "engagement_components_present": present,
        "engagement_components_missing": [c for c in ENGAGEMENT_PARTS if c not in present],
        "engagement_total": note,
        "totals": {"rows_read": files[0]["rows_read"], "rows_loaded": files[0]["rows_loaded"],
                   "rows_rejected": len(rejected), "accounts": n_accounts, "accounts_id_damaged": n_damaged},
    }


# ---- public API --------------------------------------------------------------


def ingest(data_dir, campaign, out_dir, *, tweets_glob=None, users_glob=None, date_order="auto",
           memory_limit="2GB", threads=None) -> LoadReport:
    """Load a campaign's archive files into out_dir (see the module docstring)."""
    if date_order not in quirks.DATE_ORDERS:
        raise TractionError(f"date_order must be one of {', '.join(quirks.DATE_ORDERS)}, not {date_order!r}")
    data_dir = Path(data_dir)
    sources = find_sources(data_dir, campaign, tweets_glob, users_glob)
    params = dict(campaign=campaign, date_order=date_order, memory_limit=memory_limit, threads=threads)

    def build(con, work):
        entries = []
        for i, s in enumerate(sources):
            path = _materialise(s, work)
            stage = functools.partial(quirks.stage_file, con, work, i, s.kind, s.label, path, date_order,
                                      sha256=s.sha256)
            # tweets files: checked by the count of rows written (see stage_file), unless that fails
            entries.append({**stage(speculative=s.kind == "tweets"), "restage": stage})
        return {"campaign": campaign, "form": "archive", "data_dir": str(data_dir.resolve()),
                  "simulated": (data_dir / "truth.json").is_file(), "date_order": date_order,
                  **_assemble_archive(con, work, entries)}

    return _run("archive", sources, out_dir, params, build)


def ingest_account_table(path, out_dir, column_map=None, *, campaign=None, memory_limit="2GB",
                         threads=None) -> LoadReport:
    """Load an account-level table (one row per account); column_map maps our names to the file's."""
    path = Path(path)
    if not path.is_file():
        raise TractionError(f"account table not found: {path}")
    column_map = dict(column_map or {})
    unknown = sorted(set(column_map) - set(schema.ACCOUNT_TABLE_COLUMNS))
    if unknown:
        raise TractionError(f"column_map: unknown target column(s) {', '.join(unknown)}; "
                            f"known: {', '.join(schema.ACCOUNT_TABLE_COLUMNS)}")
    campaign = campaign or path.stem
    source = Source("account_table", path.name, path)
    params = dict(campaign=campaign, column_map=column_map, memory_limit=memory_limit, threads=threads)

    def build(con, work):
        entry = quirks.stage_file(con, work, 0, "account_table", path.name, path, "auto", column_map,
                                  sha256=source.sha256)
        return {"campaign": campaign, "form": "account_table", "data_dir": str(path.parent.resolve()),
                "simulated": (path.parent / "truth.json").is_file(), "column_map": column_map,
                **_assemble_account_table(con, work, entry)}

    return _run("account_table", [source], out_dir, params, build)


def _parse_column_map(text: str) -> dict:
    """'{"userid": "screen_name"}' (JSON) or 'userid=screen_name,follower_count=followers_max'."""
    if not text:
        return {}
    if text.strip().startswith("{"):
        try:
            return dict(json.loads(text))
        except ValueError as error:
            raise TractionError(f"--column-map is not valid JSON: {error}") from None
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise TractionError(f"--column-map: expected ours=theirs pairs separated by commas, got {text!r}")
    return {ours.strip(): theirs.strip() for ours, theirs in pairs}


def cli_ingest(args) -> int:
    """`traction ingest`: run the ingest, print a one-screen summary, return the exit status."""
    if args.account_table:
        report = ingest_account_table(args.account_table, args.out, _parse_column_map(args.column_map),
                                      campaign=args.campaign, memory_limit=args.memory_limit, threads=args.threads)
    else:
        if not args.data_dir or not args.campaign:
            raise TractionError("--data-dir and --campaign are required (or --account-table)")
        report = ingest(args.data_dir, args.campaign, args.out, tweets_glob=args.tweets_glob,
                        users_glob=args.users_glob, date_order=args.date_order,
                        memory_limit=args.memory_limit, threads=args.threads)
    print(report.summary())
    print(f"outputs in {Path(args.out).resolve()}")
    return 0


# ---- for notebook 01: small tables about the load ----------------------------

MEANINGS = {
    "userid": "account id as a string (hashed for accounts under 5,000 followers)",
    "user_display_name": "display name (hashed like userid)", "user_screen_name": "@handle (hashed like userid)",
    "user_reported_location": "self-reported location", "user_profile_description": "profile text",
    "user_profile_url": "profile link", "follower_count": "followers at suspension (NULL: empty in the file)",
    "following_count": "accounts followed at suspension", "account_creation_date": "creation date (UTC)",
    "account_language": "account language", "userid_hashed": "userid is anonymised",
    "id_damaged": "an id was rounded to scientific notation by a spreadsheet (digits lost)",
    "from_tweets_file": "missing from the users file; taken from its tweets",
    "source_file": "input file (path in data_dir)", "source_line": "1-based line where the record starts",
    "tweetid": "tweet id as a string", "tweet_language": "tweet language", "tweet_text": "text",
    "tweet_time": "time posted (UTC)", "tweet_client_name": "client used", "in_reply_to_userid": "replied-to account",
    "in_reply_to_tweetid": "replied-to tweet", "quoted_tweet_tweetid": "quoted tweet", "is_retweet": "a retweet",
    "retweet_userid": "retweeted account", "retweet_tweetid": "retweeted tweet",
    "latitude": "latitude (NULL where 'absent' or withheld)", "longitude": "longitude (as latitude)",
    "quote_count": "quotes (excluding actioned accounts)", "reply_count": "replies (as quotes)",
    "like_count": "likes (as quotes)", "retweet_count": "retweets (as quotes)", "hashtags": "hashtags",
    "urls": "links", "user_mentions": "mentioned account ids", "poll_choices": "poll options (some releases lack it)",
    "tweet_count": "tweets posted", "like_total": "likes received, summed", "retweet_total": "retweets received, summed",
    "reply_total": "replies received, summed", "quote_total": "quotes received, summed",
    "engagement_total": "engagement received (see the report for its components)",
    "table": "'users', 'tweets' or 'account_table'", "raw": "the record exactly as in the file",
    "reason": "why it was not loaded",
}


def data_dictionary(form: str = "archive"):
    """(table, column, type, meaning) for every output column of a form."""
    import pandas as pd

    tables = {"accounts.parquet": schema.ACCOUNTS_SCHEMA, "tweets.parquet": schema.TWEETS_SCHEMA}
    if form == "account_table":
        tables = {"accounts.parquet": {**schema.ACCOUNT_TABLE_COLUMNS, "id_damaged": "BOOLEAN",
                                       "source_file": "VARCHAR", "source_line": "BIGINT"}}
    tables["rejected.parquet"] = schema.REJECTED_SCHEMA
    return pd.DataFrame([(table, column, sql_type, MEANINGS.get(column, ""))
                         for table, columns in tables.items() for column, sql_type in columns.items()],
                        columns=["table", "column", "type", "meaning"])


def files_table(report: dict):
    """One row per input file: rows read, loaded, rejected and the reasons."""
    import pandas as pd

    return pd.DataFrame([{"file": f["path"], "kind": f["kind"], "read": f["rows_read"], "loaded": f["rows_loaded"],
                          "rejected": f["rows_rejected"], "date order": f.get("date_order"),
                          "reasons": "; ".join(f"{n} {r}" for r, n in f["rejected_by_reason"].items()),
                          "sha256": f["sha256"][:12]} for f in report["files"]])
