"""`make bench`'s side-by-side line: coordination-network-toolkit's co-retweet network against ours on one campaign.

    python benchmarks/coordination_toolkit.py WORK_DIR OUT [TOOL]

WORK_DIR is an ingest's out folder; TOOL the toolkit's ``compute_networks`` in a throwaway venv (default
/tmp/cnt-venv/bin/compute_networks; the toolkit pulls in twarc, so it stays out of the project's environment):

    python3 -m venv /tmp/cnt-venv && /tmp/cnt-venv/bin/pip install coordination-network-toolkit==1.5.2

Both at a 60-second window and minimum edge weight 2. Times: the toolkit's ``preprocess`` (loading its SQLite
database from our CSV export) and ``compute co_retweet``; ours, the trace tables and the 1-minute pairs (all
traces, as the notebook counts them; the co-retweet ties are compared). Prints one JSON line.
"""

import csv
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

from helpers import traces as traces_module


def export(work: Path, path: Path) -> int:
    """The tweets as the toolkit's CSV: a retweet's repost_id is the retweeted tweet, as in the cross-check."""
    con = duckdb.connect()
    rows = con.execute(f"""SELECT tweetid, userid, userid AS username,
        CASE WHEN is_retweet THEN retweet_tweetid ELSE '' END, coalesce(in_reply_to_tweetid, ''), tweet_text,
        epoch(tweet_time)::BIGINT, array_to_string(coalesce(urls, []), ' ')
        FROM read_parquet('{work}/tweets.parquet') WHERE tweet_time IS NOT NULL""").fetchall()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
        writer.writerows(rows)
    return len(rows)


def main(work, out, tool="/tmp/cnt-venv/bin/compute_networks"):
    work, out = Path(work), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    messages, db = out / "messages.csv", out / "qut.db"
    rows = export(work, messages)
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([tool, str(db), "preprocess", "--format", "csv", str(messages)], check=True, capture_output=True)
    loaded = time.perf_counter()
    subprocess.run([tool, str(db), "compute", "co_retweet", "--time_window", "60", "--min_edge_weight", "2"],
                   check=True, capture_output=True)
    computed = time.perf_counter()
    # Its CSV export fails in 1.5.2 (output_gephi_csv() got an unexpected keyword argument 'n_messages'): the table
    # is read as its exporter reads it (graph.get_edge_rows: user_1 != user_2), both directions of a pair.
    theirs = pd.read_sql("SELECT user_1, user_2, weight FROM co_retweet_network WHERE user_1 != user_2",
                         sqlite3.connect(db))
    their_weights = {}
    for first, second, weight in zip(theirs["user_1"], theirs["user_2"], theirs["weight"]):
        their_weights.setdefault(tuple(sorted((first, second))), set()).add(int(weight))
    ours_started = time.perf_counter()
    with traces_module.open(work) as traces:
        traces.rows_per_trace()
        built = time.perf_counter()
        found = traces.pairs(1, min_weight=2, max_rows=500).edges
        ours_done = time.perf_counter()
        ids = traces.accounts().set_index("uid")["userid"]
    retweets = found[found["trace"] == "co_retweet"]
    our_weights = {tuple(sorted((ids[a], ids[b]))): int(w)
                   for a, b, w in zip(retweets["user_1"], retweets["user_2"], retweets["weight"])}
    both = our_weights.keys() & their_weights.keys()
    print(json.dumps({
        "tweets": rows, "toolkit_load_s": round(loaded - started, 1), "toolkit_compute_s": round(computed - loaded, 1),
        "ours_traces_s": round(built - ours_started, 1), "ours_pairs_s": round(ours_done - built, 1),
        "our_pairs": len(our_weights), "toolkit_pairs": len(their_weights), "both": len(both),
        "only_ours": len(our_weights.keys() - their_weights.keys()),
        "only_toolkit": len(their_weights.keys() - our_weights.keys()),
        "equal_weights": sum(our_weights[p] in their_weights[p] for p in both),
        "edge_sets_equal": our_weights.keys() == their_weights.keys()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
