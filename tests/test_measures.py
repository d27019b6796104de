"""Measures: closed forms, identities as properties over random discrete data and weights."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gib
from gib.measures import distribution_entropy, synergy_ratio


def all_bits(n):
    return np.array(list(itertools.product([0, 1], repeat=n)))


# -- closed forms --------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3])
def test_xor_is_one_bit_of_synergy(n):
    X = all_bits(n)
    v = np.bitwise_xor.reduce(X, axis=1)
    t = gib.leave_one_out(X, v, estimator="discrete")
    assert t.joint == pytest.approx(1.0)
    np.testing.assert_allclose(t.single, 0, atol=1e-12)
    # for n = 3 the complements are pairs of bits, which say nothing about a 3-bit XOR
    np.testing.assert_allclose(t.complement, 0 if n == 3 else 0, atol=1e-12)
    assert gib.synergy(X, v, estimator="discrete") == pytest.approx(1.0)


def test_and_has_the_closed_form_synergy():
    X = all_bits(2)
    v = X[:, 0] & X[:, 1]
    h = lambda p: -p * np.log2(p) - (1 - p) * np.log2(1 - p)  # noqa: E731
    i_joint = h(0.25)  # V is a function of X
    i_single = h(0.25) - 0.5 * h(0.5)  # H(V) - H(V|X_1): V = X_2 when X_1 = 1
    assert gib.synergy(X, v, estimator="discrete") == pytest.approx(i_joint - 2 * i_single)
    assert gib.synergy(X, v, estimator="discrete") == pytest.approx(0.1887218755)


def test_a_copied_feature_is_redundant():
    a = all_bits(1)[:, 0].repeat(4)
    X = np.column_stack([a, a])
    assert gib.synergy(X, a, estimator="discrete") == pytest.approx(-1.0)
    assert gib.synergy(X, a, estimator="discrete", kind="sum_vs_whole") == pytest.approx(-1.0)


def test_independent_features_have_no_synergy():
    X = all_bits(3)
    assert gib.synergy(X, X[:, 0], estimator="discrete") == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(200_000, 2))
    # sampled: only the empirical dependence of the two columns remains, -I(X_1;X_2)
    i_12 = gib.mutual_information(X[:, 0], X[:, 1], estimator="discrete")
    assert gib.synergy(X, X[:, 0], estimator="discrete") == pytest.approx(-i_12, abs=1e-12)
    assert i_12 < 1e-4
    # V independent of everything: only plug-in bias remains, which vanishes with N
    v = rng.integers(0, 2, size=200_000)
    assert abs(gib.synergy(X, v, estimator="discrete")) < 1e-4


# -- identities as properties --------------------------------------------------------------
@st.composite
def discrete_data(draw, min_features=2):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(min_features, 4))
    X = draw(arrays(np.int64, (n_samples, n_features), elements=st.integers(0, 3)))
    v = draw(arrays(np.int64, (n_samples,), elements=st.integers(0, 3)))
    weights = draw(
        st.none() | arrays(np.float64, (n_samples,), elements=st.floats(0.01, 10.0))
    )
    return X, v, weights


TOL = 1e-9
settings.register_profile("gib", max_examples=60, deadline=None)
settings.load_profile("gib")


@given(discrete_data())
def test_mutual_information_is_nonnegative_and_symmetric(data):
    X, v, w = data
    i_xv = gib.mutual_information(X, v, estimator="discrete", weights=w)
    i_vx = gib.mutual_information(v, X, estimator="discrete", weights=w)
    assert i_xv >= -TOL
    assert i_xv == pytest.approx(i_vx, abs=TOL)
    h_v = gib.entropy(v, estimator="discrete", weights=w)
    assert i_xv <= h_v + TOL


@given(discrete_data())
def test_chain_rule(data):
    X, v, w = data
    H = lambda *cols: gib.entropy(np.column_stack(cols), estimator="discrete", weights=w)  # noqa: E731
    A, B = X[:, :1], X[:, 1:]
    i_ab = gib.mutual_information(X, v, estimator="discrete", weights=w)
    i_a = gib.mutual_information(A, v, estimator="discrete", weights=w)
    i_b_given_a = H(A, B) + H(A, v) - H(A) - H(A, B, v)
    assert i_b_given_a >= -TOL
    assert i_ab == pytest.approx(i_a + i_b_given_a, abs=TOL)


@given(discrete_data())
def test_synergy_is_at_most_the_joint_information(data):
    X, v, w = data
    t = gib.leave_one_out(X, v, estimator="discrete", weights=w)
    for kind in ("featurewise", "sum_vs_whole"):
        assert gib.synergy_from(t, kind) <= t.joint + TOL
    assert np.all(t.complement <= t.joint + TOL)  # monotonicity of MI
    assert np.all(t.single <= t.joint + TOL)


@given(discrete_data())
def test_featurewise_equals_sum_vs_whole_for_two_features(data):
    X, v, w = data
    X = X[:, :2]
    fw = gib.synergy(X, v, estimator="discrete", weights=w)
    svw = gib.synergy(X, v, estimator="discrete", kind="sum_vs_whole", weights=w)
    assert fw == pytest.approx(svw, abs=TOL)


@given(discrete_data(), st.randoms(use_true_random=False))
def test_invariant_to_relabelling_values_and_permuting_samples(data, rnd):
    X, v, w = data
    base = gib.leave_one_out(X, v, estimator="discrete", weights=w)
    # relabel: an injective map of each column's values and of v's values
    maps = [rnd.sample(range(100), 4) for _ in range(X.shape[1] + 1)]
    Xr = np.column_stack([np.take(maps[j], X[:, j]) for j in range(X.shape[1])])
    vr = np.take(maps[-1], v)
    perm = np.array(rnd.sample(range(len(v)), len(v)))
    wp = None if w is None else w[perm]
    for other in (
        gib.leave_one_out(Xr, vr, estimator="discrete", weights=w),
        gib.leave_one_out(X[perm], v[perm], estimator="discrete", weights=wp),
    ):
        assert other.joint == pytest.approx(base.joint, abs=TOL)
        np.testing.assert_allclose(other.single, base.single, atol=TOL)
        np.testing.assert_allclose(other.complement, base.complement, atol=TOL)


@given(discrete_data())
def test_fast_leave_one_out_equals_the_direct_computation(data):
    X, v, w = data
    est = gib.get_estimator("discrete")
    fast, direct = est.leave_one_out(X, v, w), est.leave_one_out_direct(X, v, w)
    assert fast.joint == pytest.approx(direct.joint, abs=TOL)
    np.testing.assert_allclose(fast.single, direct.single, atol=TOL)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=TOL)


def test_integer_weights_equal_repeated_samples():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, size=(50, 3))
    v = rng.integers(0, 2, size=50)
    reps = rng.integers(1, 4, size=50)
    weighted = gib.leave_one_out(X, v, estimator="discrete", weights=reps)
    repeated = gib.leave_one_out(X.repeat(reps, axis=0), v.repeat(reps), estimator="discrete")
    assert weighted.joint == pytest.approx(repeated.joint)
    np.testing.assert_allclose(weighted.complement, repeated.complement)


# -- PMI weights ---------------------------------------------------------------------------
def test_pmi_weights_of_a_perfect_predictor_equalise_the_classes():
    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    w = gib.pmi_weights(y, y)
    assert w.sum() == pytest.approx(1.0)
    for c in range(3):
        assert w[y == c].sum() == pytest.approx(1 / 3)


def test_pmi_weights_of_an_independent_predictor_are_uniform():
    yhat, y = np.repeat([0, 1], 50), np.tile([0, 1], 50)
    np.testing.assert_allclose(gib.pmi_weights(yhat, y), 1 / 100)


def test_pmi_weights_favour_correct_predictions():
    y = np.repeat([0, 1], 50)
    yhat = y.copy()
    yhat[:10] = 1  # ten mistakes
    w = gib.pmi_weights(yhat, y)
    assert w[yhat == y].min() > w[yhat != y].max()


def test_pmi_weights_bin_real_valued_outputs():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    w = gib.pmi_weights(y + 0.01 * rng.normal(size=500), y, n_bins=10)
    assert w.shape == (500,) and w.sum() == pytest.approx(1.0)
    assert np.all(w > 0)


# -- the synergy ratio (App. E.2) on toys with known answers -----------------------------------
def test_distribution_entropy_of_known_distributions():
    assert distribution_entropy([0.25] * 4) == pytest.approx(2.0, abs=1e-12)
    assert distribution_entropy([1.0, 0.0, 0.0]) == 0.0  # 0 log 0 = 0, no NaN
    # 0.75 / 0.25: -(3/4) log2(3/4) - (1/4) log2(1/4) = 2 - (3/4) log2 3
    rows = distribution_entropy(np.array([[0.75, 0.25], [0.5, 0.5]]))
    np.testing.assert_allclose(rows, [2 - 0.75 * np.log2(3), 1.0], rtol=0, atol=1e-12)


def test_perfect_student_of_a_confident_invariant_teacher_gives_zero():
    # one-hot teacher whose output does not depend on the augmentation; the student copies it
    teacher = np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3]]
    result = synergy_ratio(teacher, teacher)
    assert result.cross_entropy == pytest.approx(0.0, abs=1e-12)
    assert result.marginal_entropy == pytest.approx(2.0)  # four balanced classes
    assert result.ratio == pytest.approx(0.0, abs=1e-12)


def test_perfect_student_of_a_soft_teacher_reaches_the_teachers_own_entropy():
    # the paper's numerator is the raw cross-entropy, so a perfect student scores H(Y_T | X), not 0
    teacher = np.array([[0.5, 0.5], [1.0, 0.0]])
    result = synergy_ratio(teacher, teacher)
    assert result.cross_entropy == pytest.approx(0.5)  # (1 bit + 0 bits) / 2
    assert result.mean_entropy == pytest.approx(0.5)
    assert result.marginal_entropy == pytest.approx((2 - 0.75 * np.log2(3)))  # 0.8113 bits
    assert result.ratio == pytest.approx(0.5 / (2 - 0.75 * np.log2(3)))
    assert result.excess == pytest.approx(0.0, abs=1e-12)


def test_best_constant_student_gives_exactly_one():
    rng = np.random.default_rng(0)
    teacher = rng.dirichlet(np.ones(5), size=200)
    marginal = np.tile(teacher.mean(0), (200, 1))
    assert synergy_ratio(teacher, marginal).ratio == pytest.approx(1.0)


def test_output_set_by_the_augmentation_alone_is_all_synergy():
    # each clean image has two augmented views that the teacher labels 0 and 1: the best a
    # clean-image student can do is 50/50, 1 bit, which is all of H(Y_T) = 1 bit
    teacher = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    student = np.full((4, 2), 0.5)
    result = synergy_ratio(teacher, student)
    assert (result.cross_entropy, result.marginal_entropy, result.ratio) == pytest.approx((1.0, 1.0, 1.0))


def test_synergy_ratio_checks_its_inputs():
    with pytest.raises(ValueError, match="same shape"):
        synergy_ratio(np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match="probability vectors"):
        synergy_ratio(np.array([[0.5, 0.6]]), np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="undefined"):
        synergy_ratio(np.eye(2)[[0, 0]], np.eye(2)[[0, 0]])
