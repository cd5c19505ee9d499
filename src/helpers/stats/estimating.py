"""The elasticity's estimating equation over accounts, and intervals that do not assume a variance curve.

Every elasticity in traction solves, over ACCOUNTS i,

    sum_i x_i (y_i - M_i) g_i = 0,   M_i = exp(x_i' beta + offset_i),   g_i = 1 / (1 + alpha M_i / d_i)

with y_i the account's engagement total and offset_i the log of its original tweets:
PPML has alpha = 0; the account-level NB2 its ML alpha with d_i = 1; the tweet-level NB2,
whose tweets of one account share x_i, its ML alpha with d_i = n_i (the per-tweet mean), so
its inference clustered by account is this equation's too. alpha is held at its estimate:
the equation has mean zero for ANY alpha when the mean is right, which is what lets the
intervals below ignore how the variance really grows.

Intervals for the slope (the elasticity), all resampling or perturbing whole accounts:

- ``sandwich``: HC0-HC3 (HC2/HC3 inflate each account's score by its leverage);
- ``bell_mccaffrey_df``: Satterthwaite degrees of freedom for HC2 (CR2 with one account a cluster);
- ``cr2_bm``: the CR2 sandwich with clusters of accounts (creation batches) and its Bell-McCaffrey df;
- ``wild_score_interval``: the wild (sign-flip) score bootstrap of Kline and Santos, inverted:
  the null is imposed, so no refit per replicate, and a fit carried by a few accounts gets the
  wide interval their few signs allow;
- ``pairs_replicates``: the account (pairs) bootstrap by vectorised, warm-started Fisher scoring;
- ``jackknife``: leave one account out, exactly.

Which is used where, and why, is in docs/statistics.md (measured by validation/).
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from helpers.stats.resampling import resample_weights

LEVEL = 0.95
# Fisher scoring stops when no coefficient moves more than this.
TOLERANCE = 1e-8
MAX_STEP = 2.0  # a scoring step larger than this (in log units) is damped to it


@dataclass
class Equation:
    """The estimating equation of one fit (see the module docstring)."""

    y: np.ndarray
    X: np.ndarray  # (n, k); column 1 is log(1 + followers)
    offset: np.ndarray
    alpha: float = 0.0
    per: np.ndarray | float = 1.0  # d_i: 1 (account NB) or the account's original tweets (tweet NB)

    def means(self, beta):
        """M (and g) at ``beta`` of shape (k,) or (B, k): arrays (n,) or (B, n)."""
        with np.errstate(over="ignore"):
            M = np.exp(np.asarray(beta) @ self.X.T + self.offset)
        g = 1.0 / (1.0 + self.alpha * M / self.per) if self.alpha else np.ones_like(M)
        return M, g

    def weight(self, beta):
        """Each account's share of the information: minus the derivative of its score,
        M g^2 (1 + alpha y / d) (M for PPML). The observed, not the expected, derivative:
        when the variance is not the model's, only it makes the sandwich match refits."""
        M, g = self.means(beta)
        return self._weight(M, g)

    def expected_weight(self, beta):
        """M g: the account's information were the model's variance right (at most d / alpha)."""
        M, g = self.means(beta)
        return M * g

    def _weight(self, M, g):
        return M * g**2 * (1 + self.alpha * self.y / self.per) if self.alpha else M

    def scores(self, beta):
        """(n, k) per-account scores x_i (y_i - M_i) g_i."""
        M, g = self.means(beta)
        return self.X * ((self.y - M) * g)[:, None]

    def information(self, beta):
        return self.X.T @ (self.X * self.weight(beta)[:, None])

    def hat(self, beta):
        """Leverage of each account: v_i x_i' A^-1 x_i, v its weight (sums to k)."""
        inverse = np.linalg.inv(self.information(beta))
        return self.weight(beta) * np.einsum("ij,jk,ik->i", self.X, inverse, self.X)

    def influence(self, beta):
        """(n, k) per-account influence on beta: A^-1 s_i."""
        return self.scores(beta) @ np.linalg.inv(self.information(beta))

    def solve(self, start, weights=None, *, max_iter=100):
        """beta solving the (weighted) equation by Newton's method, from ``start``.

        ``weights`` (B, n) solves B weighted equations at once (one per bootstrap
        replicate); rows that do not converge come back NaN.
        """
        X, y = self.X, self.y
        single = weights is None
        W = np.ones((1, len(y))) if single else np.asarray(weights, float)
        beta = np.tile(np.asarray(start, float), (len(W), 1))
        active = np.arange(len(W))  # replicates still moving
        for _ in range(max_iter):
            M, g = self.means(beta[active])
            w = W[active]
            U = (w * (y - M) * g) @ X  # (B, k) scores
            A = _weighted_crossproducts(X, w * self._weight(M, g))  # (B, k, k) minus the Jacobian
            with np.errstate(invalid="ignore", over="ignore"):
                step = np.linalg.solve(A, U[..., None])[..., 0]
                big = np.abs(step).max(axis=1, keepdims=True)
                step = np.where(big > MAX_STEP, step * MAX_STEP / big, step)
            beta[active] += step
            moving = ~(np.abs(step).max(axis=1) < TOLERANCE)  # NaN steps stop too, as failures
            failed = active[~np.isfinite(step).all(axis=1)]
            beta[failed] = np.nan
            active = active[moving & np.isfinite(step).all(axis=1)]
            if not len(active):
                break
        beta[active] = np.nan
        return beta[0] if single else beta

    # --- sandwiches ---

    def _hc_factor(self, beta, kind):
        """c_i of the ``kind`` sandwich (HC0-HC3): each account's score is weighted by it."""
        n, k = self.X.shape
        factor = {"HC0": np.ones(n), "HC1": np.full(n, n / (n - k))}.get(kind)
        if factor is None:
            h = np.minimum(self.hat(beta), 1 - 1e-12)
            factor = {"HC2": 1 / (1 - h), "HC3": 1 / (1 - h) ** 2}[kind]
        return factor

    def sandwich(self, beta, kind="HC0"):
        """Covariance of beta: A^-1 (sum c_i s_i s_i') A^-1, c_i from ``kind`` (HC0-HC3)."""
        S = self.scores(beta)
        bread = np.linalg.inv(self.information(beta))
        return bread @ (S.T @ (S * self._hc_factor(beta, kind)[:, None])) @ bread

    def variance_contributions(self, beta, kind="HC3", j=1):
        """Each account's term in the ``kind`` sandwich variance of beta_j (they sum to it)."""
        return self.influence(beta)[:, j] ** 2 * self._hc_factor(beta, kind)

    def bell_mccaffrey_df(self, beta, j=1):
        """Satterthwaite degrees of freedom of the HC2 variance of beta_j (Bell and McCaffrey).

        Under the working model Var(y_i) proportional to M_i g_i^-1, the HC2 variance is a
        quadratic form in the residuals; its df is tr(Q)^2 / tr(Q^2), computed with k x k
        matrices only.
        """
        Z = self.X * np.sqrt(self.weight(beta))[:, None]
        G = np.linalg.inv(Z.T @ Z)
        h = np.minimum(np.einsum("ij,jk,ik->i", Z, G, Z), 1 - 1e-12)
        a = (Z @ G)[:, j]  # contribution of each standardised residual to beta_j
        D = a**2 / (1 - h)
        ZDZ = Z.T @ (Z * D[:, None])
        trace = np.sum(D * (1 - h))
        trace_sq = np.sum(D**2) - 2 * np.sum(D**2 * h) + np.trace(G @ ZDZ @ G @ ZDZ)
        return float(trace**2 / trace_sq) if trace_sq > 0 else np.nan

    def working_regression(self, beta):
        """(Z, r): the weighted working regression whose least squares the equation solves at ``beta``:
        z_i = x_i sqrt(v_i), r_i = (y_i - M_i) g_i / sqrt(v_i), v_i the account's weight, so each score is
        z_i r_i and the information Z'Z (clubSandwich's CR2 for a GLM uses this regression's hat matrix)."""
        root = np.sqrt(self.weight(beta))
        M, g = self.means(beta)
        return self.X * root[:, None], (self.y - M) * g / root

    def cr2(self, beta, clusters, j=1):
        """(CR2 covariance of beta, Bell-McCaffrey degrees of freedom of beta_j) with ``clusters`` (one label per
        account) as the units; see ``cr2_bm``."""
        Z, r = self.working_regression(beta)
        return cr2_bm(Z, r, clusters, j)

    # --- the wild score bootstrap, inverted ---

    def restricted(self, slopes, j=1, *, max_iter=100):
        """The other coefficients given beta_j = each of ``slopes``: (G, k) betas (NaN if not found)."""
        slopes = np.atleast_1d(np.asarray(slopes, float))
        k = self.X.shape[1]
        if k != 2:
            raise ValueError("restricted fits are written for an intercept and one slope")
        other = 1 - j
        beta = np.zeros((len(slopes), k))
        beta[:, j] = slopes
        with np.errstate(over="ignore", divide="ignore"):
            base = np.log(self.y.sum()) - np.log(np.exp(np.outer(slopes, self.X[:, j]) + self.offset).sum(axis=1))
        beta[:, other] = base  # PPML's intercept in closed form; NB's starts there
        if not self.alpha:
            return beta
        done = np.zeros(len(slopes), bool)
        for _ in range(max_iter):
            M, g = self.means(beta)
            step = ((self.y - M) * g).sum(axis=1) / self._weight(M, g).sum(axis=1)
            step = np.clip(np.where(np.isfinite(step), step, np.nan), -MAX_STEP, MAX_STEP)
            beta[:, other] = np.where(done, beta[:, other], beta[:, other] + step)
            done |= np.abs(step) < TOLERANCE
            if done.all():
                break
        beta[~done] = np.nan
        return beta

    def score_statistics(self, slopes, signs, j=1):
        """Observed and sign-flipped score statistics under beta_j = each slope: (G,), (B, G)."""
        beta = self.restricted(slopes, j)
        M, g = self.means(beta)
        w = self._weight(M, g)
        x = self.X[:, j]
        centred = x - (w @ x / w.sum(axis=1))[:, None]  # the slope's score net of the intercept's
        s = (self.y - M) * g * centred
        scale = np.sqrt((s**2).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return s.sum(axis=1) / scale, (signs @ s.T) / scale

    def wild_p_values(self, slopes, signs, j=1):
        """Two-sided wild score bootstrap p-values of H0: beta_j = slope."""
        observed, flipped = self.score_statistics(slopes, signs, j)
        p = (1 + (np.abs(flipped) >= np.abs(observed) - 1e-12).sum(axis=0)) / (len(signs) + 1)
        return np.where(np.isfinite(observed), p, np.nan)

    def wild_score_interval(self, beta, *, n_boot=999, seed=0, level=LEVEL, j=1, max_iter=60):
        """(low, high, p at 0): the slopes a level-``level`` wild score test does not reject.

        Each end is found by bisection between a slope the test keeps and one it rejects,
        searched outwards from the estimate in HC3 steps; an end not found within
        2^20 HC3 standard errors is returned as inf (a fit the data cannot bound).
        """
        signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_boot, len(self.y)))
        alpha = 1 - level
        center = float(beta[j])
        se = float(np.sqrt(self.sandwich(beta, "HC3")[j, j]))
        if not (np.isfinite(se) and se > 0):
            return np.nan, np.nan, np.nan
        ends = []
        for direction in (-1.0, 1.0):
            inside, outside, step = center, None, se
            for _ in range(21):
                trial = center + direction * step
                if self.wild_p_values([trial], signs, j)[0] <= alpha:
                    outside = trial
                    break
                inside, step = trial, step * 2
            if outside is None:
                ends.append(direction * np.inf)
                continue
            for _ in range(max_iter):
                middle = (inside + outside) / 2
                if self.wild_p_values([middle], signs, j)[0] <= alpha:
                    outside = middle
                else:
                    inside = middle
                if abs(outside - inside) < 1e-4 * se:
                    break
            ends.append((inside + outside) / 2)
        p_zero = float(self.wild_p_values([0.0], signs, j)[0])
        return ends[0], ends[1], p_zero

    # --- resampling with refits ---

    def pairs_replicates(self, beta, *, n_boot=999, seed=0, j=1):
        """Account (pairs) bootstrap: (slopes, their HC0 standard errors), each (B,), refitted
        on account resamples warm-started at ``beta``; NaN where a refit fails."""
        slopes, ses = [], []
        for weights in resample_weights(len(self.y), n_boot, seed):
            betas = self.solve(beta, weights)
            slopes.append(betas[:, j])
            ses.append(self._weighted_se(betas, weights, j))
        return np.concatenate(slopes), np.concatenate(ses)

    def _weighted_se(self, betas, weights, j):
        """HC0 standard error of beta_j in each weighted (resampled) equation."""
        ok = np.isfinite(betas).all(axis=1)
        out = np.full(len(betas), np.nan)
        M, g = self.means(betas[ok])
        w = weights[ok]
        A = _weighted_crossproducts(self.X, w * self._weight(M, g))
        meat = _weighted_crossproducts(self.X, w * ((self.y - M) * g) ** 2)
        with np.errstate(invalid="ignore"):
            bread = np.linalg.inv(A)
            out[ok] = np.sqrt(np.einsum("bi,bij,bj->b", bread[:, j], meat, bread[:, j]))
        return out

    def jackknife(self, beta, *, chunk=500):
        """(n, k) betas with each account left out in turn (exact refits)."""
        n = len(self.y)
        parts = []
        for start in range(0, n, chunk):
            rows = np.arange(start, min(n, start + chunk))
            weights = np.ones((len(rows), n))
            weights[np.arange(len(rows)), rows] = 0
            parts.append(self.solve(beta, weights))
        return np.concatenate(parts)


def _weighted_crossproducts(X, V):
    """(B, k, k): sum_i V[b, i] x_i x_i' for each row of ``V`` (B, n), a column of X at a time: the (n, k * k) outer
    products it replaces took 1.3 GB at 2.5M accounts with the shape check's 8 columns."""
    return np.stack([(V * X[:, column]) @ X for column in range(X.shape[1])], axis=1)


@dataclass
class Interval:
    """The reported interval of one coefficient: HC3 sandwich, Bell-McCaffrey df, t quantile."""

    estimate: float
    low: float
    high: float
    se: float
    df: float
    p_value: float  # two-sided, at 0
    cov: np.ndarray  # the whole HC3 covariance (the fitted curves' bands use it)


def hc3_bm_interval(eq: Equation, beta, j=1, level=LEVEL) -> Interval:
    """The interval traction reports for coefficient ``j`` (chosen by the validation battery; docs/statistics.md)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = eq.sandwich(beta, "HC3")
        df = eq.bell_mccaffrey_df(beta, j=j)
    estimate = float(np.asarray(beta)[j])
    se = float(np.sqrt(cov[j, j])) if cov[j, j] >= 0 else np.nan
    low, high = normal_interval(estimate, se, df, level)
    p_value = 2 * stats.t.sf(abs(estimate / se), df) if se > 0 else np.nan
    return Interval(estimate, low, high, se, df, float(p_value), cov)


def cr2_bm(Z, r, clusters, j=1):
    """Bell and McCaffrey's bias-reduced cluster sandwich (CR2) of a least-squares fit of r on Z, and the
    Satterthwaite degrees of freedom of coefficient ``j`` under a working model of independent residuals of
    equal variance (Pustejovsky and Tipton 2018, as R's clubSandwich ``vcovCR(type = "CR2")`` with
    ``coef_test(test = "Satterthwaite")``). ``r`` holds the fit's residuals.

    Each cluster's residuals are multiplied by A_g = (I - H_gg)^(-1/2), H_gg its block of the hat matrix. H_gg
    has rank at most k, so A_g = I + U ((1 - s^2)^(-1/2) - 1) U' from the thin SVD U s V' of Z_g B^(1/2): no
    n_g x n_g matrix is formed. With every account its own cluster this is HC2 and its df
    ``Equation.bell_mccaffrey_df``.

    The df: the variance of beta_j is sum_g (p_g' r_g)^2 with p_g = A_g Z_g b, b the j-th column of
    B = (Z'Z)^-1; with r = (I - H) e, Var(e) = I, it is a quadratic form whose Satterthwaite df is
    (tr Omega)^2 / ||Omega||_F^2, Omega_gh = p_g' (I - H)_gh p_h = [g = h] |p_g|^2 - (Z_g' p_g)' B (Z_h' p_h).
    """
    Z, r = np.asarray(Z, float), np.asarray(r, float)
    codes = np.unique(clusters, return_inverse=True)[1]
    B = np.linalg.inv(Z.T @ Z)
    root = np.linalg.cholesky(B)  # B = root root'
    b = B[:, j]
    sizes = np.bincount(codes)
    alone = sizes[codes] == 1
    # an account alone in its cluster (most, clustered by coordination group) is HC2's row: A_g = (1 - h)^(-1/2)
    Z1 = Z[alone]
    factor = _root_factor(np.einsum("ij,jk,ik->i", Z1, B, Z1)) + 1
    p1 = (Z1 @ b) * factor
    adjusted, lengths, projected = [Z1 * (r[alone] * factor)[:, None]], [p1**2], [Z1 * p1[:, None]]
    shared = np.flatnonzero(~alone)
    order = shared[np.argsort(codes[shared], kind="stable")]
    for rows in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1) if len(order) else []:
        Zg, rg = Z[rows], r[rows]
        U, s, _ = np.linalg.svd(Zg @ root, full_matrices=False)
        extra = _root_factor(s**2)
        Ar = rg + U @ (extra * (U.T @ rg))
        Zb = Zg @ b
        p = Zb + U @ (extra * (U.T @ Zb))
        adjusted.append((Zg.T @ Ar)[None])  # Z_g' A_g r_g: the cluster's corrected score
        lengths.append([p @ p])  # |p_g|^2
        projected.append((Zg.T @ p)[None])  # Z_g' p_g
    adjusted, lengths, projected = np.concatenate(adjusted), np.concatenate(lengths), np.concatenate(projected)
    cov = B @ (adjusted.T @ adjusted) @ B
    # (Z_g' p_g)' B (Z_h' p_h) over all pairs without the G x G matrix (a release has thousands of days):
    # its diagonal, and its squared Frobenius norm tr((B Q'Q)^2) from k x k matrices
    diagonal = np.einsum("gi,ij,gj->g", projected, B, projected)
    BQQ = B @ (projected.T @ projected)
    omega_trace = lengths.sum() - diagonal.sum()
    # ||Omega||^2 = sum (L_g - d_g)^2 + (sum over g != h of P_gh^2): the diagonal part first, so less cancels
    omega_square = np.sum((lengths - diagonal) ** 2) + np.trace(BQQ @ BQQ) - np.sum(diagonal**2)
    df = float(omega_trace**2 / omega_square) if omega_square > 0 else np.nan
    return cov, df


def within_cluster_correlation(r, clusters):
    """(rho, z): the correlation of residuals ``r`` between two accounts of one cluster, by the exchangeable
    (pairwise) moment estimator of GEE's working correlation (Liang and Zeger 1986) on the centred, standardized
    residuals e: rho = S / P, S the sum over ordered pairs i != j of a cluster of e_i e_j, P their number. z = S over
    its standard error under independence, estimated from the residuals themselves, sqrt(2 sum over those pairs
    of e_i^2 e_j^2): grouped accounts may be the busiest, with residuals twice as spread (review 30). (nan, nan)
    when no cluster has two accounts or the residuals do not vary."""
    e = np.asarray(r, float)
    spread = e.std()
    if not spread > 0:
        return np.nan, np.nan
    e = (e - e.mean()) / spread
    codes = np.unique(clusters, return_inverse=True)[1]
    sizes = np.bincount(codes)
    pairs = float(np.sum(sizes * (sizes - 1.0)))
    if pairs == 0:
        return np.nan, np.nan
    sums, squares = np.bincount(codes, weights=e), np.bincount(codes, weights=e**2)
    products = float(np.sum(sums**2) - np.sum(squares))
    variance = 2 * float(np.sum(squares**2) - np.sum(e**4))
    return products / pairs, products / np.sqrt(variance) if variance > 0 else np.nan


def _root_factor(leverage):
    """(1 - s^2)^(-1/2) - 1 for each singular value's square s^2 of a cluster's hat block; a direction the cluster
    alone determines (1 - s^2 = 0) is dropped (-1), as clubSandwich's pseudo-inverse square root drops eigenvalues
    under 1e-12 (review 27)."""
    remaining = 1 - np.asarray(leverage, float)
    return np.where(remaining > 1e-12, 1 / np.sqrt(np.maximum(remaining, 1e-12)) - 1, -1.0)


def cr2_bm_interval(eq: Equation, beta, clusters, j=1, level=LEVEL) -> Interval:
    """The interval of coefficient ``j`` with ``clusters`` as the units: CR2 sandwich, Bell-McCaffrey df, t."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov, df = eq.cr2(beta, clusters, j)
    estimate = float(np.asarray(beta)[j])
    se = float(np.sqrt(cov[j, j])) if cov[j, j] >= 0 else np.nan
    low, high = normal_interval(estimate, se, df, level)
    p_value = 2 * stats.t.sf(abs(estimate / se), df) if se > 0 else np.nan
    return Interval(estimate, low, high, se, df, float(p_value), cov)


def normal_interval(estimate, se, df=None, level=LEVEL):
    """Wald interval; a t quantile when ``df`` is given."""
    q = stats.norm.ppf(0.5 + level / 2) if df is None else stats.t.ppf(0.5 + level / 2, df)
    return estimate - q * se, estimate + q * se


def percentile_interval(replicates, level=LEVEL):
    finite = replicates[np.isfinite(replicates)]
    return tuple(np.quantile(finite, [(1 - level) / 2, (1 + level) / 2]))


def studentized_interval(estimate, se, replicates, replicate_ses, level=LEVEL):
    """Bootstrap-t: the estimate minus quantiles of (replicate - estimate) / replicate se, times se."""
    t = (replicates - estimate) / replicate_ses
    t = t[np.isfinite(t)]
    low_q, high_q = np.quantile(t, [(1 - level) / 2, (1 + level) / 2])
    return estimate - high_q * se, estimate - low_q * se


def bca_interval(estimate, replicates, influence, level=LEVEL):
    """Efron's BCa interval: bias correction from the replicates, acceleration from the influence values."""
    finite = replicates[np.isfinite(replicates)]
    below = (np.sum(finite < estimate) + 0.5 * np.sum(finite == estimate)) / len(finite)
    z0 = stats.norm.ppf(np.clip(below, 1e-6, 1 - 1e-6))
    u = influence - influence.mean()
    accel = np.sum(u**3) / (6 * np.sum(u**2) ** 1.5)
    z = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    adjusted = stats.norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    return tuple(np.quantile(finite, adjusted))


def top_share(weights, top=0.01):
    """Share of the total weight held by the top ``top`` of accounts (at least one account)."""
    weights = np.sort(np.asarray(weights, float))[::-1]
    k = max(1, int(np.ceil(top * len(weights))))
    total = weights.sum()
    return float(weights[:k].sum() / total) if total > 0 else np.nan
