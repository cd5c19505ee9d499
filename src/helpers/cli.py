"""The ``traction`` command: ingest, simulate, run and compare, one subcommand each.

Each subcommand (ingest, simulate, run, measures, compare) only parses arguments and calls the module that
does the work. Options are checked as they are parsed, before any work; user errors
(``TractionError``) become a one-line message and exit status 2, and so does any
other failure: a user never sees a traceback (``TRACTION_DEBUG=1`` shows it).
"""

import argparse
import os
import re
import sys
from pathlib import Path

from helpers import defaults
from helpers.errors import TractionError


def _ingest(args):
    from helpers.ingest import archive

    return archive.cli_ingest(args)


def _simulate(args):
    from helpers import simulate

    return simulate.cli_simulate(args)


def _run(args):
    from helpers import pipeline

    return pipeline.cli_run(args)


def _compare(args):
    from helpers import pipeline

    return pipeline.cli_compare(args)


def _measures(args):
    from helpers import results

    print(results.listing())
    return 0


def _shares(text):
    """'0.6,0.25,0.1,0.05' -> (0.6, 0.25, 0.1, 0.05)."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None


MEMORY = re.compile(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|B|%)?\s*", re.IGNORECASE)  # DuckDB's sizes: 2GB, 500MiB, 80%


def campaign_name(text):
    if problem := defaults.campaign_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


def memory_limit(text):
    if not MEMORY.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write it like 2GB, 500MB or 80%")
    return text.strip()


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of 1 or more")
    return value


def folder(text):
    """An output folder: new or existing, but not a file, and not under a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; name a new or existing folder")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{text}: {parent} is a file, not a folder")
            break
    return text


# One option per field of helpers.simulate.Scenario (kept here so `traction --help` stays light).
SCENARIO_OPTIONS = [
    ("scale", float, "size relative to the release (1 = 23,750 accounts, 348,608 tweets; 30 = about 10M tweets)"),
    ("accounts", int, "accounts at scale 1"),
    ("tweets", int, "tweets at scale 1"),
    ("first_day", str, "first day of tweets, YYYY-MM-DD"),
    ("last_day", str, "last day of tweets, YYYY-MM-DD"),
    ("follower_zero_share", float, "share of ordinary accounts with no follower"),
    ("follower_log_mean", float, "log-mean of 1 + followers of ordinary accounts with followers"),
    ("follower_log_sd", float, "log-sd of the same"),
    ("established_share", float, "share of older, established accounts (many followers)"),
    ("established_log_mean", float, "log-mean of their followers"),
    ("established_log_sd", float, "log-sd of their followers"),
    ("following_mean", float, "mean following count"),
    ("recent_share", float, "share of accounts created on or after --recent-from"),
    ("recent_from", str, "start of the recent creation period, YYYY-MM-DD"),
    ("older_from", str, "earliest creation of ordinary older accounts"),
    ("established_from", str, "earliest creation of established accounts"),
    ("short_lived_share", float, "share of accounts with a short activity window"),
    ("short_lifespan_days", float, "mean activity window of short-lived accounts (days)"),
    ("long_lifespan_days", float, "mean activity window of the others (days)"),
    ("activity_sd", float, "log-sd of tweets per active day across accounts"),
    ("weekend_skip", float, "chance a weekend tweet is moved to another day"),
    ("working_hours_share", float, "share of tweets in Beijing working hours (9-18)"),
    ("retweet_share", float, "share of tweet rows that are retweets"),
    ("in_network_share", float, "share of retweets, replies and quotes that target network tweets"),
    ("reply_share", float, "share of original tweets that are replies"),
    ("quote_share", float, "share of original tweets that are quotes"),
    ("mean_engagement", float, "expected engagement per tweet row (Goldstein & DiResta 2021: 0.81)"),
    ("elasticity", float, "power of (1 + followers) in the mean engagement of an original tweet"),
    ("dispersion", float, "NB2 dispersion alpha of engagement (variance mu + alpha mu^2)"),
    ("zero_inflation", float, "extra share of original tweets with zero engagement"),
    ("engagement_split", _shares, "likes,retweets,replies,quotes shares of engagement"),
    ("amplified_share", float, "share of original tweets amplified (inflated retweets, few likes); 0 for none"),
    ("amplification", float, "factor on the mean engagement of amplified tweets"),
    ("amplified_split", _shares, "likes,retweets,replies,quotes shares for amplified tweets"),
    ("english_share", float, "share of tweets in English"),
    ("undetermined_share", float, "share of tweets of hashtags only (language 'und')"),
    ("us_politics_share", float, "share of English tweets naming US politics"),
    ("politics_mix", _shares, "Trump,Republicans,Democrats,Biden shares of those"),
    ("url_share", float, "share of tweets with a link"),
    ("engagement_intercept", float, "log of the mean engagement of an original tweet at 0 followers (instead of "
     "calibrating to --mean-engagement; ordinary accounts)"),
    ("coordinated_groups", int, "coordinated cells at scale 1 (0: no coordination)"),
    ("group_size", int, "accounts per cell"),
    ("group_bursts", int, "synchronised bursts per cell"),
    ("group_turnout_share", float, "chance a member takes part in a burst"),
    ("group_jitter_seconds", float, "sd of a member's timing around the burst (seconds)"),
    ("group_copy_share", float, "share of bursts that post one text instead of retweeting"),
    ("decoy_tweets", int, "popular tweets at scale 1 retweeted by many accounts at unrelated times"),
    ("decoy_retweeters", int, "accounts retweeting each decoy"),
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="traction",
        description="Test takedown claims against Twitter's Information Operations archive.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    # --- ingest (owned by helpers.ingest) ---
    ingest = sub.add_parser("ingest", help="load a campaign's archive files into typed Parquet")
    ingest.add_argument("--data-dir", help="folder holding the archive files")
    ingest.add_argument("--campaign", type=campaign_name, help="campaign name, e.g. china_052020")
    ingest.add_argument("--out", required=True, type=folder, help="folder for the Parquet tables and load report")
    ingest.add_argument("--tweets-glob", help="pattern for the tweets files (default <campaign>_tweets_csv_*.csv)")
    ingest.add_argument("--users-glob", help="pattern for the users files (default <campaign>_users_csv_*.csv)")
    ingest.add_argument("--date-order", default="auto", choices=["auto", "ymd", "mdy", "dmy"],
                        help="date order of m/d/yyyy-style dates (auto: decided per file from all its values)")
    ingest.add_argument("--account-table", metavar="CSV", help="load an account-level table instead of an archive")
    ingest.add_argument("--column-map", default="", metavar="MAP",
                        help='account table columns, ours=theirs,... or JSON {"userid": "screen_name"}')
    ingest.add_argument("--memory-limit", default="2GB", type=memory_limit,
                        help="DuckDB memory limit, like 2GB or 500MB (spills to disk beyond it)")
    ingest.add_argument("--threads", type=positive_int, help="DuckDB threads (default: all cores)")
    ingest.set_defaults(func=_ingest)

    # --- simulate (owned by helpers.simulate) ---
    simulate = sub.add_parser("simulate", help="write a simulated takedown with a known truth")
    simulate.add_argument("--out", required=True, type=folder, help="folder to write the archive files into")
    simulate.add_argument("--campaign", type=campaign_name, default=defaults.DEFAULT_CAMPAIGN,
                          help="file-name stem of the archive files")
    simulate.add_argument("--seed", type=int, default=defaults.DEFAULT_SEED, help="same seed and scenario, same bytes")
    model = simulate.add_argument_group("scenario", "parameters of the generative model (default: the June 2020 "
                                        "PRC release; see helpers.simulate.Scenario)")
    for name, kind, text in SCENARIO_OPTIONS:
        model.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    simulate.set_defaults(func=_simulate)

    # --- run (owned by helpers.pipeline) ---
    run = sub.add_parser("run", help="run the notebooks 01-03 and render the HTML report")
    run.add_argument("--data-dir", help="archive folder (default: the embedded simulated takedown)")
    run.add_argument("--campaign", type=campaign_name, help="campaign name: letters, digits, '_' and '-'")
    run.add_argument("--out", type=folder, help="output folder (default: reports/<campaign>/)")
    run.add_argument("--index", metavar="FILE", help="write an index of runs here (default: reports/index.html, "
                     "only for runs in reports/)")
    run.add_argument("--claims", metavar="FILE", help="the statement to test: a TOML file of claims (docs/claims.md); "
                     "default: the campaign's shipped statement, else the generic claims")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE")
    run.set_defaults(func=_run)

    # --- measures (owned by helpers.results) ---
    measures = sub.add_parser("measures", help="list every measure a claim can name, with its question and unit")
    measures.set_defaults(func=_measures)

    # --- compare (owned by helpers.report.compare, run by helpers.pipeline) ---
    compare = sub.add_parser("compare", help="put runs side by side with the reference set of real campaigns")
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a folder that traction run wrote (or its "
                         "work folder)")
    compare.add_argument("--out", required=True, type=folder, help="folder for comparison.json and comparison.html")
    compare.add_argument("--index", metavar="FILE", help="write an index of runs and comparisons here (default: "
                         "reports/index.html, only for an --out in reports/)")
    compare.set_defaults(func=_compare)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except TractionError as error:
        print(f"traction {args.command}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug or an unforeseen input: one line, not a traceback
        if os.environ.get("TRACTION_DEBUG"):
            raise
        print(f"traction {args.command}: error: unexpected {type(error).__name__}: {error}. This is a bug in "
              "traction; run again with TRACTION_DEBUG=1 to see where, and please report it", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: a run already published stays as it was (pipeline publishes whole)
        if os.environ.get("TRACTION_DEBUG"):
            raise
        print(f"traction {args.command}: interrupted; nothing half-written was published", file=sys.stderr)
        return 130
