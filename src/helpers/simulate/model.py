"""A simulated takedown: the archive's two CSV files written from a known generative model.

The real archive cannot ship with the project, so `make report` and the
notebooks run on a seeded stand-in whose truth is known, and the statistics
are checked against that truth. ``write_campaign`` writes
``<campaign>_users_csv_hashed.csv``, ``<campaign>_tweets_csv_hashed.csv`` (the
archive's exact layout, ``helpers.schema``) and ``truth.json``.

Generative model (one account i, one tweet t; every symbol is a `Scenario` field)
-------------------------------------------------------------------------------
- Followers f_i: 0 with probability ``follower_zero_share``, else
  1 + floor(LogNormal(``follower_log_mean``, ``follower_log_sd``)); a share
  ``established_share`` of older, bought-looking accounts draw
  LogNormal(``established_log_mean``, ``established_log_sd``) instead.
  Following: geometric with mean ``following_mean``.
- Creation: a share ``recent_share`` uniform between ``recent_from`` and the last
  tweet day; the rest uniform in [``older_from``, ``recent_from``); established
  accounts uniform in [``established_from``, ``older_from``).
- Lifespan (activity window): exponential, mean ``short_lifespan_days`` for a
  share ``short_lived_share`` of accounts, else ``long_lifespan_days``. The window
  starts at creation (or, for accounts created before ``first_day``, on a uniform
  day of the release period) and is clipped to [``first_day``, ``last_day``].
- Tweets per account: 1 + Multinomial(N - A, w), w_i ∝ (window days) x
  LogNormal(0, ``activity_sd``), so the release has exactly N tweets and A accounts.
  Times: uniform day in the window (weekend days redrawn once with probability
  ``weekend_skip``), Beijing hour 9-18 with probability ``working_hours_share``
  (else any hour), written in UTC.
- Kinds: a tweet is a retweet with probability ``retweet_share``; a retweet is of
  a network tweet (an earlier original by another account of the same block)
  with probability ``in_network_share``, else of an outside account. Originals are
  replies (``reply_share``) or quotes (``quote_share``), targeting network tweets
  with the same ``in_network_share``. As in the archive, retweets by network
  accounts do NOT show in ``retweet_count``, and retweet rows carry zero counts.
- Engagement of an original tweet (likes + retweets + replies + quotes):
  0 with probability ``zero_inflation``, else NB2(mean mu_t, ``dispersion``) with
  mu_t = b * (1 + f_i) ** ``elasticity`` * (``amplification`` if amplified else 1).
  A share ``amplified_share`` of originals are amplified and split their engagement
  by ``amplified_split`` (mostly retweets, few likes); the others by
  ``engagement_split`` (likes, retweets, replies, quotes). b is set so that the
  expected engagement per tweet row equals ``mean_engagement``. Hence
  log E[engagement | f] = ``engagement_intercept`` + elasticity * log(1 + f),
  with engagement_intercept = log(b (1 - zero_inflation)
  (1 - amplified_share + amplified_share * amplification)) recorded in truth.json.
- Content: language en with probability ``english_share``, und (hashtags only)
  ``undetermined_share``, else zh. A share ``us_politics_share`` of English
  originals names one of Trump / Republicans / Democrats / Biden in the
  proportions ``politics_mix``. Topics (Guo Wengui, Hong Kong, COVID-19) shift
  with the date; hashtags follow the release's published top hashtags.

Calibration (defaults = the June 2020 PRC release, ``china_052020``)
--------------------------------------------------------------------
- 23,750 accounts, 348,608 tweets: Twitter Safety, "Disclosing networks of
  state-linked information operations", 11 June 2020; Stanford Internet
  Observatory (SIO), "Sockpuppets Spin COVID Yarns" (Miller, Molter,
  Garcia-Camargo, DiResta), 11 June 2020.
- Tweets from January 2018 to 17 April 2020; most accounts created after
  October 2019 (we take 80%); most accounts under 10 followers: SIO 2020. COVID-19 narratives from late January 2020: SIO 2020.
- Zero-follower mass 0.55: between the real PRC users files of August 2019
  (36.7% with 0 followers) and December 2021 (72.7%), Twitter's archive.
- Mean engagement 0.81 per tweet: Goldstein & DiResta, "China's Fake Twitter
  Accounts Are Tweeting Into the Void", Foreign Policy, 15 Dec 2021 (their
  figure for the 2020 takedown).
- Elasticity 0.8: close to the NB2 slope (0.83) of retweets received on
  log(1 + followers), offset log(tweets), on BuzzFeed News' per-account table of
  3,259 IRA accounts (2018); no published figure exists for this release.
- Hashtags and their relative weights: the release's top hashtags (香港 51,747;
  郭文贵 47,044; 班农 8,542; 暴徒 8,065; 守護香港 7,803; 肺炎 7,175; ...),
  counts over all its tweets (rlzhang1310/BRI_hashtag), in ``simulate_format``.
- Account languages: zh-cn 78%, en 14% in the August 2019 PRC users file.
- Everything else (retweet and reply shares, splits, lifespans, amplification,
  English share 12%, politics mix) is an assumption, exposed as a parameter.

Streaming: accounts are drawn up front (a few arrays of A numbers); tweets are
drawn and written in blocks of ``BLOCK_ACCOUNTS`` accounts, each block from its
own seed (``SeedSequence(seed, spawn_key=(1, block))``), so memory is bounded
and time is linear in ``scale``.
"""

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import defaults
from helpers.simulate import archive_format as simulate_format
from helpers.errors import TractionError

BLOCK_ACCOUNTS = 2048
TARGET_LAG_MEAN = 20  # in-network targets: about this many originals back in time
BURST_DELAY_MINUTES = (1, 5)  # a cell acts this many minutes after its seed tweet (same delay for all members)
DECOY_DAYS = 2  # a decoy's retweets are the retweet rows of the next DECOY_DAYS days, at their own times
GENERATOR_VERSION = 4  # bump when the same seed and scenario would give other files


@dataclass(frozen=True)
class Scenario:
    """Every parameter of the generative model (see the module docstring)."""

    scale: float = 1.0
    accounts: int = 23_750
    tweets: int = 348_608
    first_day: str = "2018-01-01"
    last_day: str = "2020-04-17"
    # accounts
    follower_zero_share: float = 0.55
    follower_log_mean: float = 1.0
    follower_log_sd: float = 1.5
    established_share: float = 0.01
    established_log_mean: float = 7.0
    established_log_sd: float = 1.5
    following_mean: float = 30.0
    recent_share: float = 0.8
    recent_from: str = "2019-10-01"
    older_from: str = "2017-06-01"
    established_from: str = "2011-01-01"
    short_lived_share: float = 0.8
    short_lifespan_days: float = 14.0
    long_lifespan_days: float = 240.0
    activity_sd: float = 1.0
    weekend_skip: float = 0.5
    working_hours_share: float = 0.85
    # tweet kinds
    retweet_share: float = 0.3
    in_network_share: float = 0.5
    reply_share: float = 0.08
    quote_share: float = 0.02
    # engagement of original tweets
    mean_engagement: float = 0.81
    elasticity: float = 0.8
    dispersion: float = 2.0
    zero_inflation: float = 0.3
    engagement_split: tuple = (0.6, 0.25, 0.1, 0.05)  # likes, retweets, replies, quotes
    amplified_share: float = 0.03
    amplification: float = 10.0
    amplified_split: tuple = (0.04, 0.92, 0.02, 0.02)
    # content
    english_share: float = 0.12
    undetermined_share: float = 0.05
    us_politics_share: float = 0.4
    politics_mix: tuple = (0.5, 0.15, 0.2, 0.15)  # Trump, Republicans, Democrats, Biden
    url_share: float = 0.15
    # ordinary accounts (a baseline): set the intercept instead of calibrating b to mean_engagement
    engagement_intercept: float | None = None
    # coordinated cells and decoys (helpers.stats.coordination must find the cells and not the decoys)
    coordinated_groups: int = 150  # cells at scale 1 (scaled with `scale`); 0 for a campaign without coordination
    group_size: int = 12  # accounts per cell
    group_bursts: int = 12  # synchronised actions of each cell over its shared activity window
    group_turnout_share: float = 0.85  # chance a member takes part in one burst
    group_jitter_seconds: float = 20.0  # sd of each member's delay around the burst's time
    group_copy_share: float = 0.3  # bursts that post one text (co-tweet) instead of retweeting a member's tweet
    decoy_tweets: int = 20  # popular tweets at scale 1, each retweeted by many accounts at unrelated times
    decoy_retweeters: int = 150  # accounts retweeting each decoy (as many as retweet within DECOY_DAYS)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type is float and not np.isfinite(value):
                raise TractionError(f"scenario parameter {field.name}: {value} is not a finite number")
            if field.name.endswith(("_share", "_skip")) or field.name == "zero_inflation":
                if not 0 <= value <= 1:
                    raise TractionError(f"scenario parameter {field.name}: {value} is not a share in [0, 1]")
        for name in ("engagement_split", "amplified_split", "politics_mix"):
            split = np.asarray(getattr(self, name), float)
            if split.shape != (4,) or (split < 0).any() or not np.isclose(split.sum(), 1):
                raise TractionError(f"scenario parameter {name}: {getattr(self, name)} is not 4 shares summing to 1")
        for name in ("scale", "accounts", "tweets", "mean_engagement", "dispersion", "amplification",
                     "short_lifespan_days", "long_lifespan_days", "following_mean"):
            if getattr(self, name) <= 0:
                raise TractionError(f"scenario parameter {name}: {getattr(self, name)} must be positive")
        if self.engagement_intercept is not None and not (np.isfinite(self.engagement_intercept)
                                                          and self.zero_inflation < 1):
            raise TractionError("scenario parameter engagement_intercept: needs a finite number and "
                                "zero_inflation below 1")
        for name in ("coordinated_groups", "group_bursts", "decoy_tweets", "decoy_retweeters", "group_jitter_seconds"):
            if getattr(self, name) < 0:
                raise TractionError(f"scenario parameter {name}: {getattr(self, name)} must not be negative")
        if self.group_size < 2:
            raise TractionError(f"scenario parameter group_size: {self.group_size}; a cell needs at least 2 accounts")
        if self.english_share + self.undetermined_share > 1:
            raise TractionError("scenario parameters english_share + undetermined_share exceed 1")
        if self.reply_share + self.quote_share > 1:
            raise TractionError("scenario parameters reply_share + quote_share exceed 1")
        days = [_day(getattr(self, name), name) for name in
                ("established_from", "older_from", "recent_from", "first_day", "last_day")]
        if days[0] > days[1] or days[1] > days[2] or days[3] > days[4] or days[2] > days[4]:
            raise TractionError("scenario dates must satisfy established_from <= older_from <= recent_from "
                                "<= last_day and first_day <= last_day")
        if days[0] < _day("2010-11-05", "twitter epoch"):
            raise TractionError("scenario parameter established_from: accounts cannot predate 2010-11-05 "
                                "(the start of Twitter's snowflake ids)")

    def n_accounts(self) -> int:
        return max(1, round(self.accounts * self.scale))

    def n_tweets(self) -> int:
        return max(self.n_accounts(), round(self.tweets * self.scale))


def _day(iso: str, name: str) -> int:
    try:
        return int(np.datetime64(iso, "D").astype(np.int64))
    except ValueError:
        raise TractionError(f"scenario parameter {name}: {iso!r} is not a YYYY-MM-DD date") from None


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def draw_accounts(scenario: Scenario, rng: np.random.Generator) -> dict:
    """Account-level draws for the whole release (one number per account per field)."""
    sc, n = scenario, scenario.n_accounts()
    established = rng.random(n) < sc.established_share
    ordinary = np.where(rng.random(n) < sc.follower_zero_share, 0,
                        1 + np.floor(rng.lognormal(sc.follower_log_mean, sc.follower_log_sd, n)))
    followers = np.where(established, np.rint(rng.lognormal(sc.established_log_mean, sc.established_log_sd, n)),
                         ordinary)
    following = rng.geometric(1 / (1 + sc.following_mean), n) - 1
    recent = rng.random(n) < sc.recent_share
    first, last = _day(sc.first_day, "first_day"), _day(sc.last_day, "last_day")
    recent_from, older_from = _day(sc.recent_from, "recent_from"), _day(sc.older_from, "older_from")
    low = np.where(established, _day(sc.established_from, "established_from"), np.where(recent, recent_from, older_from))
    high = np.where(established, older_from, np.where(recent, last + 1, recent_from))
    created = low + np.floor(rng.random(n) * (high - low)).astype(np.int64)
    # Accounts made before the release period wake up on some day of it.
    wake = first + np.floor(rng.random(n) * (last - first + 1)).astype(np.int64)
    start = np.where(created >= first, created, wake)
    short = rng.random(n) < sc.short_lived_share
    lifespan = np.floor(rng.exponential(np.where(short, sc.short_lifespan_days, sc.long_lifespan_days)))
    end = np.minimum(start + lifespan.astype(np.int64), last)
    weights = (1 + end - start) * rng.lognormal(0, sc.activity_sd, n)
    tweets = 1 + rng.multinomial(sc.n_tweets() - n, weights / weights.sum())
    return {"followers": followers.astype(np.int64), "following": following.astype(np.int64),
            "created": created, "start": start, "end": end, "tweets": tweets.astype(np.int64)}


def engagement_base(scenario: Scenario, accounts: dict) -> float:
    """b such that the expected engagement per tweet row is ``mean_engagement`` (or as ``engagement_intercept`` says)."""
    sc = scenario
    if sc.engagement_intercept is not None:
        return float(np.exp(sc.engagement_intercept) / _intercept_factor(sc))
    per_original = ((1 - sc.zero_inflation) * (1 - sc.amplified_share + sc.amplified_share * sc.amplification)
                    * (1 - sc.retweet_share))
    weight = (accounts["tweets"] * (1.0 + accounts["followers"]) ** sc.elasticity).sum()
    if per_original * weight == 0:
        return 0.0
    return sc.mean_engagement * accounts["tweets"].sum() / (per_original * weight)


def draw_cells(scenario: Scenario, rng: np.random.Generator, accounts: dict) -> dict:
    """Coordinated cells: ``accounts["group"]`` (-1 outside any), members sharing their leader's window.

    A cell's members lie in one block of accounts (its bursts retweet a member's tweet, a row of the block),
    are drawn from accounts with at least ``group_bursts`` tweets, and were created together with their
    leader, so they are active over the same days.
    """
    sc, n = scenario, len(accounts["tweets"])
    group = np.full(n, -1, np.int64)
    wanted = round(sc.coordinated_groups * sc.scale)
    eligible = rng.permutation(np.flatnonzero(accounts["tweets"] >= max(sc.group_bursts, 2)))
    pools = {}
    for account in eligible.tolist():
        pools.setdefault(account // BLOCK_ACCOUNTS, []).append(account)
    made = 0
    for leader in eligible.tolist():
        pool = pools[leader // BLOCK_ACCOUNTS]
        if made == wanted:
            break
        if group[leader] >= 0 or len(pool) < sc.group_size:
            continue
        pool.remove(leader)
        members = [leader] + pool[:sc.group_size - 1]
        del pool[:sc.group_size - 1]
        group[members] = made
        for key in ("created", "start", "end"):
            accounts[key][members] = accounts[key][leader]
        made += 1
    accounts["group"] = group
    return accounts


def draw_block(scenario: Scenario, rng: np.random.Generator, accounts: dict, base: float) -> dict:
    """Tweet-level draws for one block of accounts (arrays indexed by row)."""
    sc = scenario
    owner = np.repeat(np.arange(len(accounts["tweets"])), accounts["tweets"])
    n = len(owner)
    start, end = accounts["start"][owner], accounts["end"][owner]
    day = start + np.floor(rng.random(n) * (end - start + 1)).astype(np.int64)
    redraw = (((day + 3) % 7) >= 5) & (rng.random(n) < sc.weekend_skip)  # 1970-01-01 was a Thursday
    day = np.where(redraw, start + np.floor(rng.random(n) * (end - start + 1)).astype(np.int64), day)
    working = rng.random(n) < sc.working_hours_share
    beijing_minute = np.where(working, rng.integers(9 * 60, 18 * 60, n), rng.integers(0, 24 * 60, n))
    minute = np.clip(day * 1440 + beijing_minute - 8 * 60, start * 1440, end * 1440 + 1439)
    burst, seed_row, copy_burst = _bursts(sc, rng, accounts, owner, minute)
    order = np.lexsort((minute, owner))  # each account's tweets in time order
    minute, burst, seed_row = minute[order], burst[order], seed_row[order]
    seed_row = np.where(seed_row >= 0, np.argsort(order)[np.maximum(seed_row, 0)], -1)  # to the sorted rows
    seeds = np.zeros(n, bool)
    seeds[seed_row[seed_row >= 0]] = True

    retweet = rng.random(n) < sc.retweet_share
    kind_draw = rng.random(n)
    reply = ~retweet & (kind_draw < sc.reply_share)
    quote = ~retweet & ~reply & (kind_draw < sc.reply_share + sc.quote_share)
    member = (burst >= 0) & ~seeds
    copying = member & copy_burst[np.maximum(burst, 0)] if len(copy_burst) else np.zeros(n, bool)
    retweet = np.where(burst >= 0, member & ~copying, retweet)  # seeds and copies are plain originals
    reply &= burst < 0
    quote &= burst < 0
    target = _network_targets(rng, minute, owner, retweet | reply | quote, retweet, sc.in_network_share)
    target = np.where(member & ~copying, seed_row, target)
    copy = np.where(copying, seed_row, -1)
    decoy = _decoys(sc, rng, minute, owner, retweet, reply | quote | (burst >= 0), target)
    target = np.where(decoy >= 0, decoy, target)

    original = ~retweet
    followers = accounts["followers"][owner]
    amplified = original & (rng.random(n) < sc.amplified_share)
    mu = base * (1.0 + followers) ** sc.elasticity * np.where(amplified, sc.amplification, 1.0)
    size = 1.0 / sc.dispersion
    total = rng.negative_binomial(size, size / (size + mu))
    total = np.where(original & (rng.random(n) >= sc.zero_inflation), total, 0)
    counts = np.zeros((n, 4), np.int64)  # likes, retweets, replies, quotes
    for flag, split in ((amplified, sc.amplified_split), (original & ~amplified, sc.engagement_split)):
        counts[flag] = rng.multinomial(total[flag], np.asarray(split) / sum(split))
    return {"owner": owner, "minute": minute, "retweet": retweet, "reply": reply, "quote": quote,
            "target": target, "amplified": amplified, "counts": counts, "copy": copy, "burst": burst,
            "decoy_target": decoy}


def _bursts(sc, rng, accounts, owner, minute):
    """Move rows of each cell's members to the cell's bursts (in place on ``minute``).

    Returns per row the burst it belongs to (-1 none) and its seed row (the member's tweet that the others
    retweet or copy; -1 for the seed itself and for other rows), and per burst whether it copies the text.
    A burst falls on a working minute (Beijing 9-18) of the cell's window; its members act
    ``BURST_DELAY_MINUTES`` after the seed, each with a normal jitter of ``group_jitter_seconds``.
    """
    n = len(owner)
    burst, seed_row = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    groups = np.unique(accounts["group"][accounts["group"] >= 0])
    copy_burst = []
    first_row = np.concatenate([[0], np.cumsum(accounts["tweets"])])
    for g in groups.tolist():
        members = np.flatnonzero(accounts["group"] == g)
        unused = {int(m): list(rng.permutation(np.arange(first_row[m], first_row[m + 1]))) for m in members}
        start, end = int(accounts["start"][members[0]]), int(accounts["end"][members[0]])
        for _ in range(sc.group_bursts):
            when = (start + int(rng.integers(0, end - start + 1))) * 1440 + int(rng.integers(9 * 60, 18 * 60)) - 8 * 60
            when = min(max(when, start * 1440), end * 1440 + 1439 - BURST_DELAY_MINUTES[1] - 2)
            turnout = [m for m in rng.permutation(members).tolist()
                       if rng.random() < sc.group_turnout_share and unused[m]]
            if len(turnout) < 2:
                continue
            index = len(copy_burst)
            copy_burst.append(bool(rng.random() < sc.group_copy_share))
            delay = int(rng.integers(BURST_DELAY_MINUTES[0], BURST_DELAY_MINUTES[1] + 1)) * 60
            seed = unused[turnout[0]].pop()
            minute[seed], burst[seed] = when, index
            for m in turnout[1:]:
                row = unused[m].pop()
                seconds = when * 60 + delay + rng.normal(0, sc.group_jitter_seconds)
                minute[row] = max(int(np.floor(seconds / 60)), when)
                burst[row], seed_row[row] = index, seed
    return burst, seed_row, np.asarray(copy_burst, bool)


def _decoys(sc, rng, minute, owner, retweet, busy, target):
    """Row of the decoy each retweet row now retweets (-1 none).

    A decoy is a popular original of the block; its retweets are up to ``decoy_retweeters`` retweet rows of
    other accounts (one each) in the ``DECOY_DAYS`` after it, left at the times they were drawn: many accounts
    share it, at unrelated times.
    """
    n = len(owner)
    decoy = np.full(n, -1, np.int64)
    wanted = rng.poisson(sc.decoy_tweets * sc.scale * (owner.max() + 1 if n else 0) / sc.n_accounts())
    candidates = np.flatnonzero(~retweet & ~busy)
    free = retweet & ~busy
    for row in rng.choice(candidates, size=min(wanted, len(candidates)), replace=False).tolist():
        later = np.flatnonzero(free & (owner != owner[row]) & (minute > minute[row])
                               & (minute <= minute[row] + DECOY_DAYS * 1440))
        later = later[np.unique(owner[later], return_index=True)[1]]  # one row per account
        chosen = rng.permutation(later)[:sc.decoy_retweeters]
        decoy[chosen], free[chosen] = row, False
    return decoy


def _network_targets(rng, minute, owner, targeting, retweet, in_network_share):
    """Row of the network tweet each retweet/reply/quote points at (-1: an outside tweet).

    Targets are originals by other accounts of the same block, posted strictly
    earlier, mostly recent ones; a row with no such original points outside.
    """
    n = len(minute)
    originals = np.flatnonzero(~retweet)
    originals = originals[np.argsort(minute[originals], kind="stable")]
    earlier = np.searchsorted(minute[originals], minute, side="left")
    pick = earlier - 1 - (rng.geometric(1 / TARGET_LAG_MEAN, n) - 1)
    pick = np.where(pick < 0, earlier - 1, pick)
    target = np.full(n, -1)
    wanted = targeting & (rng.random(n) < in_network_share)
    for _ in range(8):  # step back past the account's own tweets
        valid = wanted & (target < 0) & (pick >= 0)
        candidate = originals[np.maximum(pick, 0)] if len(originals) else np.zeros(n, np.int64)
        found = valid & (owner[candidate] != owner)
        target[found] = candidate[found]
        pick = np.where(valid & ~found, pick - 1, -1)
    return target


def write_campaign(out_dir, campaign: str, scenario: Scenario = Scenario(), seed: int = defaults.DEFAULT_SEED) -> dict:
    """Write the users and tweets files and truth.json into out_dir; return the truth."""
    out_dir = Path(out_dir)
    if not campaign or "/" in campaign or campaign.startswith("."):
        raise TractionError(f"campaign name {campaign!r}: use a plain file-name stem such as china_052020")
    out_dir.mkdir(parents=True, exist_ok=True)
    accounts = draw_cells(scenario, _rng(seed, 3), draw_accounts(scenario, _rng(seed, 0)))
    base = engagement_base(scenario, accounts)
    n_accounts = len(accounts["tweets"])
    row_offsets = np.concatenate([[0], np.cumsum(accounts["tweets"])])
    writer = simulate_format.ArchiveWriter(out_dir, campaign, scenario, seed)
    with writer:
        for block, first in enumerate(range(0, n_accounts, BLOCK_ACCOUNTS)):
            last = min(first + BLOCK_ACCOUNTS, n_accounts)
            block_accounts = {key: values[first:last] for key, values in accounts.items()}
            rng = _rng(seed, 1, block)
            rows = draw_block(scenario, rng, block_accounts, base)
            writer.write_block(rng, block_accounts, rows, first_account=first, first_row=int(row_offsets[first]))
    truth = {
        "campaign": campaign,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "scenario": dataclasses.asdict(scenario),
        "constants": {"block_accounts": BLOCK_ACCOUNTS, "target_lag_mean": TARGET_LAG_MEAN,
                      **simulate_format.constants()},
        "engagement_base": base,
        "engagement_intercept": float(np.log(base * _intercept_factor(scenario)))
        if base > 0 and scenario.zero_inflation < 1 else None,
        "files": {"users": writer.users_path.name, "tweets": writer.tweets_path.name},
        "totals": writer.totals(scenario),
        "coordination": writer.coordination(),
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth


# --- ordinary accounts: a baseline whose engagement ratio to a campaign is known (helpers.stats.baseline) ---
ORDINARY_ACCOUNTS = dict(accounts=20_000, tweets=300_000, follower_zero_share=0.1, follower_log_mean=4.0,
                         follower_log_sd=1.5, established_share=0.05, established_log_mean=8.0, recent_share=0.1,
                         short_lived_share=0.2, in_network_share=0.0, amplified_share=0.0)


def _intercept_factor(sc: Scenario) -> float:
    return (1 - sc.zero_inflation) * (1 - sc.amplified_share + sc.amplified_share * sc.amplification)


def ordinary_accounts(campaign_truth: dict, ratio: float, **overrides) -> Scenario:
    """Ordinary accounts to compare a simulated campaign with: more and older followers, no network, no amplification.

    At the same follower count the campaign's expected engagement per original tweet is ``ratio`` times theirs:
    their ``engagement_intercept`` is the campaign's (from its truth.json) minus log(ratio), with the same
    elasticity and dispersion.
    """
    if not ratio > 0:
        raise TractionError(f"ordinary_accounts: ratio {ratio} must be positive")
    campaign = campaign_truth["scenario"]
    return Scenario(**{**ORDINARY_ACCOUNTS, "elasticity": campaign["elasticity"], "dispersion": campaign["dispersion"],
                       "engagement_intercept": campaign_truth["engagement_intercept"] - float(np.log(ratio)),
                       **overrides})


SIZES = {"full": 1.0, "sample": defaults.SAMPLE_SCALE}


def ensure_default(size: str = "sample") -> tuple[Path, str]:
    """(data_dir, campaign) of the embedded default data, generated on first use.

    Written into a temporary folder and renamed into place, so a reader never
    sees half a campaign and two processes racing both end up with one copy.
    Regenerated when the generator or the default scenario changed.
    """
    if size not in SIZES:
        raise TractionError(f"default data size {size!r}: choose one of {', '.join(SIZES)}")
    campaign = defaults.DEFAULT_CAMPAIGN
    target = defaults.data_root() / "simulated" / size
    scenario = Scenario(scale=SIZES[size])
    if _is_current(target, scenario):
        return target, campaign
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{size}-", dir=target.parent))
    try:
        write_campaign(staging, campaign, scenario, seed=defaults.DEFAULT_SEED)
        staging.chmod(0o755)  # mkdtemp makes it private
        if target.exists() and not _is_current(target, scenario):
            stale = Path(tempfile.mkdtemp(prefix=f".{size}-stale-", dir=target.parent))
            try:
                os.rename(target, stale / "old")
            except FileNotFoundError:
                pass  # another process moved it first
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(staging, target)
        except OSError:
            if not _is_current(target, scenario):  # lost the race to a stale or broken copy
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, campaign


def _is_current(folder: Path, scenario: Scenario) -> bool:
    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (truth.get("generator_version") == GENERATOR_VERSION and truth.get("seed") == defaults.DEFAULT_SEED
            and truth.get("scenario") == json.loads(json.dumps(dataclasses.asdict(scenario))))


def scenario_from_args(args) -> Scenario:
    """A Scenario from parsed CLI arguments: every argument named like a field sets it."""
    values = {}
    for field in dataclasses.fields(Scenario):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = tuple(value) if isinstance(value, list) else value
    return Scenario(**values)


def cli_simulate(args) -> int:
    scenario = scenario_from_args(args)
    truth = write_campaign(args.out, args.campaign, scenario, seed=args.seed)
    totals = truth["totals"]
    print(f"wrote {totals['accounts']:,} accounts and {totals['tweets']:,} tweets of {args.campaign} to {args.out}"
          f" (truth.json: elasticity {scenario.elasticity}, mean engagement per tweet "
          f"{totals['mean_engagement_per_tweet']:.3f})")
    return 0
