"""Textbook numerics in numpy alone: sparse rows, L2 logistic regression, TF-IDF, k-means with a cosine
silhouette, ranking AUC and the beta quantile.

Why not scikit-learn and scipy: together they were ~200 MB of a ~950 MB install, for these few routines.
Each one is checked against the reference implementation in tests/unit/test_numeric.py (scikit-learn and
scipy come with the dev extra, for that test only).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import numpy as np

# -- sparse rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparseRows:
    """A sparse matrix in CSR form (`data`, `indices`, `indptr`): the products a linear model needs."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    n_cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.n_cols

    @cached_property
    def _row_of(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        other = np.asarray(other)
        if other.ndim == 1:
            return np.bincount(self._row_of, weights=self.data * other[self.indices], minlength=self.shape[0])
        out = np.zeros((self.shape[0], other.shape[1]), dtype=np.result_type(self.data, other))
        per_row = max(1, len(self.data) // max(1, self.shape[0]))  # stored values in a typical row
        chunk = max(1, 2_000_000 // (other.shape[1] * per_row))  # rows whose gathered columns fit ~2M values
        for start in range(0, self.shape[0], chunk):
            stop = min(start + chunk, self.shape[0])
            lo, hi = int(self.indptr[start]), int(self.indptr[stop])
            if lo == hi:
                continue
            lengths = np.diff(self.indptr[start:stop + 1])
            filled = lengths > 0
            products = other[self.indices[lo:hi]] * self.data[lo:hi, None]
            out[start:stop][filled] = np.add.reduceat(products, (self.indptr[start:stop] - lo)[filled], axis=0)
        return out

    def transpose_dot(self, u: np.ndarray) -> np.ndarray:
        """`self.T @ u` for a vector `u` of one value per row."""
        return np.bincount(self.indices, weights=self.data * np.asarray(u)[self._row_of], minlength=self.n_cols)

    def take(self, rows: np.ndarray) -> SparseRows:
        rows = np.asarray(rows, dtype=np.int64)
        starts, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        at = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseRows(self.data[at], self.indices[at], indptr, self.n_cols)

    def stack(self, below: SparseRows) -> SparseRows:
        return SparseRows(np.concatenate([self.data, below.data]), np.concatenate([self.indices, below.indices]),
                          np.concatenate([self.indptr, below.indptr[1:] + self.indptr[-1]]), self.n_cols)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.data.dtype)
        out[self._row_of, self.indices] = self.data
        return out


# -- logistic regression -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogisticModel:
    coef: np.ndarray
    intercept: float

    def decision_function(self, X: np.ndarray | SparseRows) -> np.ndarray:
        return np.asarray(X @ self.coef, dtype=float) + self.intercept


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def fit_logistic(X: np.ndarray | SparseRows, y: np.ndarray, sample_weight: np.ndarray | None = None, C: float = 1.0,
                 penalise_intercept: bool = False, tol: float = 1e-7, max_iter: int = 100,
                 start: LogisticModel | None = None) -> LogisticModel:
    """L2-regularised logistic regression with balanced class weights, by Newton's method.

    Minimises ½‖w‖² (+ ½b², as liblinear does, if `penalise_intercept`) + C·Σ sᵢ·log(1 + exp(−yᵢ·(xᵢ·w + b)))
    with yᵢ = ±1 and sᵢ = wᵢ·Σw / (2·Σ of w over yᵢ's class) (classes balanced by weight). The objective is
    strictly convex, so this is the optimum scikit-learn's lbfgs (`penalise_intercept=False`) and liblinear (True) converge to.
    Dense features solve each Newton step exactly; sparse ones by conjugate gradients. `start`: Newton
    begins there (a model fitted on similar data, e.g. all folds), so it needs fewer steps to the same optimum.
    """
    y = np.asarray(y, dtype=int)
    sign = np.where(y == 1, 1.0, -1.0)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    s = s * (s.sum() / (2 * np.bincount(y, weights=s, minlength=2)))[y]
    rows = X if isinstance(X, SparseRows) else None
    dense = None if isinstance(X, SparseRows) else np.asarray(X, dtype=float)
    d = X.shape[1]
    reg = np.ones(d + 1)
    reg[d] = 1.0 if penalise_intercept else 0.0

    def scores(theta: np.ndarray) -> np.ndarray:
        return np.asarray((rows if rows is not None else dense) @ theta[:d], dtype=float) + theta[d]

    def back(u: np.ndarray) -> np.ndarray:
        return np.append(rows.transpose_dot(u) if rows is not None else np.asarray(dense).T @ u, u.sum())

    def objective(theta: np.ndarray) -> float:
        return 0.5 * float(reg @ theta**2) + C * float(s @ np.logaddexp(0.0, -sign * scores(theta)))

    with_ones = None if dense is None else np.hstack([dense, np.ones((len(y), 1))])  # the intercept's column
    # the stopping rule is relative to the gradient at zero, so a warm start stops where a cold one would
    g0 = float(np.linalg.norm(C * back(-0.5 * s * sign)))
    theta = np.zeros(d + 1) if start is None else np.append(start.coef, start.intercept).astype(float)
    for _ in range(max_iter):
        margin = sign * scores(theta)
        grad = reg * theta + C * back(-s * sign * _sigmoid(-margin))
        norm = float(np.linalg.norm(grad))
        if norm <= tol * max(g0, 1.0):
            break
        curvature = C * s * _sigmoid(margin) * _sigmoid(-margin)
        if with_ones is None:
            step = _conjugate_gradient(lambda v, c=curvature: reg * v + back(c * scores(v)), -grad,
                                       min(0.1, math.sqrt(norm / max(g0, 1.0))))
        else:
            hessian = with_ones.T @ (with_ones * curvature[:, None]) + np.diag(reg)
            step = np.linalg.solve(hessian + 1e-12 * np.eye(d + 1), -grad)
        theta = _line_search(objective, theta, step, float(grad @ step))
    return LogisticModel(theta[:d].copy(), float(theta[d]))


def _conjugate_gradient(hvp, b: np.ndarray, rtol: float, max_iter: int = 250) -> np.ndarray:
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    stop = (rtol * math.sqrt(rr)) ** 2
    for _ in range(max_iter):
        if rr <= stop:
            break
        hp = hvp(p)
        alpha = rr / float(p @ hp)
        x += alpha * p
        r -= alpha * hp
        new = float(r @ r)
        p = r + (new / rr) * p
        rr = new
    return x


def _line_search(objective, theta: np.ndarray, step: np.ndarray, slope: float) -> np.ndarray:
    """Backtracking (Armijo): the full Newton step when it decreases the objective enough, else halves."""
    base, t = objective(theta), 1.0
    for _ in range(40):
        if objective(theta + t * step) <= base + 1e-4 * t * slope:
            break
        t /= 2
    return theta + t * step


def stratified_folds(labels: np.ndarray, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs of `k` folds, each class dealt round-robin over the folds in a shuffled order."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        fold_of[members] = np.arange(len(members)) % k
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


# -- TF-IDF --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@cache
def english_stop_words() -> frozenset[str]:
    text = resources.files("brief").joinpath("data/english_stop_words.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


class TfIdf:
    """Word uni- and bigrams (after English stop words) weighted 1 + log(tf) times smoothed IDF, rows of unit
    length: scikit-learn's TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")."""

    def __init__(self, min_df: int = 2, max_features: int = 100_000):
        self.min_df = min_df
        self.max_features = max_features
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)

    @staticmethod
    def _terms(text: str) -> list[str]:
        stop = english_stop_words()
        words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    def fit(self, texts: list[str]) -> TfIdf:
        self._fit_counts([Counter(self._terms(text)) for text in texts])
        return self

    def transform(self, texts: list[str]) -> SparseRows:
        return self._rows(Counter(self._terms(text)) for text in texts)

    def fit_transform(self, texts: list[str]) -> SparseRows:
        """`fit(texts).transform(texts)`, each text tokenised once (tokenising is most of the cost)."""
        counted = [Counter(self._terms(text)) for text in texts]
        self._fit_counts(counted)
        return self._rows(counted)

    def _fit_counts(self, counted: list[Counter[str]]) -> None:
        df: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for counts in counted:
            df.update(counts.keys())
            total.update(counts)
        kept = [t for t, n in df.items() if n >= self.min_df]
        if len(kept) > self.max_features:  # the most frequent across the corpus, ties by term
            kept = sorted(kept, key=lambda t: (-total[t], t))[:self.max_features]
        kept.sort()
        self.vocabulary = {t: i for i, t in enumerate(kept)}
        self.idf = np.log((1 + len(counted)) / (1 + np.array([df[t] for t in kept], dtype=float))) + 1.0

    def _rows(self, counted: Iterable[Counter[str]]) -> SparseRows:
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        for terms in counted:
            counts: Counter[int] = Counter()
            for term, n in terms.items():
                if (i := self.vocabulary.get(term)) is not None:
                    counts[i] += n
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self.idf[cols]
            norm = float(np.linalg.norm(values))
            data.extend((values / norm if norm > 0 else values).tolist())
            indices.extend(cols.tolist())
            indptr.append(len(indices))
        return SparseRows(np.asarray(data, dtype=float), np.asarray(indices, dtype=np.int64),
                          np.asarray(indptr, dtype=np.int64), len(self.vocabulary))


# -- clustering ----------------------------------------------------------------------------------------------


def kmeans(X: np.ndarray, k: int, n_init: int = 10, seed: int = 0, max_iter: int = 300, tol: float = 1e-4) -> np.ndarray:
    """Cluster labels by Lloyd's algorithm from greedy k-means++ starts; the best of `n_init` by inertia."""
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(seed)
    limit = tol * float(np.mean(np.var(X, axis=0)))  # centre movement that counts as converged
    norms = (X**2).sum(axis=1)
    best, best_inertia = np.zeros(len(X), dtype=int), math.inf
    for _ in range(n_init):
        centres = _kmeans_plus_plus(X, k, rng)
        for _ in range(max_iter):
            dist = _squared_distances(X, norms, centres)
            labels = dist.argmin(axis=1)
            moved = centres.copy()
            for c in range(k):
                members = labels == c
                if members.any():
                    moved[c] = X[members].mean(axis=0)
                else:  # an empty cluster restarts at the point farthest from its centre
                    far = int(dist[np.arange(len(X)), labels].argmax())
                    moved[c], labels[far] = X[far], c
            shift = float(((moved - centres) ** 2).sum())
            centres = moved
            if shift <= limit:
                break
        dist = _squared_distances(X, norms, centres)
        labels = dist.argmin(axis=1)
        inertia = float(dist[np.arange(len(X)), labels].sum())
        if inertia < best_inertia - 1e-12:
            best, best_inertia = labels, inertia
    return best


def _squared_distances(X: np.ndarray, norms: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Point × centre squared Euclidean distances (`norms`: each point's squared length)."""
    return np.maximum(norms[:, None] - 2 * X @ centres.T + (centres**2).sum(axis=1)[None, :], 0.0)


def _kmeans_plus_plus(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++: each next centre the best of 2 + log k candidates drawn in proportion to D²."""
    trials = 2 + int(math.log(k))
    centres = [X[int(rng.integers(len(X)))]]
    closest = ((X - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:
            centres.append(X[int(rng.integers(len(X)))])
            continue
        candidates = np.searchsorted(np.cumsum(closest), rng.random(trials) * total).clip(max=len(X) - 1)
        options = [np.minimum(closest, ((X - X[c]) ** 2).sum(axis=1)) for c in candidates]
        pick = int(np.argmin([o.sum() for o in options]))
        centres.append(X[candidates[pick]])
        closest = options[pick]
    return np.array(centres)


def silhouette_cosine(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with cosine distance (a lone member of its cluster scores 0)."""
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    unit = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    dist = np.maximum(1.0 - unit @ unit.T, 0.0)
    clusters = np.unique(labels)
    member = labels[None, :] == clusters[:, None]  # cluster × point
    sums = dist @ member.T.astype(float)  # point × cluster: summed distance to each cluster's members
    sizes = member.sum(axis=1)
    own = np.searchsorted(clusters, labels)
    own_size = sizes[own]
    a = sums[np.arange(len(X)), own] / np.maximum(own_size - 1, 1)
    others = sums / sizes[None, :]
    others[np.arange(len(X)), own] = np.inf
    b = others.min(axis=1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


# -- measurement ---------------------------------------------------------------------------------------------


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Ranking AUC by the rank-sum (Mann-Whitney) statistic, ties counting half. Both classes must be present."""
    y = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    ranks = np.empty(len(scores))
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # mid-ranks, 1-based
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def beta_quantile(q: float, a: float, b: float) -> float:
    """The `q` quantile of Beta(a, b) (scipy.stats.beta.ppf), by bisection on the regularised incomplete beta."""
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if _incomplete_beta(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) by its continued fraction (modified Lentz), on the side where it converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _incomplete_beta(1.0 - x, b, a)
    log_front = a * math.log(x) + b * math.log1p(-x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return math.exp(log_front) * f / a
