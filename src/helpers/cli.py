"""The ``traction`` command: ingest, simulate and run, one subcommand each.

Each subcommand only parses arguments and calls the module that does the work;
user errors (``TractionError``) become a one-line message and exit status 2.
"""

import argparse
import sys

from helpers.errors import TractionError


def _ingest(args):
    from helpers import archive

    return archive.cli_ingest(args)


def _simulate(args):
    from helpers import simulate

    return simulate.cli_simulate(args)


def _run(args):
    from helpers import pipeline

    return pipeline.cli_run(args)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="traction",
        description="Test takedown claims against Twitter's Information Operations archive.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    # --- ingest (owned by helpers.archive) ---
    ingest = sub.add_parser("ingest", help="load a campaign's archive files into typed Parquet")
    ingest.add_argument("--data-dir", help="folder holding the archive files")
    ingest.add_argument("--campaign", help="campaign name, e.g. china_052020")
    ingest.add_argument("--out", required=True, help="folder for the Parquet tables and load report")
    ingest.add_argument("--tweets-glob", help="pattern for the tweets files (default <campaign>_tweets_csv_*.csv)")
    ingest.add_argument("--users-glob", help="pattern for the users files (default <campaign>_users_csv_*.csv)")
    ingest.add_argument("--date-order", default="auto", choices=["auto", "ymd", "mdy", "dmy"],
                        help="date order of m/d/yyyy-style dates (auto: decided per file from all its values)")
    ingest.add_argument("--account-table", metavar="CSV", help="load an account-level table instead of an archive")
    ingest.add_argument("--column-map", default="", metavar="MAP",
                        help='account table columns, ours=theirs,... or JSON {"userid": "screen_name"}')
    ingest.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit (spills to disk beyond it)")
    ingest.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ingest.set_defaults(func=_ingest)

    # --- simulate (owned by helpers.simulate) ---
    simulate = sub.add_parser("simulate", help="write a simulated takedown with a known truth")
    simulate.add_argument("--out", required=True, help="folder to write the archive files into")
    simulate.add_argument("--campaign", default="simulated_china_052020")
    simulate.add_argument("--seed", type=int, default=20200611)
    simulate.add_argument("--scale", type=float, default=1.0)
    simulate.set_defaults(func=_simulate)

    # --- run (owned by helpers.pipeline) ---
    run = sub.add_parser("run", help="run the notebooks 01-03 and render the HTML report")
    run.add_argument("--data-dir", help="archive folder (default: the embedded simulated takedown)")
    run.add_argument("--campaign")
    run.add_argument("--out", help="output folder (default: reports/<campaign>/)")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE")
    run.set_defaults(func=_run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except TractionError as error:
        print(f"traction {args.command}: error: {error}", file=sys.stderr)
        return 2
