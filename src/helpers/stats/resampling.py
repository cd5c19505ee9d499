"""The resampling kit: account (cluster) bootstrap weights, weighted statistics and their intervals.

Tweets of one account share its followers, its operator and its audience, so
every interval in traction resamples ACCOUNTS, never tweets. A statistic is
written once, as a function of a (resamples x accounts) weight matrix; the
plug-in estimate is the same function at unit weights, so estimate and
interval cannot disagree on the definition. Quantiles use the inverted-CDF
definition (an observed value).

Heavy-tailed statistics (engagement per tweet, the Gini coefficient, the top-1%
share of accounts) carry a standard error per resample (``.studentize``: the
delta method for a ratio, the jackknife from closed-form leave-one-draw-out values
for the others) and get studentized (bootstrap-t) intervals: resampling the real
IRA table as a population, percentile intervals of these undercovered, because a
handful of accounts make the bootstrap distribution skewed (docs/statistics.md).
Shares, quantiles and rank correlations keep percentile intervals.

At scale (more than ``LARGE`` accounts: Twitter's largest release has 2.5M) the same
statistics are resampled by methods whose cost does not grow as resamples x accounts of
Python-level work (``at_scale``; docs/statistics.md#bootstraps-at-scale):

- sums (shares, ratios, the ratio's studentizing sums): Poisson(1) account weights, a block of
  resamples at a time, times the accounts' values as one matrix product per chunk of accounts;
- Gini and top share (of accounts): the same multinomial resampling as below ``LARGE``, drawn over
  the distinct values (their statistics and leave-one-draw-out values depend on nothing else);
- quantiles: drawn from the exact law of the resampled quantile (a binomial count), no weights;
- anything else (rank correlations, the top share of tweets): a delete-a-group jackknife.

At or under ``LARGE`` accounts nothing changes: the same weights, the same bytes.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse, stats
from threadpoolctl import threadpool_limits

from helpers.results import entry

LEVEL = 0.95
BOOT = "account-bootstrap {} 95% interval"
LARGE = 200_000  # above this many accounts, the methods at scale (module docstring)
BLOCK = 32  # resamples per block of Poisson weights at scale
CHUNK = 1 << 12  # accounts per matrix product at scale: a block's weights for one chunk (1 MB) stay in cache; the draws depend on it
THREADS = 2  # blocks at once at scale (the machine's cores)
JACKKNIFE_GROUPS = 20  # delete-a-group jackknife at scale: its t interval has GROUPS - 1 degrees of freedom
HOLD_ROWS = 200_000  # above this many accounts a ratio holds no studentizing matrix (weighted_ratio)


def resample_weights(n_accounts: int, n_boot: int, seed: int):
    """Yield (chunk, n_accounts) float arrays: how often each account is drawn in each resample.

    Floats, not integers: the statistics multiply them with float vectors, which only BLAS
    does fast (an integer matrix times a float vector is about 10x slower)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(100, 4_000_000 // max(n_accounts, 1)))  # bounds memory at ~32 MB a chunk
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        draws = rng.integers(0, n_accounts, size=(size, n_accounts))
        if size > 1:  # one bincount over the chunk: each resample's draws offset into its own row
            draws += np.arange(size)[:, None] * n_accounts
        yield np.bincount(draws.ravel(), minlength=size * n_accounts).reshape(size, n_accounts).astype(float)


# --- statistics of weighted values: each takes a (k, n) weight matrix, returns k values ---

def weighted_share(indicator):
    indicator = np.asarray(indicator, float)

    def statistic(w):
        return (w @ indicator) / w.sum(axis=1)
    statistic.sums = Sums([(indicator,), ()], lambda sums: sums[:, 0] / sums[:, 1])
    return statistic


class Sums:
    """A statistic of weighted sums: ``terms`` the summed columns, each a tuple of per-account arrays whose
    product it is (``()``: 1, the accounts), ``finish(sums)`` the statistic (or the statistic and its se) from
    the (resamples, terms) weighted sums. Statistics that share a term (the same arrays) share its column."""

    def __init__(self, terms, finish):
        self.terms, self.finish = terms, finish
        self.keys = [tuple(id(array) for array in term) for term in terms]


def _term(term, part):
    """A term's column over a slice of accounts."""
    column = np.ones(part.stop - part.start)
    for array in term:
        column = column * array[part]
    return column


def weighted_ratio(numerator, denominator, *, heavy_tailed=False):
    """sum(numerator) / sum(denominator) over the drawn accounts.

    ``heavy_tailed`` (engagement per tweet) studentizes its interval by the delta-method
    standard error of each resample, sqrt(sum w (num - R den)^2) / sum w den.
    """
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)

    def statistic(w):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ numerator) / (w @ denominator)

    def sums_of(w):  # (k, 5) weighted sums of num, den, num^2, num den, den^2
        if held is not None:  # one matrix product
            return w @ held
        drawn_num, drawn_den = w * numerator, w * denominator
        return np.column_stack([drawn_num.sum(axis=1), drawn_den.sum(axis=1), drawn_num @ numerator,
                                drawn_num @ denominator, drawn_den @ denominator])

    def from_sums(sums):  # the ratio and its delta-method se, from the five weighted sums
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = sums[:, 0] / sums[:, 1]
            spread = sums[:, 2] - 2 * ratio * sums[:, 3] + ratio**2 * sums[:, 4]
            return ratio, np.sqrt(np.maximum(spread, 0)) / sums[:, 1]

    def studentize(w):
        return from_sums(sums_of(w))

    def plain(sums):
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[:, 0] / sums[:, 1]

    statistic.sums = Sums([(numerator,), (denominator,), (numerator, numerator), (numerator, denominator),
                           (denominator, denominator)], from_sums) if heavy_tailed else \
        Sums([(numerator,), (denominator,)], plain)
    if heavy_tailed:
        # the n x 5 matrix is held below HOLD_ROWS accounts; above, the sums come from two weighted copies
        # (the same numbers up to rounding): at 2.3M accounts each ratio would hold 93 MB, and notebook 02
        # has five at once
        held = np.column_stack([numerator, denominator, numerator**2, numerator * denominator, denominator**2]) \
            if len(numerator) <= HOLD_ROWS else None
        statistic.studentize = studentize
    return statistic


def weighted_quantile(values, q):
    """Smallest value whose weighted CDF reaches q (numpy's 'inverted_cdf')."""
    order = np.argsort(values, kind="stable")
    ordered = np.asarray(values, float)[order]

    def statistic(w):
        cum = np.cumsum(w[:, order], axis=1)
        return ordered[np.argmax(cum >= q * cum[:, -1:] - 1e-9 * cum[:, -1:], axis=1)]

    def at_scale(estimate, n_boot, seed, level):
        """The resampled quantile drawn from its exact law: it is at most ordered[j] when at least
        k = ceil(q n) of the n draws fall on the first j + 1 ordered accounts, a Binomial(n, (j + 1) / n) count."""
        n = len(ordered)
        k = np.ceil(q * n - 1e-9 * n)
        reach = int(np.ceil(12 * np.sqrt(n)))  # beyond 12 sd of the count the law has no mass to speak of
        first, last = max(int(k) - 1 - reach, 0), min(int(k) - 1 + reach, n - 1)
        positions = np.arange(first, last + 1)
        cdf = stats.binom.sf(k - 1, n, (positions + 1) / n)
        cdf[-1] = 1.0
        drawn = np.searchsorted(cdf, np.random.default_rng(seed).random(n_boot), side="right")
        return _percentile(estimate, ordered[positions[np.minimum(drawn, len(positions) - 1)]], level)
    statistic.at_scale = at_scale
    statistic.at_scale_note = "drawn from the resampled quantile's exact binomial law"
    return statistic


def weighted_gini(values):
    """Gini = 1 - sum over the Lorenz steps of (dP)(L_i + L_{i-1}): mean |x_i - x_j| / (2 mean)."""
    order = np.argsort(values, kind="stable")
    ordered = np.asarray(values, float)[order]

    def statistic(w):
        w = w[:, order].astype(float)
        population = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            lorenz = np.cumsum(w * ordered, axis=1) / (w @ ordered)[:, None]
        dp = np.diff(population, axis=1, prepend=0)
        previous = np.concatenate([np.zeros((len(w), 1)), lorenz[:, :-1]], axis=1)
        return 1 - (dp * (lorenz + previous)).sum(axis=1)

    def pieces(w):  # in ascending order: draws, totals, each unit's summed distance to the others, their sum
        w = w[:, order]
        drawn, total = w.sum(axis=1, keepdims=True), (w @ ordered)[:, None]
        cum_w, cum_v = np.cumsum(w, axis=1), np.cumsum(w * ordered, axis=1)
        distance = ordered * (cum_w - w) - (cum_v - w * ordered) + (total - cum_v) - ordered * (drawn - cum_w)
        return w, drawn, total, distance, (w * distance).sum(axis=1, keepdims=True)

    def without_one(drawn, total, distance, pairs):  # sum w_i w_j |x_i - x_j| / (2 N total), one draw less
        with np.errstate(invalid="ignore", divide="ignore"):
            return (pairs - 2 * distance) / (2 * (drawn - 1) * (total - ordered))

    def leave_one_out(w):
        _, *rest = pieces(w)
        return without_one(*rest)[:, np.argsort(order, kind="stable")]

    def studentize(w):  # the Gini (pairwise form) and its jackknife se, in one pass
        w, drawn, total, distance, pairs = pieces(w)
        with np.errstate(invalid="ignore", divide="ignore"):
            gini = (pairs / (2 * drawn * total))[:, 0]
        return gini, jackknife_se(without_one(drawn, total, distance, pairs), w)
    statistic.leave_one_out, statistic.studentize, statistic.bounds = leave_one_out, studentize, (0.0, 1.0)
    statistic.at_scale = lambda estimate, n_boot, seed, level: _over_distinct_values(
        weighted_gini, values, estimate, n_boot, seed, level)
    statistic.at_scale_note = DISTINCT_NOTE
    return statistic


DISTINCT_NOTE = "resampled over the accounts' distinct values"


def _over_distinct_values(make, values, estimate, n_boot, seed, level):
    """The studentized bootstrap of ``make(values)`` with the accounts merged by value: a resample draws each
    distinct value a Multinomial(n, counts / n) number of times, as drawing accounts does, and the statistic
    and its leave-one-draw-out values (hence its jackknife se) depend on nothing else."""
    distinct, counts = np.unique(np.asarray(values, float), return_counts=True)
    inner, n = make(distinct), int(counts.sum())
    se = float(inner.studentize(counts[None, :].astype(float))[1][0])
    rng = np.random.default_rng(seed)
    block = max(1, min(BLOCK, 4_000_000 // len(distinct)))
    draws, ses = [], []
    for start in range(0, n_boot, block):
        value, value_se = inner.studentize(rng.multinomial(n, counts / n, size=min(block, n_boot - start)).astype(float))
        draws.append(value)
        ses.append(value_se)
    return _studentized(estimate, se, np.concatenate(draws), np.concatenate(ses), level, inner.bounds)


def weighted_top_share(values, top=0.01, group=None):
    """Share of the total held by the top ``top`` of units (the boundary unit counted fractionally).

    ``group`` maps units (e.g. tweets) to the resampled accounts; default: units are accounts.
    """
    values = np.asarray(values, float)
    order = np.argsort(-values, kind="stable")
    ordered = values[order]
    if group is None:  # each unit its own account: the per-account arrays are the units' (no copies held)
        ordered_group, per_account_total, per_account_units = order, values, np.ones(len(values))
    else:
        group = np.asarray(group)
        ordered_group = group[order]
        per_account_total = np.bincount(group, weights=values)
        per_account_units = np.bincount(group).astype(float)
    head = min(len(values), 3 * int(np.ceil(top * len(values))) + 100)  # the top share lies in the head

    def statistic(w):
        totals_v, totals_w = w @ per_account_total, w @ per_account_units
        out = np.full(len(w), np.nan)
        for i, row in enumerate(w):  # per resample, vectorised over the head of the ranking
            target = top * totals_w[i]
            for stop in (head, len(ordered)):
                unit_w = row[ordered_group[:stop]].astype(float)
                cum_w = np.cumsum(unit_w)
                if cum_w[-1] >= target - 1e-9:
                    break
            cum_v = np.cumsum(unit_w * ordered[:stop])
            j = int(np.argmax(cum_w >= target - 1e-9))
            before_w, before_v = (cum_w[j - 1], cum_v[j - 1]) if j else (0.0, 0.0)
            if totals_v[i]:
                out[i] = (before_v + (target - before_w) * ordered[j]) / totals_v[i]
        return out
    if group is None or len(np.unique(group)) == len(group):  # one unit per account: leave-one-out in closed form
        back = np.argsort(order, kind="stable")

        def leave_one_out(w):
            return _top_share_leave_one_out(ordered, w[:, ordered_group], top, head)[:, back]

        def studentize(w):
            ordered_w = w[:, ordered_group]
            return statistic(w), jackknife_se(_top_share_leave_one_out(ordered, ordered_w, top, head), ordered_w)
        statistic.leave_one_out, statistic.studentize, statistic.bounds = leave_one_out, studentize, (0.0, 1.0)
        statistic.at_scale = lambda estimate, n_boot, seed, level: _over_distinct_values(
            lambda distinct: weighted_top_share(distinct, top), values, estimate, n_boot, seed, level)
        statistic.at_scale_note = DISTINCT_NOTE
    return statistic


def _top_share_leave_one_out(ordered, w, top, head):
    """Top-``top`` share with one draw of each unit less; ``ordered`` descending, ``w`` (k, n) in that order.

    Only the first ``head`` units can hold the boundary; leaving out a unit after it only
    changes the total, so cumulative sums run over the head alone (all units if it is short).
    """
    drawn, total = w.sum(axis=1), w @ ordered
    target = top * (drawn - 1)
    if not (w[:, :head].sum(axis=1) >= target + 1).all():
        head = w.shape[1]
    cum_w, cum_v = np.cumsum(w[:, :head], axis=1), np.cumsum(w[:, :head] * ordered[:head], axis=1)
    rows, position = np.arange(len(w)), np.arange(head)[None, :]

    def boundary(extra):  # first position whose cumulative draws reach target + extra, and the sums before it
        j = np.argmax(cum_w >= (target + extra - 1e-9)[:, None], axis=1)
        before_w = np.where(j > 0, cum_w[rows, j - 1], 0.0)
        before_v = np.where(j > 0, cum_v[rows, j - 1], 0.0)
        return j[:, None], before_w[:, None], before_v[:, None], ordered[j][:, None]
    j1, w1, v1, at1 = boundary(0.0)  # the unit left out comes after the boundary: nothing before it moves
    j2, w2, v2, at2 = boundary(1.0)  # it comes at or before: one draw fewer up to the new boundary
    shift = j2 > position
    head_after = v1 + (target[:, None] - w1) * at1
    head_before = (v2 - shift * ordered[:head]) + (target[:, None] - (w2 - shift)) * at2
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.where(position > j1, head_after, head_before) / (total[:, None] - ordered[:head])
        return np.concatenate([inside, head_after / (total[:, None] - ordered[head:])], axis=1)


def weighted_ranks(values, w=None):
    """Mid-ranks of each unit within each resample (units repeated ``w`` times), shape (k, n).

    Without ``w``, the ranker of ``values`` (their distinct values found once): call it with ``w``.
    """
    uniques, inverse = np.unique(values, return_inverse=True)
    onehot_t = sparse.csr_array((np.ones(len(values)), (inverse, np.arange(len(values)))),
                                shape=(len(uniques), len(values)))

    def ranks(w):
        per_value = (onehot_t @ w.T).T  # (k, distinct values): draws of each value
        midrank = np.cumsum(per_value, axis=1) - per_value + (per_value + 1) / 2
        return midrank[:, inverse]
    return ranks if w is None else ranks(w)


def rank_correlation(x, y, method):
    """Spearman or Kendall (tau-b) correlation of each resample (the accounts drawn, with repeats)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if method == "spearman":
        rank_x, rank_y = weighted_ranks(x), weighted_ranks(y)  # the distinct values, sorted once

        def spearman(w):  # Pearson correlation of mid-ranks, weighted by the draws
            w = w.astype(float)
            rx, ry = rank_x(w), rank_y(w)
            total = w.sum(axis=1, keepdims=True)
            # a resample of total weight 0 gives NaN, as does one with a constant rank (the callers drop them)
            with np.errstate(invalid="ignore", divide="ignore"):
                dx = rx - (w * rx).sum(axis=1, keepdims=True) / total
                dy = ry - (w * ry).sum(axis=1, keepdims=True) / total
                return (w * dx * dy).sum(axis=1) / np.sqrt((w * dx * dx).sum(axis=1) * (w * dy * dy).sum(axis=1))
        return spearman
    if method != "kendall":
        raise KeyError(method)

    def kendall(w):
        out = np.empty(len(w))
        for i, row in enumerate(w):
            drawn = np.repeat(np.arange(len(x)), row.astype(np.int64))
            out[i] = stats.kendalltau(x[drawn], y[drawn]).statistic
        return out
    return kendall


def interval_kind(statistic):
    """"studentized" for statistics that carry a standard error per resample, else "percentile"."""
    return "studentized" if hasattr(statistic, "studentize") else "percentile"


def jackknife_se(values, w):
    """Jackknife standard error in each resample (rows of ``w``) from its leave-one-draw-out ``values``."""
    drawn = w.sum(axis=1)
    values = np.where(w > 0, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w * values).sum(axis=1) / drawn
        return np.sqrt((drawn - 1) / drawn * (w * (values - mean[:, None]) ** 2).sum(axis=1))


def bootstrap(statistic, n_accounts, *, n_boot=999, seed=0, level=LEVEL, at_scale=None):
    """(estimate, (ci_low, ci_high), warnings): plug-in and interval (``interval_kind``) over account resamples."""
    return bootstrap_many([statistic], n_accounts, n_boot=n_boot, seed=seed, level=level, at_scale=at_scale)[0]


def scaled(n_accounts, at_scale=None) -> bool:
    """Whether ``n_accounts`` are resampled by the methods at scale (``at_scale``: force it either way)."""
    return n_accounts > LARGE if at_scale is None else bool(at_scale)


def bootstrap_many(statistics, n_accounts, *, n_boot=999, seed=0, level=LEVEL, at_scale=None):
    """``bootstrap`` of several statistics of the same accounts over one pass of resamples."""
    if n_accounts == 0:
        return [(None, (None, None), ["no accounts"]) for _ in statistics]
    ones = np.ones((1, n_accounts))
    estimates = [float(statistic(ones)[0]) for statistic in statistics]
    if scaled(n_accounts, at_scale):
        return _bootstrap_at_scale(statistics, estimates, n_accounts, n_boot, seed, level)
    studentized = [hasattr(statistic, "studentize") for statistic in statistics]
    replicates = [[] for _ in statistics]
    for w in resample_weights(n_accounts, n_boot, seed):
        for store, statistic, student in zip(replicates, statistics, studentized):
            store.append(statistic.studentize(w) if student else (statistic(w), None))
    out = []
    for estimate, reps, statistic, student in zip(estimates, replicates, statistics, studentized):
        values = np.concatenate([v for v, _ in reps])
        if student:
            ses = np.concatenate([se for _, se in reps])
            out.append(_studentized(estimate, float(statistic.studentize(ones)[1][0]), values, ses, level,
                                    getattr(statistic, "bounds", (-np.inf, np.inf))))
        else:
            out.append(_percentile(estimate, values, level))
    return out


def _bootstrap_at_scale(statistics, estimates, n_accounts, n_boot, seed, level):
    """``bootstrap_many`` by the methods at scale (module docstring), in the order of ``statistics``."""
    out = [None] * len(statistics)
    summed = [i for i, statistic in enumerate(statistics) if hasattr(statistic, "sums")]
    if summed:
        finished = _poisson_sums([statistics[i].sums for i in summed], n_accounts, n_boot, seed)
        for i, replicates in zip(summed, finished):
            if isinstance(replicates, tuple):  # a studentized ratio: the delta-method se at the estimate too
                se = float(statistics[i].sums.finish(_plain_sums(statistics[i].sums, n_accounts))[1][0])
                out[i] = _studentized(estimates[i], se, *replicates, level)
            else:
                out[i] = _percentile(estimates[i], replicates, level)
    for i, statistic in enumerate(statistics):
        if out[i] is not None:
            continue
        if not np.isfinite(estimates[i]):
            out[i] = (None, (None, None), ["no interval"])
        elif hasattr(statistic, "at_scale"):
            out[i] = statistic.at_scale(estimates[i], n_boot, seed, level)
        else:
            out[i] = _grouped_jackknife(statistic, estimates[i], n_accounts, seed, level)
    return out


def at_scale_method(statistic, n_accounts, n_boot) -> str:
    """The interval's description at scale (``bootstrapped_entries``)."""
    if hasattr(statistic, "sums"):
        return (f"{BOOT.format(interval_kind(statistic))} ({n_boot} resamples of {n_accounts} accounts, "
                "Poisson(1) account weights)")
    if hasattr(statistic, "at_scale"):
        return (f"{BOOT.format(interval_kind(statistic))} ({n_boot} resamples of {n_accounts} accounts, "
                f"{statistic.at_scale_note})")
    return (f"delete-a-group jackknife 95% interval ({n_accounts} accounts in {JACKKNIFE_GROUPS} random groups; "
            f"t with {JACKKNIFE_GROUPS - 1} df)")


# Poisson(1) weights by inverse CDF on 32 random bits: P(w <= k) in units of 2^-32, to k = 12 (beyond it,
# less than a quarter of 2^-32 is left). The top 16 bits index a table; in the few cells that straddle a
# step (NaN in the table) 16 more bits settle the weight.
POISSON_STEPS = np.round(stats.poisson.cdf(np.arange(13), 1) * 2.0**32)
_CELL = np.arange(1 << 16, dtype=np.float64) * (1 << 16)
POISSON_TABLE = np.where(np.searchsorted(POISSON_STEPS, _CELL, side="right")
                         == np.searchsorted(POISSON_STEPS, _CELL + 0xFFFF, side="right"),
                         np.searchsorted(POISSON_STEPS, _CELL, side="right"), np.nan)


def poisson_weights(rng, shape, out=None, index=None):
    """Poisson(1) draws (float64) of ``shape`` from ``rng``, exact to 2^-32 in each probability.

    ``out`` (float64, ``shape``) and ``index`` (intp, at least as many), when given, are reused for the weights
    and for the draws as ``take``'s indices, which it would otherwise cast in a temporary: a fresh 1 MB array
    per chunk costs more in page faults than the draws themselves."""
    count = int(np.prod(shape))
    high = _bits16(rng, count)[:count].reshape(shape)
    if index is not None:
        index = index.ravel()[:count].reshape(shape)
        np.copyto(index, high)
        high = index
    # mode "clip": with ``out`` and the default "raise", NumPy buffers the output (8 times slower); a 16-bit
    # index cannot leave the 65,536-row table
    w = POISSON_TABLE.take(high, out=out, mode="clip")
    straddle = np.flatnonzero(np.isnan(w))  # about 12 in 65,536
    if len(straddle):
        low = _bits16(rng, len(straddle))[:len(straddle)]
        w.flat[straddle] = np.searchsorted(POISSON_STEPS, high.flat[straddle] * 65536.0 + low, side="right")
    return w


def _bits16(rng, count):
    """At least ``count`` random 16-bit words: the generator's raw 64-bit output, four words apiece (half
    the time of ``integers``)."""
    return rng.bit_generator.random_raw(-(-count // 4)).view(np.uint16)


def _poisson_sums(forms, n_accounts, n_boot, seed):
    """Each ``Sums`` form's statistic over ``n_boot`` resamples with Poisson(1) account weights: a block of
    resamples at a time, one matrix product per chunk of accounts (a column per distinct term of the forms);
    sums kept in float64.

    Each block draws from its own generator, seeded by (seed, block), chunk after chunk, so the blocks run
    on both cores (NumPy's generators, ``take`` and BLAS release the GIL) and give the same bytes however
    they are shared out; a chunk's values are built once for all the blocks a core runs."""
    terms = {}
    for form in forms:
        terms.update(zip(form.keys, form.terms))
    column = {key: i for i, key in enumerate(terms)}
    sizes = [min(BLOCK, n_boot - start) for start in range(0, n_boot, BLOCK)]

    def run(blocks):
        rngs = [np.random.default_rng([seed, b]) for b in blocks]
        sums = [np.zeros((sizes[b], len(terms))) for b in blocks]
        buffer, index = np.empty(BLOCK * CHUNK), np.empty(BLOCK * CHUNK, np.intp)
        for first in range(0, n_accounts, CHUNK):
            part = slice(first, min(first + CHUNK, n_accounts))
            values = np.column_stack([_term(term, part) for term in terms.values()])
            for rng, b, total in zip(rngs, blocks, sums):
                shape = (sizes[b], part.stop - part.start)
                total += poisson_weights(rng, shape, buffer[:shape[0] * shape[1]].reshape(shape), index) @ values
        return dict(zip(blocks, sums))
    shares = [list(range(len(sizes)))[core::THREADS] for core in range(THREADS)]
    # one BLAS thread per core: OpenBLAS spreads these small products over threads that spin between
    # calls (8-15 times the CPU time, measured on this 2-core machine)
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=THREADS) as pool:
        done = {b: total for part in pool.map(run, shares) for b, total in part.items()}
    sums = np.vstack([done[b] for b in range(len(sizes))])
    out = []
    for form in forms:
        finished = form.finish(sums[:, [column[key] for key in form.keys]])
        out.append(tuple(finished) if isinstance(finished, tuple) else finished)
    return out


def _plain_sums(form, n_accounts):
    """The form's sums at unit weights (the data as it is)."""
    return np.array([[np.sum(_term(term, slice(0, n_accounts))) for term in form.terms]])


def _grouped_jackknife(statistic, estimate, n_accounts, seed, level, groups=JACKKNIFE_GROUPS):
    """estimate -/+ t(groups - 1) x the delete-a-group jackknife se: the accounts dealt at random into
    ``groups`` groups, the statistic recomputed without each (for smooth statistics such as rank correlations)."""
    group = np.random.default_rng(seed).permutation(n_accounts) % groups
    without = np.array([statistic((group != g).astype(float)[None, :])[0] for g in range(groups)])
    if not np.isfinite(without).all():
        return estimate, (None, None), [f"{int((~np.isfinite(without)).sum())} of {groups} jackknife groups left "
                                        "the statistic undefined", "no interval"]
    se = np.sqrt((groups - 1) / groups * np.sum((without - without.mean()) ** 2))
    half = stats.t.ppf((1 + level) / 2, groups - 1) * se
    low, high = np.clip([estimate - half, estimate + half], *getattr(statistic, "bounds", (-np.inf, np.inf)))
    return estimate, (float(low), float(high)), []


def _undefined(estimate, replicates):
    """(warnings, whether there is no interval) for replicates some of which are undefined."""
    finite = np.isfinite(replicates)
    warnings = []
    if not finite.all():
        warnings.append(f"{int((~finite).sum())} of {len(replicates)} resamples left the "
                        "statistic undefined and were dropped")
    return warnings, not np.isfinite(estimate) or finite.sum() < 0.9 * len(replicates)


def _percentile(estimate, replicates, level):
    warnings, none = _undefined(estimate, replicates)
    if none:
        return (estimate if np.isfinite(estimate) else None), (None, None), warnings + ["no interval"]
    alpha = (1 - level) / 2
    low, high = np.quantile(replicates[np.isfinite(replicates)], [alpha, 1 - alpha])
    return estimate, (float(low), float(high)), warnings


def _studentized(estimate, se, replicates, replicate_ses, level, bounds=(-np.inf, np.inf)):
    """Bootstrap-t: estimate - quantiles of (replicate - estimate) / replicate's se, times the se,
    clipped to the statistic's ``bounds`` (a Gini or a share cannot pass 1)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample of one repeated account has no se
        t = (replicates - estimate) / replicate_ses
    warnings, none = _undefined(estimate, t)
    if none or not (np.isfinite(se) and se > 0):
        return _percentile(estimate, replicates, level)  # a constant statistic or too few defined resamples
    alpha = (1 - level) / 2
    low_t, high_t = np.quantile(t[np.isfinite(t)], [alpha, 1 - alpha])
    low, high = np.clip([estimate - high_t * se, estimate - low_t * se], *bounds)
    return estimate, (float(low), float(high)), warnings


def bootstrapped_entry(test_id, method, statistic, n_accounts, *, n, n_boot, seed, warnings=()):
    """A result entry whose estimate and interval come from ``bootstrap``."""
    return bootstrapped_entries([(test_id, method, statistic, n)], n_accounts,
                                n_boot=n_boot, seed=seed, warnings=warnings)[0]


def bootstrapped_entries(specs, n_accounts, *, n_boot, seed, warnings=(), at_scale=None):
    """Entries for ``(id, method, statistic, n)`` specs over the same accounts (one resampling pass)."""
    out = []
    outcomes = bootstrap_many([spec[2] for spec in specs], n_accounts, n_boot=n_boot, seed=seed, at_scale=at_scale)
    for (test_id, method, statistic, n), (estimate, ci, notes) in zip(specs, outcomes):
        if estimate is None:
            out.append(entry(test_id, method, n=n, converged=False,
                             warnings=[*warnings, "skipped: undefined on this data", *notes]))
        else:
            interval = at_scale_method(statistic, n_accounts, n_boot) if scaled(n_accounts, at_scale) else \
                f"{BOOT.format(interval_kind(statistic))} ({n_boot} resamples of {n_accounts} accounts)"
            out.append(entry(test_id, f"{method}; {interval}", estimate, ci, n=n, warnings=[*warnings, *notes]))
    return out


def ratio_by_group(group, numerator, denominator, *, n_boot, seed, heavy_tailed=False):
    """(estimate, ci_low, ci_high) of sum(numerator) / sum(denominator) over a group's accounts; NaN when undefined."""
    return ratios_by_group(group, [(numerator, denominator, heavy_tailed)], n_boot=n_boot, seed=seed)[0]


def ratios_by_group(group, ratios, *, n_boot, seed):
    """``ratio_by_group`` of each ``(numerator, denominator, heavy_tailed)`` over one resampling pass (the
    same draws as one call each: the same seed and accounts)."""
    out = [(np.nan, np.nan, np.nan)] * len(ratios)
    defined = [i for i, (numerator, denominator, _) in enumerate(ratios)
               if group[denominator].sum() != 0 and not group[numerator].isna().any()]
    statistics = [weighted_ratio(group[ratios[i][0]], group[ratios[i][1]], heavy_tailed=ratios[i][2])
                  for i in defined]
    for i, (estimate, (low, high), _) in zip(defined, bootstrap_many(statistics, len(group), n_boot=n_boot,
                                                                      seed=seed)):
        out[i] = estimate, low, high
    return out
