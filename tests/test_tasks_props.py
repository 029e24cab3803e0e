"Property tests: extractors and verifiers on malformed outputs, traces, splits."
import random
from hypothesis import given, settings, strategies as st, HealthCheck
from warmstart_kit.tasks.families import get_task, split_of, ROLE_ID, _parse_expr
from warmstart_kit.tasks.tokenizer import char_tokenizer, encode_example

TASKS = [get_task('addition'), get_task('countdown'), get_task('addition', preset='hard'), get_task('countdown', preset='hard')]
text = st.text(alphabet=st.characters(codec='utf-8', exclude_categories=('Cs',)), max_size=200)
near = st.text(alphabet="0123456789+-*() A:;,\nxyz", max_size=80)

@settings(max_examples=300, deadline=None)
@given(st.one_of(text, near, st.none(), st.integers()))
def test_extract_and_verify_never_crash(s):
    for t in TASKS:
        a = t.extract(s)
        assert a is None or isinstance(a, str)
        label = '12' if t.name == 'addition' else '1 2 3>6'
        assert t.verify(s, label) in (True, False)
        if a is None: assert not t.verify(s, label)

@settings(max_examples=200, deadline=None)
@given(near)
def test_parser_total(s):
    out = _parse_expr(s)
    assert out is None or (isinstance(out[0], int) and all(isinstance(x, int) for x in out[1]))

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(range(len(TASKS))))
def test_reliable_strategy_always_verifies_and_roles_align(seed, ti):
    t = TASKS[ti]
    tok = char_tokenizer()
    for p in t.sample(5, 'train', seed=seed):
        tr = t.solve(p, rng=random.Random(seed))
        assert t.verify(tr.text, p.answer), (p, tr.text)
        assert t.strategy_of(tr.text) == t.default_strategy
        ex = encode_example(tok, p, tr)
        assert len(ex['input_ids']) == len(ex['roles'])
        assert tok.decode(ex['input_ids'][ex['start']:-1]) == tr.text
        assert ROLE_ID['plan'] in ex['roles'] and ROLE_ID['exec'] in ex['roles']
        assert t.verify(t.answer_only(p).text, p.answer)

def test_splits_disjoint_whatever_the_seed():
    for t in TASKS[:2]:
        tr = {p.key for s in range(3) for p in t.sample(150, 'train', seed=s)}
        te = {p.key for s in range(3) for p in t.sample(60, 'test', seed=s)}
        assert not tr & te
        assert all(split_of(t.name, k) == 'test' for k in te)
