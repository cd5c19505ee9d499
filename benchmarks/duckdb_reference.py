"""The engine's own jobs on the same CSV files, as references for `traction ingest`.

    python benchmarks/duckdb_reference.py MODE OUT_DIR CSV [CSV ...]

MODE:
- ``typed``: the floor. DuckDB's own typed copy to Parquet: ids as VARCHAR (a 19-digit
  id must keep its digits), every other column typed as DuckDB detects it,
  ``preserve_insertion_order = false``. No validation and no row accounting.
- ``all_text``: every column copied as text (the old "ceiling": text costs more to
  write than numbers, so it is slower than the floor).
- ``parse_only``: ``count(*)`` of the parsed rows; nothing is written.
"""

import sys
from pathlib import Path

import duckdb

ID_COLUMNS = ["tweetid", "userid", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
              "retweet_userid", "retweet_tweetid"]


def source(path: str, mode: str) -> str:
    if mode == "all_text":
        return f"read_csv('{path}', all_varchar = true, header = true)"
    header = open(path, encoding="utf-8-sig").readline().replace('"', "").strip().split(",")
    ids = ", ".join(f"'{c}': 'VARCHAR'" for c in ID_COLUMNS if c in header)
    return f"read_csv('{path}', header = true, types = {{{ids}}})"


def main(mode, out_dir, *csv_paths):
    if mode not in ("typed", "all_text", "parse_only"):
        sys.exit(__doc__)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    for path in csv_paths:
        if mode == "parse_only":
            rows = con.execute(f"SELECT count(*) FROM {source(path, mode)}").fetchall()[0][0]
            print(f"{path}: {rows:,} rows parsed")
            continue
        target = out_dir / (Path(path).stem + ".parquet")
        rows = con.execute(f"COPY (SELECT * FROM {source(path, mode)}) TO '{target}' (FORMAT parquet)").fetchall()[0][0]
        print(f"{path}: {rows:,} rows -> {target}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
