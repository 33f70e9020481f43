"""brief.numeric against the reference implementations it replaces (scikit-learn and scipy, dev extra only):
the same optimum, the same features, the same statistics, on data shaped like the product's."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import beta
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, silhouette_score

from brief.numeric import (
    SparseRows,
    TfIdf,
    beta_quantile,
    fit_logistic,
    kmeans,
    roc_auc,
    silhouette_cosine,
    stratified_folds,
)


def _sparse(matrix: sp.csr_matrix) -> SparseRows:
    return SparseRows(matrix.data.astype(float), matrix.indices.astype(np.int64), matrix.indptr.astype(np.int64),
                      matrix.shape[1])


def _texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)] + ["the", "and", "of", "model", "agents", "LLM"]
    return [" ".join(rng.choice(words, size=rng.integers(1, 60), p=None)) for _ in range(n)]


def test_sparse_rows_products_selection_and_stacking():
    rng = np.random.default_rng(0)
    dense = rng.random((40, 25)) * (rng.random((40, 25)) < 0.2)
    dense[[3, 17]] = 0.0  # empty rows
    rows = _sparse(sp.csr_matrix(dense))
    v, u, M = rng.random(25), rng.random(40), rng.random((25, 7))
    assert np.allclose(rows @ v, dense @ v)
    assert np.allclose(rows @ M, dense @ M)
    assert np.allclose(rows.transpose_dot(u), dense.T @ u)
    pick = np.array([5, 3, 5, 39, 0])
    assert np.allclose(rows.take(pick).toarray(), dense[pick])
    assert np.allclose(rows.take(pick).stack(rows).toarray(), np.vstack([dense[pick], dense]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_logistic_reaches_lbfgs_optimum(seed):
    rng = np.random.default_rng(seed)
    n, d = 400, 30
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=1.5, size=n) > 1.0).astype(int)  # imbalanced
    w = rng.choice([0.3, 1.0, 3.0], size=n)
    ours = fit_logistic(X, y, w, C=1.0)
    ref = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, tol=1e-10, random_state=0).fit(X, y, sample_weight=w)
    assert np.allclose(ours.coef, ref.coef_[0], atol=1e-4)
    assert ours.intercept == pytest.approx(ref.intercept_[0], abs=1e-4)
    assert np.allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-3)


def test_sparse_logistic_reaches_liblinear_optimum():
    texts = _texts(300, 3)
    y = np.array([int("w1 " in t or "w2 " in t) for t in texts])
    X = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english").fit_transform(texts)
    w = np.where(np.arange(len(y)) % 4 == 0, 2.0, 1.0)
    ref = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", tol=1e-10, max_iter=10000,
                             random_state=0).fit(X, y, sample_weight=w)
    ours = fit_logistic(_sparse(X), y, w, C=10.0, penalise_intercept=True)
    assert np.allclose(ours.coef, ref.coef_[0], atol=1e-3)
    assert np.corrcoef(ours.decision_function(_sparse(X)), ref.decision_function(X))[0, 1] > 0.99999


def test_a_warm_start_reaches_the_cold_start_optimum():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 20))
    y = (X[:, 0] - X[:, 2] + rng.normal(size=500) > 0.8).astype(int)
    everything = fit_logistic(X, y)
    part = np.arange(500) % 5 != 0  # one fold's training set, started from the model of all examples
    cold, warm = fit_logistic(X[part], y[part]), fit_logistic(X[part], y[part], start=everything)
    assert np.allclose(warm.coef, cold.coef, atol=1e-6) and warm.intercept == pytest.approx(cold.intercept, abs=1e-6)
    texts = _texts(300, 3)
    labels = np.array([int("w1 " in t) for t in texts])
    rows = _sparse(TfidfVectorizer(min_df=2).fit_transform(texts))
    whole = fit_logistic(rows, labels, C=10.0, penalise_intercept=True)
    keep = np.flatnonzero(np.arange(300) % 4 != 0)
    cold = fit_logistic(rows.take(keep), labels[keep], C=10.0, penalise_intercept=True)
    warm = fit_logistic(rows.take(keep), labels[keep], C=10.0, penalise_intercept=True, start=whole)
    assert np.allclose(warm.coef, cold.coef, atol=1e-4)


def test_tfidf_matches_sklearn_features():
    texts = _texts(200, 4) + ["The agents and the LLM-based agents; an LLM model of agents."]
    ref = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english").fit(texts)
    ours = TfIdf().fit(texts)
    assert ours.vocabulary == ref.vocabulary_
    assert np.allclose(ours.transform(texts[:50]).toarray(), ref.transform(texts[:50]).toarray())
    unseen = ["w1 w2 w3 never seen words", ""]
    assert np.allclose(ours.transform(unseen).toarray(), ref.transform(unseen).toarray())
    once = TfIdf().fit_transform(texts)  # each text tokenised once: the same vocabulary and rows
    assert TfIdf().fit(texts).vocabulary == ours.vocabulary
    assert np.array_equal(once.toarray(), ours.transform(texts).toarray())


def test_tfidf_max_features_keeps_the_most_frequent():
    texts = ["alpha beta", "alpha beta", "alpha gamma", "alpha gamma delta", "delta epsilon", "epsilon alpha"]
    ours = TfIdf(min_df=1, max_features=2).fit(texts)
    assert ours.vocabulary == {"alpha": 0, "alpha beta": 1}  # alpha 5 times; then 2 each, ties broken by term


def test_kmeans_finds_separated_clusters_as_sklearn_does():
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(4, 16)) * 4
    X = np.vstack([c + rng.normal(size=(25, 16)) for c in centres])
    ours = kmeans(X, 4)
    ref = KMeans(n_clusters=4, n_init=4, random_state=0).fit_predict(X)
    pairs_same_ours = ours[:, None] == ours[None, :]
    pairs_same_ref = ref[:, None] == ref[None, :]
    assert (pairs_same_ours == pairs_same_ref).all()  # the same partition, whatever the label numbers
    assert len(set(kmeans(X[:5], 5).tolist())) == 5  # as many clusters as points: each alone


def test_silhouette_matches_sklearn_cosine():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 12))
    labels = rng.integers(0, 4, size=60)
    labels[7] = 9  # a cluster of one
    assert silhouette_cosine(X, labels) == pytest.approx(silhouette_score(X, labels, metric="cosine"), abs=1e-9)


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=500)
    scores = np.round(rng.normal(size=500) + y, 1)  # many ties
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


@pytest.mark.parametrize("q,a,b", [(0.025, 1, 20), (0.975, 3, 8), (0.5, 0.5, 0.5), (0.025, 12, 1), (0.975, 40, 200),
                                   (0.001, 2, 2)])
def test_beta_quantile_matches_scipy(q, a, b):
    assert beta_quantile(q, a, b) == pytest.approx(float(beta.ppf(q, a, b)), abs=1e-9)


def test_stratified_folds_partition_the_examples_and_spread_each_class():
    labels = np.array([1] * 13 + [0] * 40)
    folds = stratified_folds(labels, 5, seed=3)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(len(labels))), "every example is tested exactly once"
    assert all(set(train.tolist()).isdisjoint(test.tolist()) for train, test in folds)
    assert sorted(int(labels[test].sum()) for _, test in folds) == [2, 2, 3, 3, 3], "positives dealt evenly"
    assert [t.tolist() for _, t in folds] == [t.tolist() for _, t in stratified_folds(labels, 5, seed=3)], "seeded"
