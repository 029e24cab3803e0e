"Property tests of the pass@k estimator against exact combinatorics."
import math
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings, strategies as st
from warmstart_kit.analysis.passk import pass_at_k, bootstrap_pass_at_k, crossover_k, accuracy_histogram

@st.composite
def nck(draw):
    n = draw(st.integers(1, 300)); c = draw(st.integers(0, n)); k = draw(st.integers(1, n))
    return n, c, k

@settings(max_examples=400, deadline=None)
@given(nck())
def test_matches_exact_combinatorics(x):
    n, c, k = x
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-9)

@settings(max_examples=100, deadline=None)
@given(st.lists(nck(), min_size=1, max_size=30))
def test_vectorised_equals_scalar(xs):
    n, c, k = map(np.array, zip(*xs))
    np.testing.assert_allclose(pass_at_k(n, c, k), [pass_at_k(*x) for x in xs], atol=1e-12)

@settings(max_examples=100, deadline=None)
@given(st.integers(2, 200), st.data())
def test_monotone_in_k(n, data):
    c = data.draw(st.integers(0, n))
    vals = [pass_at_k(n, c, k) for k in range(1, n + 1)]
    assert all(b >= a - 1e-12 for a, b in zip(vals, vals[1:]))
    assert vals[0] == pytest.approx(c / n)

def test_edges():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 1, 10) == 1.0       # k = n: solved if any sample is right
    assert pass_at_k(10, 3, 8) == 1.0        # n - c < k
    assert pass_at_k(1000, 1, 1) == pytest.approx(1e-3)

@pytest.mark.parametrize('n,c,k,msg', [(64, 3, 70, 'k=70 > n=64'), (10, 11, 1, 'c'), (10, 3, 0, 'k'), (-1, 0, 1, 'negative')])
def test_bad_input(n, c, k, msg):
    with pytest.raises(ValueError, match=msg.split()[0] if msg != 'negative' else None):
        pass_at_k(n, c, k)

def test_curve_band_and_crossover():
    rng = np.random.default_rng(0)
    n = 32
    base = rng.binomial(n, rng.beta(0.5, 1.5, 200))
    rl = np.where(base > 0, np.minimum(n, base * 3), 0)      # sharper, never solves anything new
    df = pl.DataFrame({'model': ['base'] * 200 + ['rl'] * 200, 'problem_id': list(range(200)) * 2,
                       'n': [n] * 400, 'c': np.concatenate([base, rl])})
    cur = bootstrap_pass_at_k(df, by=['model'], n_boot=200, seed=1)
    assert (cur['lo'] <= cur['pass_at_k'] + 1e-12).all() and (cur['pass_at_k'] <= cur['hi'] + 1e-12).all()
    b, r = (cur.filter(pl.col('model') == m).select('k', 'pass_at_k') for m in ('base', 'rl'))
    assert float(r['pass_at_k'][0]) > float(b['pass_at_k'][0])
    assert crossover_k(b, r) == 32                       # same solvable set: equal at k = n, RL ahead below
    h = accuracy_histogram(df.filter(pl.col('model') == 'base'))
    assert h['count'].sum() == 200 and h.height == 12
