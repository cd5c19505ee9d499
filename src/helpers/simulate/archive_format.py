"""Turns the simulator's numbers into the archive's text layout, one block at a time.

``simulate`` draws accounts, times, tweet kinds and engagement; this module
draws the content (language, topic, text, hashtags, links), formats every
column as Twitter's archive does (all fields quoted, ``True``/``False``,
``[a, b]`` lists, ``absent`` coordinates, ``RT @name: ...``, UTC
``YYYY-MM-DD HH:MM``, base64 ids under 5,000 followers) and streams the blocks
to CSV with pyarrow. It also keeps the realised totals for ``truth.json``.
"""

import base64
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from helpers.schema import TWEET_COLUMNS, USER_COLUMNS

HASHED_BELOW = 5000  # the archive anonymises accounts under 5,000 followers
TWITTER_EPOCH_MS = 1288834974657
LOW_BITS = 22
MS_PER_DAY = 86_400_000

# The release's top hashtags by topic, weighted by their published counts over
# all its tweets (hashtag_counts/china_052020_hashtags.csv, rlzhang1310/BRI_hashtag).
TOPIC_HASHTAGS = {
    "guo": {"郭文贵": 47044, "班农": 8542, "milesguo": 4476},
    "hong_kong": {"香港": 51747, "暴徒": 8065, "守護香港": 7803, "守护香港": 4460, "香港警察": 4239,
                  "游行": 4199, "黑警": 3984, "hongkong": 2588},
    "covid": {"肺炎": 7175, "病毒": 5560, "covid19": 4057, "疫情": 3388, "武汉加油": 2058},
}
TOPICS = list(TOPIC_HASHTAGS)
# Topic mix by period (assumption): Guo Wengui first, Hong Kong from the June 2019
# protests, COVID-19 from late January 2020 (SIO 2020).
TOPIC_PERIODS = [("2019-06-01", (0.7, 0.3, 0.0)), ("2020-01-20", (0.35, 0.65, 0.0)), (None, (0.25, 0.25, 0.5))]
HASHTAG_COUNT_SHARES = (0.4, 0.4, 0.2)  # tweets with 0, 1, 2 hashtags (assumption)

ZH_TEMPLATES = {
    "guo": ["郭文贵是一个骗子，不要再相信他的谎言。", "郭文贵和班农的骗局终将败露。", "逃犯郭文贵到处造谣，欺骗善良的人。",
            "郭文贵所谓的爆料全是假的。", "看清郭文贵的真面目。"],
    "hong_kong": ["香港是中国的香港，任何外国势力都不能干涉。", "暴徒破坏香港，市民受够了。", "支持香港警察依法执法，止暴制乱。",
                  "香港需要和平，不需要暴力。", "守护香港，反对暴力。"],
    "covid": ["中国抗疫取得了巨大成绩，值得世界学习。", "病毒是全人类的敌人，不要政治化。", "武汉加油，中国加油！",
              "疫情面前，中国负起了大国责任。", "团结合作才能战胜肺炎疫情。"],
}
# English texts name no US politician or party, so mention counts come only from POLITICS_TEMPLATES.
EN_TEMPLATES = {
    "guo": ["Guo Wengui is a fugitive who lies to his followers.", "Do not trust Miles Guo and his fake revelations.",
            "Guo Wengui's media empire is built on lies."],
    "hong_kong": ["Violence is destroying Hong Kong. Stop the rioters.", "Hong Kong police are protecting the city.",
                  "Hong Kong needs peace, not chaos."],
    "covid": ["China bought the world time to fight the virus.", "The virus is a common enemy of humanity.",
              "Stop politicizing the pandemic. Work together."],
}
POLITICS_TERMS = ["Trump", "Republicans", "Democrats", "Biden"]
POLITICS_TEMPLATES = {
    "Trump": ["Trump is blaming China to hide his own failures on the virus.", "Trump ignored the warnings for weeks.",
              "Why does Trump call it a foreign virus? Science says otherwise."],
    "Republicans": ["Republicans are attacking China instead of saving lives.", "The Republicans want a new cold war.",
                    "Republicans in Congress are spreading rumors about the virus."],
    "Democrats": ["Democrats also failed to stop the epidemic in their states.",
                  "Even Democrats admit the response was too slow.", "The Democrats play politics with the pandemic."],
    "Biden": ["Biden says the US must work with China.", "Biden and his party have no plan for the virus.",
              "Will Biden change the policy toward China?"],
}
LANGUAGES = ["zh", "en", "und"]
# Account languages of the August 2019 PRC users file: zh-cn 78%, en 14%, the rest mixed.
ACCOUNT_LANGUAGES = (["zh-cn", "en", "zh-tw"], [0.8, 0.14, 0.06])
CLIENTS = (["Twitter Web App", "Twitter for Android", "Twitter for iPhone"], [0.5, 0.35, 0.15])
WEB_APP_SINCE = "2019-07-15"  # before, the web client was called "Twitter Web Client"
EXTERNAL_ACCOUNTS = 500
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")
HANDLE_WORDS = ["news", "daily", "voice", "truth", "world", "asia", "china", "today", "view", "post", "wind",
                "river", "star", "moon", "light", "ocean"]
ALPHANUMERIC = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))


def _table(templates: dict) -> tuple[list[str], dict]:
    """All texts in one list, and where each topic's (or term's) texts start and how many there are."""
    texts, where = [""], {}
    for key, values in templates.items():
        where[key] = (len(texts), len(values))
        texts.extend(values)
    return texts, where


TEXTS, _ZH = _table(ZH_TEMPLATES)
_EN_TEXTS, _EN = _table({f"en_{k}": v for k, v in EN_TEMPLATES.items()} | POLITICS_TEMPLATES)
_EN = {key: (start + len(TEXTS) - 1, count) for key, (start, count) in _EN.items()}
TEXTS += _EN_TEXTS[1:]
TAGS = [tag for topic in TOPICS for tag in TOPIC_HASHTAGS[topic]]


def _tag_tables():
    """Suffix text and list cell for every hashtag combination: none, one tag, two distinct tags."""
    suffix, cell = [""], ["[]"]
    for tag in TAGS:
        suffix.append(f" #{tag}")
        cell.append(f"[{tag}]")
    for first in TAGS:
        for second in TAGS:
            suffix.append(f" #{first} #{second}")
            cell.append(f"[{first}, {second}]")
    return pa.array(suffix), pa.array(cell)


TAG_SUFFIX, TAG_CELL = _tag_tables()


def constants() -> dict:
    """The fixed content parameters, for truth.json."""
    return {"topic_hashtags": TOPIC_HASHTAGS, "topic_periods": TOPIC_PERIODS,
            "hashtag_count_shares": HASHTAG_COUNT_SHARES, "account_languages": dict(zip(*ACCOUNT_LANGUAGES)),
            "clients": dict(zip(*CLIENTS)), "external_accounts": EXTERNAL_ACCOUNTS}


def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def _random_strings(rng, n: int, length: int) -> np.ndarray:
    return ALPHANUMERIC[rng.integers(0, len(ALPHANUMERIC), (n, length))].view(f"<U{length}").ravel()


def _snowflake(ms: np.ndarray, low: np.ndarray) -> np.ndarray:
    return ((ms - TWITTER_EPOCH_MS) << LOW_BITS) | (low & ((1 << LOW_BITS) - 1))


def _strings(values) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _bools(values: np.ndarray) -> pa.Array:
    return pc.take(pa.array(["False", "True"]), values.astype(np.int8))


def draw_content(scenario, rng, minute: np.ndarray) -> dict:
    """Language, text template, hashtags, link and US-politics term of each row (drawn as if original)."""
    n = len(minute)
    day = minute // 1440
    topic_p = np.empty((n, 3))
    for bound, shares in reversed(TOPIC_PERIODS):
        topic_p[day < (_day(bound) if bound else np.iinfo(np.int64).max)] = shares
    topic = (rng.random(n)[:, None] > np.cumsum(topic_p, axis=1)).sum(axis=1).clip(0, 2)
    language = np.digitize(rng.random(n), [1 - scenario.english_share - scenario.undetermined_share,
                                           1 - scenario.undetermined_share])  # 0 zh, 1 en, 2 und
    politics = (language == 1) & (rng.random(n) < scenario.us_politics_share)
    term = np.where(politics, rng.choice(4, n, p=np.asarray(scenario.politics_mix) / sum(scenario.politics_mix)), -1)
    pick = rng.random(n)
    template = np.zeros(n, np.int64)
    for index, name in enumerate(TOPICS):
        for lang, where in ((0, _ZH[name]), (1, _EN[f"en_{name}"])):
            rows = (topic == index) & (language == lang) & ~politics
            template[rows] = where[0] + (pick[rows] * where[1]).astype(np.int64)
    for index, name in enumerate(POLITICS_TERMS):
        rows = term == index
        template[rows] = _EN[name][0] + (pick[rows] * _EN[name][1]).astype(np.int64)
    n_tags = rng.choice(3, n, p=HASHTAG_COUNT_SHARES)
    n_tags[language == 2] = np.maximum(n_tags[language == 2], 1)  # 'und': a text of hashtags only
    tags = np.zeros((n, 2), np.int64)
    offset = 0
    for index, name in enumerate(TOPICS):
        weights = np.array(list(TOPIC_HASHTAGS[name].values()), float)
        rows = topic == index
        tags[rows] = offset + rng.choice(len(weights), (rows.sum(), 2), p=weights / weights.sum())
        offset += len(weights)
    n_tags[(n_tags == 2) & (tags[:, 0] == tags[:, 1])] = 1
    combo = np.select([n_tags == 0, n_tags == 1], [0, 1 + tags[:, 0]], 1 + len(TAGS) + tags[:, 0] * len(TAGS) + tags[:, 1])
    return {"language": language, "template": template, "term": term, "combo": combo, "n_tags": n_tags,
            "tags": tags, "url": rng.random(n) < scenario.url_share, "link": _random_strings(rng, n, 10),
            "video": _random_strings(rng, n, 11)}


class ArchiveWriter:
    """Streams blocks of simulated accounts and tweets to the archive's two CSV files."""

    def __init__(self, out_dir: Path, campaign: str, scenario, seed: int):
        self.scenario = scenario
        self.users_path = out_dir / f"{campaign}_users_csv_hashed.csv"
        self.tweets_path = out_dir / f"{campaign}_tweets_csv_hashed.csv"
        self._external = _external_accounts(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,))))
        self._counts = Counter()
        self._languages, self._terms, self._hashtags = Counter(), Counter(), Counter()
        self._lifespans, self._times = [], []
        self._groups, self._decoys, self._seeds = {}, [], {}

    def __enter__(self):
        options = pa_csv.WriteOptions(quoting_style="all_valid")
        user_schema = pa.schema([(name, pa.string()) for name in USER_COLUMNS])
        tweet_schema = pa.schema([(name, pa.string()) for name in TWEET_COLUMNS])
        self._users = pa_csv.CSVWriter(str(self.users_path), user_schema, write_options=options)
        self._tweets = pa_csv.CSVWriter(str(self.tweets_path), tweet_schema, write_options=options)
        return self

    def __exit__(self, *exc):
        self._users.close()
        self._tweets.close()

    def write_block(self, rng, accounts: dict, rows: dict, *, first_account: int, first_row: int):
        users = _user_columns(rng, accounts, first_account)
        self._users.write_table(pa.table(users, names=USER_COLUMNS))
        tweets, content, src = self._tweet_columns(rng, users, rows, first_row)
        self._tweets.write_table(pa.table([tweets[name] for name in TWEET_COLUMNS], names=TWEET_COLUMNS))
        self._tally(accounts, rows, content, src)
        self._record_coordination(accounts, rows, users[0], tweets["tweetid"])

    def _record_coordination(self, accounts: dict, rows: dict, userid, tweetid):
        """The cells' members and the decoys, by the ids written, for truth.json."""
        group = accounts.get("group", np.full(len(accounts["tweets"]), -1))
        for account in np.flatnonzero(group >= 0).tolist():
            self._groups.setdefault(int(group[account]), []).append(userid[account].as_py())
        # Each burst's seed: the member's plain original that the others retweet, or post again as their own.
        burst, copy = rows.get("burst"), rows.get("copy")
        if burst is not None:
            seeds = np.flatnonzero((burst >= 0) & (copy < 0) & ~rows["retweet"])
            copied = set(copy[copy >= 0].tolist())
            for row in seeds.tolist():
                planted = self._seeds.setdefault(int(group[rows["owner"][row]]), {"seeds": [], "copied": []})
                planted["seeds"].append(tweetid[row].as_py())
                if row in copied:
                    planted["copied"].append(tweetid[row].as_py())
        decoys, retweets = np.unique(rows["decoy_target"][rows["decoy_target"] >= 0], return_counts=True)
        self._decoys += [{"tweetid": tweetid[int(row)].as_py(), "retweets": int(k)} for row, k in zip(decoys, retweets)]

    def coordination(self) -> dict:
        groups = [{"group": g, "members": sorted(self._groups[g]),
                   **{key: sorted(ids) for key, ids in self._seeds.get(g, {"seeds": [], "copied": []}).items()}}
                  for g in sorted(self._groups)]
        return {"groups": groups, "members": sorted(m for g in groups for m in g["members"]),
                "decoys": self._decoys}

    def _tweet_columns(self, rng, users: list, rows: dict, first_row: int):
        sc, n = self.scenario, len(rows["owner"])
        owner, minute, target = rows["owner"], rows["minute"], rows["target"]
        row_id = first_row + np.arange(n, dtype=np.int64)
        tweetid = _snowflake(minute * 60_000 + (row_id >> LOW_BITS), row_id)  # unique: minute, high and low bits
        content = draw_content(sc, rng, minute)
        targeting = rows["retweet"] | rows["reply"] | rows["quote"]
        network = target >= 0
        target_row = np.where(network, target, 0)
        ext = rng.choice(EXTERNAL_ACCOUNTS, n, p=self._external["weights"])
        ext_minute = np.maximum(minute - rng.geometric(1 / 600, n), TWITTER_EPOCH_MS // 60_000 + 1)
        ext_tweet = _snowflake(ext_minute * 60_000 + rng.integers(30_000, 60_000, n), rng.integers(0, 1 << LOW_BITS, n))
        userid, screen = users[0], users[2]
        t_user = pc.if_else(network, pc.take(userid, owner[target_row]), pc.take(self._external["userid"], ext))
        t_screen = pc.if_else(network, pc.take(screen, owner[target_row]), pc.take(self._external["screen"], ext))
        t_tweet = pc.if_else(network, _strings(tweetid[target_row]), _strings(ext_tweet))
        tweetid_s = _strings(tweetid)

        body = pc.utf8_trim_whitespace(pc.binary_join_element_wise(
            pc.take(pa.array(TEXTS), content["template"]), pc.take(TAG_SUFFIX, content["combo"]),
            pc.if_else(content["url"], pc.binary_join_element_wise(" https://t.co/", pa.array(content["link"]), ""), ""),
            ""))
        own_text = pc.if_else(rows["reply"], pc.binary_join_element_wise("@", t_screen, " ", body, ""), body)
        own_text = pc.if_else(rows["quote"], pc.binary_join_element_wise(
            own_text, " https://twitter.com/", t_screen, "/status/", t_tweet, ""), own_text)
        # An in-network retweet repeats its target's text, language, hashtags and link; so does a cell
        # member's copy of its seed tweet (a plain original, so its own text is its body).
        copy = rows["copy"]
        own_text = pc.if_else(copy >= 0, pc.take(own_text, np.where(copy >= 0, copy, np.arange(n))), own_text)
        shown = np.where(copy >= 0, copy, np.arange(n))  # the row whose content a row shows
        src = np.where(copy >= 0, copy, np.where(rows["retweet"] & network, shown[target_row], np.arange(n)))
        text = pc.if_else(rows["retweet"], pc.binary_join_element_wise(
            "RT @", t_screen, ": ", pc.take(own_text, src), ""), own_text)
        urls = pc.if_else(content["url"], pc.binary_join_element_wise(
            "[https://youtu.be/", pa.array(content["video"]), "]", ""), "[]")
        mentions = pc.if_else(targeting & ~rows["quote"], pc.binary_join_element_wise("[", t_user, "]", ""), "[]")
        empty = pa.repeat("", n)
        client = rng.choice(3, n, p=CLIENTS[1])
        client[(client == 0) & (minute // 1440 < _day(WEB_APP_SINCE))] = 3
        columns = {name: pc.take(users[index], owner) for index, name in enumerate(USER_COLUMNS)}
        columns.update({
            "tweetid": tweetid_s,
            "tweet_language": pc.take(pa.array(LANGUAGES), content["language"][src]),
            "tweet_text": text,
            # Casting is much faster than pc.strftime: "YYYY-MM-DD HH:MM:SS", cut to minutes.
            "tweet_time": pc.utf8_slice_codeunits(pc.cast(pa.array(minute * 60, pa.timestamp("s")), pa.string()), 0, 16),
            "tweet_client_name": pc.take(pa.array(CLIENTS[0] + ["Twitter Web Client"]), client),
            "in_reply_to_userid": pc.if_else(rows["reply"], t_user, empty),
            "in_reply_to_tweetid": pc.if_else(rows["reply"], t_tweet, empty),
            "quoted_tweet_tweetid": pc.if_else(rows["quote"], t_tweet, empty),
            "is_retweet": _bools(rows["retweet"]),
            "retweet_userid": pc.if_else(rows["retweet"], t_user, empty),
            "retweet_tweetid": pc.if_else(rows["retweet"], t_tweet, empty),
            "latitude": pa.repeat("absent", n), "longitude": pa.repeat("absent", n),
            "quote_count": _strings(rows["counts"][:, 3]), "reply_count": _strings(rows["counts"][:, 2]),
            "like_count": _strings(rows["counts"][:, 0]), "retweet_count": _strings(rows["counts"][:, 1]),
            "hashtags": pc.take(TAG_CELL, content["combo"][src]),
            "urls": pc.take(urls, src),
            "user_mentions": mentions,
            "poll_choices": empty,
        })
        return columns, content, src

    def _tally(self, accounts: dict, rows: dict, content: dict, src: np.ndarray):
        c, counts = self._counts, rows["counts"]
        original, retweet, network = ~rows["retweet"], rows["retweet"], rows["target"] >= 0
        followers = accounts["followers"]
        c.update({
            "accounts": len(followers), "tweets": len(original), "original_tweets": int(original.sum()),
            "retweet_rows": int(retweet.sum()), "in_network_retweets": int((retweet & network).sum()),
            "replies": int(rows["reply"].sum()), "in_network_replies": int((rows["reply"] & network).sum()),
            "quotes": int(rows["quote"].sum()), "in_network_quotes": int((rows["quote"] & network).sum()),
            "amplified_originals": int(rows["amplified"].sum()),
            "like_count_sum": int(counts[:, 0].sum()), "retweet_count_sum": int(counts[:, 1].sum()),
            "reply_count_sum": int(counts[:, 2].sum()), "quote_count_sum": int(counts[:, 3].sum()),
            "originals_with_zero_engagement": int((original & (counts.sum(axis=1) == 0)).sum()),
            "accounts_zero_followers": int((followers == 0).sum()),
            "accounts_under_10_followers": int((followers < 10).sum()),
            "accounts_hashed": int((followers < HASHED_BELOW).sum()),
            "accounts_created_since_recent_from": int((accounts["created"] >= _day(self.scenario.recent_from)).sum()),
            "rows_with_user_mentions": int((retweet | rows["reply"]).sum()),
            "coordinated_accounts": int((accounts.get("group", np.full(len(followers), -1)) >= 0).sum()),
            "burst_rows": int((rows["burst"] >= 0).sum()), "copied_tweets": int((rows["copy"] >= 0).sum()),
            "decoy_retweets": int((rows["decoy_target"] >= 0).sum()),
        })
        language = content["language"][src]
        self._languages.update({LANGUAGES[k]: int(v) for k, v in zip(*np.unique(language, return_counts=True))})
        term = content["term"][src]
        self._terms.update({POLITICS_TERMS[k]: int((term == k).sum()) for k in range(4)})
        n_tags, tags = content["n_tags"][src], content["tags"][src]
        used = np.concatenate([tags[n_tags >= 1, 0], tags[n_tags == 2, 1]])
        self._hashtags.update({TAGS[k]: int(v) for k, v in zip(*np.unique(used, return_counts=True))})
        last_minute = rows["minute"][np.cumsum(accounts["tweets"]) - 1]
        self._lifespans.append(last_minute // 1440 - accounts["created"])
        self._times += [int(rows["minute"].min()), int(rows["minute"].max())]

    def totals(self, scenario) -> dict:
        c = dict(self._counts)
        engagement = c["like_count_sum"] + c["retweet_count_sum"] + c["reply_count_sum"] + c["quote_count_sum"]
        lifespans = np.concatenate(self._lifespans)
        minute = np.array([min(self._times), max(self._times)]) * 60
        first, last = np.datetime_as_string(minute.astype("datetime64[s]"), unit="m")
        c.update({
            "engagement_sum": engagement,
            "mean_engagement_per_original": engagement / c["original_tweets"] if c["original_tweets"] else None,
            "mean_engagement_per_tweet": engagement / c["tweets"],
            "share_zero_followers": c["accounts_zero_followers"] / c["accounts"],
            "share_under_10_followers": c["accounts_under_10_followers"] / c["accounts"],
            "share_created_since_recent_from": c["accounts_created_since_recent_from"] / c["accounts"],
            "lifespan_days_median": float(np.median(lifespans)),
            "share_lifespan_under_30_days": float((lifespans < 30).mean()),
            "first_tweet_time": first.replace("T", " "), "last_tweet_time": last.replace("T", " "),
            "language_counts": {k: int(v) for k, v in sorted(self._languages.items())},
            "politics_mentions": {term: self._terms[term] for term in POLITICS_TERMS},
            "hashtag_counts": dict(sorted(self._hashtags.items(), key=lambda item: (-item[1], item[0]))),
        })
        return c


def _user_columns(rng, accounts: dict, first_account: int) -> list:
    """The users file's columns (strings) for a block of accounts."""
    n = len(accounts["followers"])
    hashed = accounts["followers"] < HASHED_BELOW
    digest = rng.bytes(32 * n)
    hashed_ids = [base64.b64encode(digest[32 * i: 32 * i + 32]).decode() for i in range(n)]
    index = first_account + np.arange(n, dtype=np.int64)
    numeric = _snowflake(accounts["created"] * MS_PER_DAY + (index >> LOW_BITS) + 3_600_000, index).astype(str)
    names = _chinese_names(rng, n)
    handles = np.char.add(_random_strings(rng, n, 8), rng.integers(10, 100, n).astype(str))
    userid = np.where(hashed, hashed_ids, numeric)
    display = np.where(hashed, userid, names)
    screen = np.where(hashed, userid, np.char.lower(handles))
    language = rng.choice(ACCOUNT_LANGUAGES[0], n, p=ACCOUNT_LANGUAGES[1])
    created = pc.cast(pa.array(accounts["created"].astype(np.int32), pa.date32()), pa.string())
    empty = pa.repeat("", n)
    return [pa.array(userid, pa.string()), pa.array(display, pa.string()), pa.array(screen, pa.string()),
            empty, empty, empty, _strings(accounts["followers"]), _strings(accounts["following"]),
            created, pa.array(language, pa.string())]


def _chinese_names(rng, n: int) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    given = np.array(GIVEN)[rng.integers(0, len(GIVEN), (n, 2))]
    return np.char.add(np.char.add(surname, given[:, 0]), np.where(rng.random(n) < 0.5, given[:, 1], ""))


def _external_accounts(rng) -> dict:
    """Outside accounts the network retweets, replies to and quotes; popularity ~ 1/rank."""
    created = rng.integers(_day("2011-01-01"), _day("2019-01-01"), EXTERNAL_ACCOUNTS)
    ms = created * MS_PER_DAY + rng.integers(MS_PER_DAY // 2, MS_PER_DAY, EXTERNAL_ACCOUNTS)
    userid = _snowflake(ms, rng.integers(0, 1 << LOW_BITS, EXTERNAL_ACCOUNTS))
    words = np.array(HANDLE_WORDS)
    screen = np.char.add(np.char.add(words[rng.integers(0, len(words), EXTERNAL_ACCOUNTS)],
                                     words[rng.integers(0, len(words), EXTERNAL_ACCOUNTS)]),
                         np.arange(EXTERNAL_ACCOUNTS).astype(str))
    weights = 1 / np.arange(1, EXTERNAL_ACCOUNTS + 1)
    return {"userid": _strings(userid), "screen": pa.array(screen, pa.string()), "weights": weights / weights.sum()}
