"End to end: `warmstart study` on the smoke preset, and the shipped base checkpoints the default preset uses."
import json, re
import polars as pl
import pytest
from warmstart_kit.study import StudyConfig, shipped_base_dir
from warmstart_kit.checkpoints import load_checkpoint
from dataclasses import asdict

def test_smoke_study(cli, smoke_run, tmp_path):
    out = smoke_run
    for f in ('summary', 'per_problem', 'samples', 'passk', 'grpo_metrics', 'accuracy_histogram'):
        assert (out / f'{f}.parquet').exists(), f
    s = pl.read_parquet(out / 'summary.parquet')
    assert s['dose'].to_list() == [0.0, 0.5, 1.0]
    for c in ('base_pass@1', 'rl_pass@1', 'base_pass@kmax', 'rl_pass@kmax'):
        assert s[c].is_between(0, 1).all()
    assert (s['base_pass@kmax'] >= s['base_pass@1']).all()
    pp = pl.read_parquet(out / 'per_problem.parquet')
    assert pp.height == 3 * 2 * 8 and (pp['n'] == 8).all()
    cur = pl.read_parquet(out / 'passk.parquet')
    for (d, m), g in cur.group_by('dose', 'model'):
        v = g.sort('k')['pass_at_k'].to_list(); assert all(b >= a - 1e-12 for a, b in zip(v, v[1:]))
    html = (out / 'report.html').read_text()
    assert html.count('data:image/png;base64,') == 7 and 'crossover_k' in html and '<script src' not in html
    assert 'One-shot RL' in html and 'Spurious rewards' in html
    for n in ('passk', 'accuracy_histogram', 'grpo_accuracy', 'strategy_share', 'one_shot', 'spurious', 'spurious_clipping'):
        assert (out / 'charts' / f'{n}.png').read_bytes()[:4] == b'\x89PNG'
        assert 'cdn.jsdelivr' not in (out / 'charts' / f'{n}.html').read_text()
    assert not list(out.parent.glob('.run.tmp*'))
    code, _, err = cli('study', '--preset', 'smoke', '--out', out, '--quiet')
    assert code == 2 and 'already exists' in err

def test_shipped_bases_match_default_study():
    "The default study's base checkpoints exist, load, and were trained with the settings the study records."
    cfg = StudyConfig.from_dict({'preset': 'default'})
    for dose in cfg.doses:
        d = shipped_base_dir(cfg, dose)
        model, tok, meta = load_checkpoint(d)
        want = asdict(cfg.pretrain_config(dose))
        got = meta['pretrain']
        for k in ('task', 'task_preset', 'dose', 'model_preset', 'steps', 'batch_size', 'lr', 'seed'):
            assert got[k] == want[k], (dose, k, got[k], want[k])
