"RLP (warmstart_kit.rlp): the reward, the EMA, where gradients flow, the thought span, resume, and `warmstart rlp` end to end at a tiny size."
import copy, json
from dataclasses import replace
import polars as pl
import pytest, torch
from warmstart_kit.cli.main import main
from warmstart_kit.models.build import make_model
from warmstart_kit.tasks.tokenizer import char_tokenizer, encode_example
from warmstart_kit.sampling.sampler import get_scorer
from warmstart_kit.models.checkpoints import latest_checkpoint, load_trainer_state
from warmstart_kit.rl.rlp import (RLPConfig, step_documents, rlp_targets, sample_thoughts, cut_thoughts, thought_rows, rlp_rewards, rlp_advantages, rlp_loss,
                                  ema_update, make_ema, rlp_train)

torch.set_num_threads(1)
TK = char_tokenizer()
TINY = dict(task_preset='easy', batch_size=8, rlp_docs=2, G=4, thought_len=12, lr=1e-3, warmup=1)

@pytest.fixture(scope='module')
def batch():
    "A model, a config, and the thoughts of step 0 with their rows."
    cfg = RLPConfig(**TINY)
    m = make_model('test', seed=0)
    exs = [encode_example(TK, p, t) for p, t in step_documents(cfg, 0)]
    ctx, tgt = rlp_targets(exs, TK, cfg, 0)
    th = sample_thoughts(m, TK, ctx, tgt, cfg, seed=1)
    return m, cfg, th, thought_rows(th)

def test_reward_is_exactly_zero_for_an_empty_thought_when_theta_is_phi(batch):
    m, cfg, th, _ = batch
    D = len(th.contexts)
    empty = replace(th, index=torch.arange(D), tokens=torch.zeros(D, 1, dtype=torch.long), mask=torch.zeros(D, 1, dtype=torch.bool),
                    logprobs=torch.zeros(D, 1), ended=['close'] * D, texts=[''] * D)
    for norm in ('mean', 'sum'):
        r = rlp_rewards(m, copy.deepcopy(m), empty, get_scorer('auto', 'cpu'), norm=norm)
        assert r['reward'].tolist() == [0.0] * D and (r['logp_thought'] < 0).all()
    # a real thought under theta = phi is not zero in general (it changes what the next tokens are conditioned on)
    r = rlp_rewards(m, copy.deepcopy(m), th, get_scorer('auto', 'cpu'))
    assert (r['reward'] != 0).any()

def test_advantage_is_leave_one_out():
    r = torch.tensor([3.0, -1.0, 0.5, 2.0, 0.0, 0.0, 1.0, -4.0])
    A = rlp_advantages(r, 4)
    for i in range(8):
        g = r[i // 4 * 4: i // 4 * 4 + 4]
        assert torch.isclose(A[i], r[i] - (g.sum() - r[i]) / 3, atol=1e-6)

def test_ema_update_matches_its_formula():
    theta, phi = make_model('test', seed=1), make_model('test', seed=2)
    ema = make_ema(phi); before = [p.detach().double().clone() for p in ema.parameters()]
    for tau in (0.999, 0.5):
        ema_update(ema, theta, tau)
        for b, e, t in zip(before, ema.parameters(), theta.parameters()):
            assert torch.allclose(e.double(), tau * b + (1 - tau) * t.detach().double(), atol=1e-7)
        before = [p.detach().double().clone() for p in ema.parameters()]
    assert not any(p.requires_grad for p in ema.parameters())

def test_thought_span_is_exact(batch):
    _, cfg, th, (rows, tm, gm) = batch
    close, eos = TK.convert_tokens_to_ids(';'), TK.eos_token_id
    for r in range(len(th.texts)):
        toks = th.tokens[r][th.mask[r]].tolist()
        stops = [i for i, t in enumerate(th.tokens[r].tolist()) if t in (close, eos)]
        assert len(toks) == (stops[0] + 1 if stops else cfg.thought_len)          # up to and including the first ; or <eos>
        assert rows[r][tm[r]].tolist() == toks and rows[r][gm[r]].tolist() == th.targets[int(th.index[r])]
        assert not (tm[r] & gm[r]).any() and int(tm[r].sum()) + int(gm[r].sum()) == int((tm[r] | gm[r]).sum())
    ids = TK('col:1+1=2;A:2', add_special_tokens=False).input_ids
    mask, ended = cut_thoughts(torch.tensor([ids]), close, eos)
    assert TK.decode(torch.tensor(ids)[mask[0]]) == 'col:1+1=2;' and ended == ['close']

def test_gradients_flow_only_through_thought_tokens(batch):
    m, cfg, th, (rows, tm, gm) = batch
    adv = rlp_advantages(torch.randn(len(th.texts)), cfg.G)
    score = get_scorer('auto', 'cpu')
    lp = torch.randn(rows.shape, requires_grad=True)
    g, = torch.autograd.grad(rlp_loss(lp, lp.detach(), adv, tm)[0], lp)
    assert (g[~tm] == 0).all() and (g[tm] != 0).any()
    def grads(rws):
        l, _ = score(m, th.prompts(), th.index, rws, 1.0, 0)
        return torch.autograd.grad(rlp_loss(l, l.detach(), adv, tm)[0], list(m.parameters()))
    other = rows.clone(); other[gm] = (other[gm] + 11) % 58 + 4                  # every next token replaced
    assert all(torch.equal(a, b) for a, b in zip(grads(rows), grads(other)))

def test_resume_is_identical_to_an_uninterrupted_run(tmp_path):
    kw = {**TINY, 'steps': 4, 'checkpoint_every': 2, 'minibatches': 2, 'seed': 7}
    m1 = make_model('test', seed=0); full = rlp_train(m1, TK, RLPConfig(**kw), run_dir=tmp_path / 'a', device='cpu', progress=False)
    class Stop(Exception): pass
    def stop(step, row, model):
        if step == 1: raise Stop
    with pytest.raises(Stop): rlp_train(make_model('test', seed=0), TK, RLPConfig(**kw), run_dir=tmp_path / 'b', device='cpu', progress=False, callback=stop)
    assert latest_checkpoint(tmp_path / 'b').name == 'step-2'
    m2 = make_model('test', seed=3)
    res = rlp_train(m2, TK, RLPConfig(**kw), run_dir=tmp_path / 'b', device='cpu', progress=False, resume=True)
    cols = [c for c in full.columns if not c.endswith('_s')]
    assert full.select(cols).equals(res.select(cols))
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    e1, e2 = (load_trainer_state(tmp_path / d / 'checkpoints' / 'final')['ema'] for d in 'ab')
    assert all(torch.equal(e1[k], e2[k]) for k in e1)

def _cli(capsys, *args):
    try: code = main([str(a) for a in args])
    except SystemExit as e: code = e.code
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    return code, err

@pytest.mark.parametrize('args,needle', [
    (['--G', '1'], 'G must be >= 2'),
    (['--rlp-weight', '-1'], 'rlp_weight must be >= 0'),
    (['--think-close', ';;'], 'think_close must be one character'),
    (['--position', 'middle'], 'position must be one of answer, random'),
    (['--preset', 'huge'], "unknown RLP study preset 'huge'"),
    (['--tau', 'nan'], 'expected a finite number'),
    (['--preset', 'planted', '--rl-preset', 'pretrain'], 'no bundled evaluation set addition-pretrain.jsonl'),
    (['--preset', 'planted', '--dose', '0.2'], 'no shipped base was pretrained on task addition/pretrain, dose 0.2'),
])
def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, args, needle):
    code, err = _cli(capsys, 'rlp', '--out', tmp_path / 'o', *args)
    assert code == 2 and len(err) == 1 and err[0].startswith('warmstart: error: ') and needle in err[0], err
    assert list(tmp_path.iterdir()) == []

def test_cli_smoke_study_writes_its_report(capsys, tmp_path):
    out = tmp_path / 'rlp[1]'            # a path polars would read as a glob: the study must not
    code, err = _cli(capsys, 'rlp', '--preset', 'smoke', '--out', out, '--workers', '1', '--quiet', '--device', 'cpu')
    assert code == 0, err
    html = (out / 'report.html').read_text()
    assert 'Verdict' in html and 'data:image/png;base64,' in html and 'rlp - ntp' in html
    cmp = pl.read_parquet(out / 'comparison.parquet', glob=False)
    assert cmp['stage'].to_list() == ['before RL', 'before RL', 'after RL', 'after RL']
    assert json.loads((out / 'study_config.json').read_text())['rlp']['G'] == 4
    code, err = _cli(capsys, 'rlp', '--preset', 'smoke', '--out', out, '--quiet')
    assert code == 2 and 'already exists' in err[0]

def test_cli_planted_preset_starts_from_the_planted_base(capsys, tmp_path):
    """`--preset planted` finds the warm-start study's shipped dose-0.15 base (correct and flawed procedures planted),
    reads its corpus and evaluates on the default problems: its probe shows the flawed procedure, which the default
    preset's dose-0.1 base never saw."""
    out = tmp_path / 'p'
    code, err = _cli(capsys, 'rlp', '--preset', 'planted', '--out', out, '--steps', '2', '--rlp-docs', '1', '--G', '2', '--grpo-steps', '1',
                     '--n-eval', '2', '--n-samples', '2', '--seeds', '0', '--workers', '1', '--device', 'cpu', '--no-report', '--quiet')
    assert code == 0, err
    cfg = json.loads((out / 'study_config.json').read_text())
    assert (cfg['rl_preset'], cfg['rlp']['task_preset'], cfg['rlp']['dose'], cfg['rlp']['flawed_share']) == ('default', 'pretrain', 0.15, 0.5)
    probe = pl.read_parquet(out / 'probe_all.parquet')
    assert {'column', 'nocarry'} <= set(probe['strategy'])
