"""Archive ingest: a campaign's CSV files -> typed Parquet, every row accounted for.

``ingest`` finds a campaign's users and tweets files (plain, zipped, multi-part),
reads each once with DuckDB (every column VARCHAR, so ids are never numbers; typed in
SQL on every core, see ``load`` and ``stream``) and writes into ``out_dir``:

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
marker a later run trusts. A run holds ``out_dir/.ingest.lock`` from its cache check
to its last write, so runs into one folder take turns; a work folder
(``.ingest-tmp-*``) found while holding it belongs to a run that was killed, and is
removed.

The cached path imports neither DuckDB nor Arrow: a re-run costs little more than
starting Python.
"""

import fcntl
import fnmatch
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import uuid
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers import schema
from helpers.errors import TractionError

INGEST_VERSION = 5  # bump when outputs change for the same input (5: NUL bytes, stray BOM, tweet ids, a CR alone)
REPORT = "load_report.json"
MEMO = ".hash_memo.json"
LOCK = ".ingest.lock"
WORK_PREFIX = ".ingest-tmp-"
OUTPUTS = {"archive": ["accounts.parquet", "tweets.parquet", "rejected.parquet"],
           "account_table": ["accounts.parquet", "rejected.parquet"]}
DATE_ORDERS = ("auto", "ymd", "mdy", "dmy")  # quirks.DATE_ORDERS, without importing DuckDB's side


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
            for stretch in entry.get("damage", []):
                lines.append(f"      damaged: {stretch['reason']}")
        items = [f"{k.replace('_', ' ')} {v:,}" for k, v in totals.items() if isinstance(v, int)]
        lines += ["  " + ", ".join(items[i:i + 4]) for i in range(0, len(items), 4)]
        missing = self.get("accounts_tweeting_not_in_users")
        if missing and missing["count"]:
            lines.append(f"  accounts tweeting but not in the users file: {missing['count']:,} (added)")
        if "users_without_tweets" in self:
            lines.append(f"  users without tweets: {self['users_without_tweets']:,}")
        for column, found in self.get("dates_out_of_range", {}).items():
            examples = ", ".join(f"{e['file']} line {e['line']:,}: {e['value']}" for e in found["examples"][:2])
            lines.append(f"  flagged: {found['count']:,} {column} before {found['before']} or after {found['after']} "
                         f"(loaded; e.g. {examples})")
        lines += [f"  note: {note}" for note in self.get("notes", [])]
        return "\n".join(lines)


@dataclass
class Source:
    """One input CSV: a file in data_dir or a member of a zip there."""

    kind: str  # 'users', 'tweets' or 'account_table'
    label: str  # path relative to data_dir ('x.zip/member.csv' for zip members)
    container: Path  # the file on disk (the zip for members)
    member: str | None = None
    facts: dict | Future | None = None  # the container's hash and line count (scan.quick_scan)


# ---- finding the files -------------------------------------------------------


def _natural_key(text: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _macos_metadata(name: str) -> bool:
    """What a Mac's zip adds beside each file: __MACOSX/ and ._<name> (resource forks, not CSV)."""
    parts = name.split("/")
    return "__MACOSX" in parts or parts[-1].startswith("._")


def _candidates(data_dir: Path, campaign: str, notes: list) -> list[Source]:
    found = []
    for path in sorted(data_dir.iterdir()):
        if _macos_metadata(path.name):
            continue
        if path.suffix.lower() == ".csv" and path.is_file():
            found.append(Source("", path.name, path))
        elif path.suffix.lower() == ".zip" and path.is_file():
            try:
                with zipfile.ZipFile(path) as archive:
                    names = [n for n in archive.namelist() if n.lower().endswith(".csv") and not _macos_metadata(n)]
            except (zipfile.BadZipFile, OSError) as error:
                if campaign.lower() in path.name.lower():
                    raise TractionError(f"{path.name}: not a readable zip file ({error}); download it again") from None
                notes.append(f"skipped {path.name}: not a readable zip file")
                continue
            found += [Source("", f"{path.name}/{name}", path, name) for name in names]
    return found


def _matches(label: str, pattern: str) -> bool:
    """The pattern matched per path segment, from the end: a '*' never crosses a '/'."""
    parts, wanted = label.split("/"), pattern.split("/")
    return len(wanted) <= len(parts) and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts[-len(wanted):], wanted))


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            crc = zlib.crc32(chunk, crc)
    return crc


def _size_crc(source: Source) -> tuple[int, int]:
    if source.member is None:
        return source.container.stat().st_size, _crc32(source.container)
    with zipfile.ZipFile(source.container) as archive:
        info = archive.getinfo(source.member)
    return info.file_size, info.CRC


def _same_file_twice(chosen: list[Source], notes: list) -> list[Source]:
    """A file present twice (plain and in a zip, in two zips, or twice in one zip) is read once:
    the plain one, else the first found; the same file is told by its size and CRC-32. Two
    different files with one name are an error, since either could be the campaign's."""
    first = {}
    for source in sorted(chosen, key=lambda s: s.member is not None):  # plain files first, else found order
        first.setdefault(Path(source.label).name, source)
    kept = []
    for source in chosen:
        twin = first[Path(source.label).name]
        if twin is source:
            kept.append(source)
            continue
        if _size_crc(source) != _size_crc(twin):
            raise TractionError(f"{twin.label} and {source.label} have one name but different contents; "
                                "keep the one to load and move the other out of the folder")
        where = source.label if source.container == twin.container else source.container.name
        notes.append(f"{twin.label} is also in {where}: the same file, read once")
    return kept


def find_sources(data_dir, campaign, tweets_glob=None, users_glob=None, notes=None) -> list[Source]:
    """The campaign's users and tweets files, parts in natural order (part2 before part10).

    ``notes`` (a list) receives what was skipped: unreadable zips of other campaigns, a file
    present twice."""
    data_dir = Path(data_dir)
    notes = [] if notes is None else notes
    if not data_dir.is_dir():
        raise TractionError(f"data folder not found: {data_dir}")
    candidates = _candidates(data_dir, campaign, notes)
    patterns = {"users": users_glob or f"{campaign}_users_csv_*.csv",
                "tweets": tweets_glob or f"{campaign}_tweets_csv_*.csv"}
    sources = []
    for kind, pattern in patterns.items():
        chosen = _same_file_twice([s for s in candidates if _matches(s.label, pattern)], notes)
        if any("_unhashed" in s.label for s in chosen) and any("_hashed" in s.label for s in chosen):
            raise TractionError(f"{data_dir}: both hashed and unhashed {kind} files for {campaign!r} "
                                f"({', '.join(s.label for s in chosen)}); choose one with a {kind} glob")
        for source in sorted(chosen, key=lambda s: _natural_key(s.label)):
            sources.append(Source(kind, source.label, source.container, source.member))
    if not any(s.kind == "users" for s in sources) and not any(s.kind == "tweets" for s in sources):
        listing = ", ".join(s.label for s in candidates) or "no CSV or zip files"
        raise TractionError(f"{data_dir}: no files for campaign {campaign!r} (looked for "
                            f"{patterns['users']} and {patterns['tweets']}); found: {listing}"
                            + "".join(f"; {note}" for note in notes))
    return sources


# ---- cache -------------------------------------------------------------------


def _file_facts(path: Path, memo: dict, count_lines: bool) -> dict:
    """A file's hash and line count, remembered by (size, mtime) so an unchanged file is not re-read."""
    stat = path.stat()
    key, stamp = str(path.resolve()), [stat.st_size, stat.st_mtime_ns]
    known = memo.get(key, {})
    if known.get("stamp") != stamp or (count_lines and "stray" not in known):
        from helpers.ingest import scan

        memo[key] = {"stamp": stamp, **scan.quick_scan(path, count_lines).to_dict()}
    return {k: v for k, v in memo[key].items() if k != "stamp"}


def _read_memo(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MEMO).read_text()) if (out_dir / MEMO).is_file() else {}
    except ValueError:
        return {}


def _facts(source: Source) -> dict:
    """The source's hash and line count (waiting for them when they are computed beside the load)."""
    if isinstance(source.facts, Future):
        source.facts = source.facts.result()
    return source.facts


def _cache_key(form: str, sources: list[Source], params: dict) -> str:
    inputs = [[s.kind, s.label, _facts(s)["sha256"]] for s in sources]
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


# ---- one run at a time per out folder; what a killed run left is removed ----------


class _Locked:
    """``out_dir/.ingest.lock``, held (flock) for the whole run; the kernel frees it when the process
    dies, however it dies, so a held lock always means a live run."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir

    def __enter__(self):
        self.fd = os.open(self.out_dir / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another ingest into {self.out_dir} to finish ...", file=sys.stderr, flush=True)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # releases the lock; the file stays (removing it would race a waiting run)


STALE_TEMP = re.compile(r"\.(.+)\.[0-9a-f]+\.tmp")  # _write_atomic's temporary files


def _remove_stale(out_dir: Path):
    """Work folders and half-written files of runs that were killed (called holding the lock)."""
    for path in out_dir.iterdir():
        if path.name.startswith(WORK_PREFIX):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        elif (match := STALE_TEMP.fullmatch(path.name)) and match.group(1) in (REPORT, MEMO, *OUTPUTS["archive"]):
            path.unlink(missing_ok=True)


def _connect(work: Path, memory_limit: str, threads):
    import duckdb

    con = duckdb.connect()
    quote = lambda text: "'" + str(text).replace("'", "''") + "'"  # noqa: E731
    settings = {"memory_limit": quote(memory_limit), "threads": threads and int(threads)}
    for name, value in settings.items():
        try:
            if value:
                con.execute(f"SET {name} = {value}")
        except (duckdb.Error, ValueError) as error:
            con.close()
            raise TractionError(f"{name} {value}: DuckDB refused it ({str(error).splitlines()[0]}); "
                                "give a size like 2GB (memory_limit) or a whole number of 1 or more (threads)") from None
    con.execute(f"SET temp_directory = {quote(work / 'duckdb_tmp')}")
    con.execute("SET preserve_insertion_order = true")  # rows come out in file order: their lines are counted
    return con


def _run(form, sources, out_dir, params, build):
    """Shared frame of both forms: lock, clean-up, cache check, work folder, build, publish.

    With a report in out_dir the inputs are hashed first (an unchanged input is answered from
    the cache); without one nothing can be answered, so they are hashed while DuckDB reads them.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    key_params = {k: v for k, v in params.items() if k not in ("memory_limit", "threads")}
    with _Locked(out_dir), ThreadPoolExecutor(1) as pool:
        _remove_stale(out_dir)
        memo = _read_memo(out_dir)
        if (out_dir / REPORT).is_file():
            for source in sources:
                source.facts = _file_facts(source.container, memo, count_lines=source.member is None)
            _write_atomic(out_dir / MEMO, json.dumps(memo))
            cached = _cached(out_dir, _cache_key(form, sources, key_params))
            if cached is not None:
                return cached
        else:
            for source in sources:
                source.facts = pool.submit(_file_facts, source.container, memo, source.member is None)
        work = out_dir / f"{WORK_PREFIX}{uuid.uuid4().hex}"
        work.mkdir()
        try:
            report = _build(form, work, params, build)
            report.update(cache_key=_cache_key(form, sources, key_params), ingest_version=INGEST_VERSION,
                          outputs=OUTPUTS[form])
            _write_atomic(out_dir / MEMO, json.dumps(memo))
            _publish(work, out_dir, report)
        finally:
            for source in sources:  # a failed build stops the hashing it no longer needs
                if isinstance(source.facts, Future):
                    source.facts.cancel()
            shutil.rmtree(work, ignore_errors=True)
    return report


def _build(form, work, params, build) -> LoadReport:
    import duckdb

    limit = params.get("memory_limit", "2GB")
    con = _connect(work, limit, params.get("threads"))
    try:
        return LoadReport(build(con, work))
    except duckdb.OutOfMemoryException as error:
        raise TractionError(f"DuckDB ran out of memory ({str(error).splitlines()[0]}); raise the memory "
                            f"limit (now {limit})") from None
    except duckdb.Error as error:
        raise TractionError(f"DuckDB could not read the input: {str(error).splitlines()[0]}") from None
    finally:
        con.close()


def _materialise(source: Source, work: Path) -> Path:
    """A plain file to read: the file itself, or the zip member extracted into work/."""
    if source.member is None:
        return source.container
    target = work / "members" / f"{uuid.uuid4().hex}.csv"
    target.parent.mkdir(exist_ok=True)
    try:
        with (zipfile.ZipFile(source.container) as archive, archive.open(source.member) as src,
              open(target, "wb") as dst):
            shutil.copyfileobj(src, dst, 1 << 22)
    except NotImplementedError:  # (a RuntimeError: caught first)
        with zipfile.ZipFile(source.container) as archive:
            method = archive.getinfo(source.member).compress_type
        name = {9: "Deflate64", 6: "Implode", 98: "PPMd"}.get(method, f"method {method}")
        raise TractionError(f"{source.label}: compressed with {name}, which Python's zipfile cannot read; extract "
                            "it with another tool (7-Zip, or unzip) and put the CSV file in the folder") from None
    except RuntimeError as error:  # zipfile's word for a password-protected member
        raise TractionError(f"{source.label}: the zip member is encrypted ({error}); extract it with its "
                            "password and put the CSV file in the folder") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise TractionError(f"{source.label}: the zip member is corrupt ({error}); download the zip again") from None
    return target


def _inputs(sources: list[Source], work: Path, column_map: dict | None = None) -> dict:
    """The load module's view of each file, by kind, in order."""
    from helpers.ingest import load, scan

    files = {}
    for index, source in enumerate(sources):
        path = _materialise(source, work)
        if source.member is not None:  # the zip's own hash is the cache key; the member is scanned when read
            facts = functools.partial(scan.quick_scan, path)
        else:
            facts = functools.partial(lambda s: scan.QuickScan(**_facts(s)), source)
        files.setdefault(source.kind, []).append(
            load.FileInput(index, source.kind, source.label, path, facts, dict(column_map or {})))
    return files


# ---- public API --------------------------------------------------------------


def ingest(data_dir, campaign, out_dir, *, tweets_glob=None, users_glob=None, date_order="auto",
           memory_limit="2GB", threads=None) -> LoadReport:
    """Load a campaign's archive files into out_dir (see the module docstring)."""
    if date_order not in DATE_ORDERS:
        raise TractionError(f"date_order must be one of {', '.join(DATE_ORDERS)}, not {date_order!r}")
    data_dir, notes = Path(data_dir), []
    sources = find_sources(data_dir, campaign, tweets_glob, users_glob, notes)
    params = dict(campaign=campaign, date_order=date_order, memory_limit=memory_limit, threads=threads)

    def build(con, work):
        from helpers.ingest import assemble, load

        files = _inputs(sources, work)
        loaded = {kind: load.load_kind(con, work, files[kind], date_order, work / f"staged_{kind}.parquet")
                  for kind in ("users", "tweets") if kind in files}
        return {"campaign": campaign, "form": "archive", "data_dir": str(data_dir.resolve()),
                "simulated": (data_dir / "truth.json").is_file(), "date_order": date_order, "notes": notes,
                **assemble.archive(con, work, loaded.get("users"), loaded.get("tweets"), files.get("tweets", []))}

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
        from helpers.ingest import assemble, load

        files = _inputs([source], work, column_map)["account_table"]
        table = load.load_kind(con, work, files, "auto", work / "staged_table.parquet")
        return {"campaign": campaign, "form": "account_table", "data_dir": str(path.parent.resolve()),
                "simulated": (path.parent / "truth.json").is_file(), "column_map": column_map,
                **assemble.account_table(con, work, table)}

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
    "source_last_line": "1-based line where the record ends",
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
