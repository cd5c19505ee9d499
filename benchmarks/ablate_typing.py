"""What the ingest's typed COPY (CSV -> part parquet) costs, piece by piece.

Rebuilds the statement `helpers.ingest.quirks.stage_file` sends for a tweets file from
the same helpers (typed_select, the record map, the misaligned check) and runs
it with parts added one at a time, reporting wall and process-CPU seconds.

    python benchmarks/ablate_typing.py TWEETS_CSV
"""

import sys
import tempfile
import time
from pathlib import Path

import duckdb

from helpers.ingest import quirks
from helpers.ingest import scan as scan_module

lit, q = quirks.lit, quirks.q


def main(tweets_csv):
    path = Path(tweets_csv)
    work = Path(tempfile.mkdtemp(prefix="ablate-"))
    header = scan_module.read_header(path, path.name)
    matched = quirks.match_columns("tweets", header, path.name)
    names = {i: f"_extra_{i}" for i in range(len(header))}
    names.update({i: ours for ours, i in matched.items()})
    started = time.process_time()
    scan_module.scan_file(path, path.name, work / "map.parquet")
    print(f"{'':>30} byte scan (record map): {time.process_time() - started:.2f} s CPU")
    columns = "{" + ", ".join(f"{lit(names[i])}: 'VARCHAR'" for i in range(len(header))) + "}"
    scan = (f"read_csv({lit(str(path))}, columns={columns}, header=true, delim=',', quote='\"', escape='\"', "
            f"auto_detect=false, strict_mode=true)")
    typing = quirks.typed_select("tweets", set(matched), "ymd")
    if len(typing) not in (2, 3):
        sys.exit(f"typed_select now returns {len(typing)} parts; this script knows the 2- and 3-part forms "
                 "(archive code of Nov 2026): update it to the current one")
    if len(typing) == 3:  # newer archive_quirks: typed values in an inner SELECT, reasons test them
        inner, items, reasons = typing
        typed_scan = f"(SELECT *, {', '.join(inner)} FROM {{}})"
    else:
        items, reasons = typing
        typed_scan = "{}"
    all_text = "concat(" + ", ".join(q(names[i]) for i in range(len(header))) + ")"
    misaligned = (f"coalesce(n_lines - 1 != length({all_text}) - length(replace({all_text}, chr(10), '')), true) "
                  "AS misaligned")
    newline_count = ("coalesce(n_lines - 1 != " + " + ".join(
        f"coalesce(length({q(names[i])}) - length(replace({q(names[i])}, chr(10), '')), 0)"
        for i in range(len(header))) + ", true) AS misaligned")
    reason = f"NULLIF(concat_ws('; ', {', '.join(reasons)}), '') AS reason"
    mapped = typed_scan.format(f"{scan} POSITIONAL JOIN read_parquet({lit(str(work / 'map.parquet'))})")
    typed_only = typed_scan.format(scan)
    no_damage = [i for i in items if not i.endswith("AS id_damaged")] + ["false AS id_damaged"]
    variants = [
        ("all text (the ceiling)", "*", scan),
        ("typed columns", ", ".join(items), typed_only),
        ("typed, no id_damaged regexes", ", ".join(no_damage), typed_only),
        ("typed + reasons", ", ".join(items) + ", " + reason, typed_only),
        ("typed + reasons + record map", ", ".join(items) + ", start_line, " + reason, mapped),
        ("+ misaligned (as in archive)", ", ".join(items) + ", start_line, " + reason + ", " + misaligned, mapped),
        ("+ misaligned per column", ", ".join(items) + ", start_line, " + reason + ", " + newline_count, mapped),
    ]
    groups = {"times (try_strptime, value + reason)": {"tweet_time": (quirks.as_time, "ymd", "TIMESTAMP"),
                                                       "account_creation_date": (quirks.as_time, "ymd", "DATE")},
              "integers (regexp + TRY_CAST)": {c: (quirks.as_integer,) for c in
                                               ("follower_count", "following_count", "quote_count", "reply_count",
                                                "like_count", "retweet_count")},
              "lists (regexp_extract_all / string_split)": {c: (quirks.as_list,) for c in
                                                            ("hashtags", "urls", "user_mentions", "poll_choices")},
              "booleans and coordinates": {"is_retweet": (quirks.as_boolean,), "latitude": (quirks.as_coordinate,),
                                           "longitude": (quirks.as_coordinate,)}}
    for label, group in groups.items():
        values, whys = [], []
        for name, (converter, *args) in group.items():
            value, why = converter(name, *args)
            values.append(f"{value} AS {q('__typed_' + name)}")
            whys.append(f"{why} AS {q(name + '_reason')}")
        variants.append((f"text + only {label}", "*, " + ", ".join(whys),
                         f"(SELECT *, {', '.join(values)} FROM {scan})"))
    variants.append(("text + only id_damaged (7 regexes)", "*, " + next(i for i in items if i.endswith("AS id_damaged")),
                     scan))
    con = duckdb.connect()
    con.execute(f"SET temp_directory = {lit(str(work / 'tmp'))}")
    print(f"{'wall s':>8} {'CPU s':>8}  variant")
    for label, select, source in variants:
        wall, cpu = time.perf_counter(), time.process_time()
        con.execute(f"COPY (SELECT {select} FROM {source}) TO {lit(str(work / 'out.parquet'))} (FORMAT parquet)")
        print(f"{time.perf_counter() - wall:8.2f} {time.process_time() - cpu:8.2f}  {label}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
