"""One-off: our 1-minute co-retweet edges against QUT's coordination-network-toolkit 1.5.2 on the default sample.

The toolkit is old and pulls in twarc, so it lives only in a throwaway venv, never in the project's:

    python3 -m venv /tmp/cnt-venv && /tmp/cnt-venv/bin/pip install coordination-network-toolkit==1.5.2
    .venv/bin/python benchmarks/coordination_crosscheck.py

Writes its files under OUT (first argument, default /tmp/traction-cnt) and prints the
agreement recorded in docs/statistics.md (Coordination).
"""
import csv, subprocess, sys
from pathlib import Path
import duckdb
import pandas as pd
from helpers import simulate, traces as traces_module
from helpers.ingest import archive

out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/traction-cnt")
out.mkdir(parents=True, exist_ok=True)
data, campaign = simulate.ensure_default("sample")
work = out / "work"
if not (work / "tweets.parquet").is_file():
    archive.ingest(data, campaign, work)
con = duckdb.connect()
rows = con.execute(f"""SELECT tweetid, userid, userid AS username, CASE WHEN is_retweet THEN retweet_tweetid ELSE '' END,
    coalesce(in_reply_to_tweetid, ''), tweet_text, epoch(tweet_time)::BIGINT, array_to_string(coalesce(urls, []), ' ')
    FROM read_parquet('{work}/tweets.parquet')""").fetchall()
with open(out / "messages.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f); w.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
    w.writerows(rows)
db = out / "qut.db"; db.unlink(missing_ok=True)
tool = "/tmp/cnt-venv/bin/compute_networks"  # the throwaway venv above
subprocess.run([tool, str(db), "preprocess", "--format", "csv", str(out / "messages.csv")], check=True, capture_output=True)
subprocess.run([tool, str(db), "compute", "co_retweet", "--time_window", "60", "--min_edge_weight", "2"], check=True, capture_output=True)
# Its CSV export fails in 1.5.2 (output_gephi_csv() got an unexpected keyword argument 'n_messages'), so the
# table is read as its exporter reads it (graph.get_edge_rows: user_1 != user_2).
import sqlite3
qut = pd.read_sql("SELECT user_1 AS source, user_2 AS target, weight FROM co_retweet_network WHERE user_1 != user_2",
                  sqlite3.connect(db))
qut_pairs = {tuple(sorted(p)) for p in zip(qut["source"], qut["target"])}
traces = traces_module.open(work)
ids = traces.accounts().set_index("uid")["userid"]
ours = traces.pairs(1, min_weight=2, max_rows=500).edges.query("trace == 'co_retweet'")
our_pairs = {tuple(sorted((ids[a], ids[b]))) for a, b in zip(ours["user_1"], ours["user_2"])}
both = our_pairs & qut_pairs
print(f"rows {len(rows):,}; ours {len(our_pairs)} pairs, toolkit {len(qut_pairs)} pairs (its directed edges: {len(qut)}), "
      f"both {len(both)}, only ours {len(our_pairs - qut_pairs)}, only toolkit {len(qut_pairs - our_pairs)}")
w_ours = {tuple(sorted((ids[a], ids[b]))): w for a, b, w in zip(ours["user_1"], ours["user_2"], ours["weight"])}
w_qut = {}
for s_, t_, w in zip(qut["source"], qut["target"], qut["weight"]):
    w_qut.setdefault(tuple(sorted((s_, t_))), []).append(w)
same = sum(1 for p in both if w_ours[p] in w_qut[p])
print(f"weights equal (ours = the toolkit's in one direction) on {same} of {len(both)} shared pairs")
