"End to end: `warmstart study` on the smoke preset, and the shipped base checkpoints the default and full presets use."
import json
from dataclasses import asdict
import polars as pl
import pytest
from warmstart_kit.studies.warmstart import StudyConfig, shipped_base_dir
from warmstart_kit.models.checkpoints import load_checkpoint

def test_smoke_study(cli, smoke_run, tmp_path):
    out = smoke_run
    for f in ('summary', 'verdicts', 'per_problem', 'samples', 'passk', 'grpo_metrics', 'behaviours', 'perplexity', 'decomposition_steps'):
        assert (out / f'{f}.parquet').exists(), f
    s = pl.read_parquet(out / 'summary.parquet')
    assert sorted(set(s['dose'])) == [0.0, 0.5] and sorted(set(s['arm'])) == ['base', 'distill', 'distill_rl', 'rl']
    for c in ('pass@1', 'pass@kmax'):
        assert s[c].is_between(0, 1).all()
    assert (s['pass@kmax'] >= s['pass@1']).all()
    arms = s.filter(pl.col('arm') != 'base')
    assert ((arms['selection'] + arms['refinement'] + arms['new_behaviour'] - arms['d1']).abs() < 1e-9).all()   # the decomposition adds up
    pp = pl.read_parquet(out / 'per_problem.parquet')
    assert (pp['n'] == 8).all() and set(zip(pp['temperature'], pp['top_p'])) == {(0.6, 0.95), (1.0, 1.0)}
    cur = pl.read_parquet(out / 'passk.parquet')
    for _, g in cur.group_by('dose', 'model'):
        v = g.sort('k')['pass_at_k'].to_list(); assert all(b >= a - 1e-12 for a, b in zip(v, v[1:]))
    v = pl.read_parquet(out / 'verdicts.parquet')
    assert set(v['verdict']) <= {'reproduced', 'not reproduced', 'inconclusive', 'not testable here'} and v.height >= 6
    assert (v['verdict'] == 'not testable here').eq(v['note'] != '').all()          # every untestable row says why, and only those
    w = pl.read_parquet(out / 'weights.parquet')
    assert sorted(set(w['arm'])) == ['distill', 'distill_rl', 'rl'] and w.filter(pl.col('arm') == 'distill')['changed'].all()
    g = pl.read_parquet(out / 'grpo_metrics.parquet').filter(pl.col('arm') == 'rl').group_by('dose').agg((pl.col('grad_norm') > 0).any().alias('moved'))
    rl = w.filter(pl.col('arm') == 'rl').join(g, on='dose')
    assert (rl['changed'] == rl['moved']).all()     # RL's weights changed exactly where some step had a gradient (a group with reward variance)
    html = (out / 'report.html').read_text()
    assert 'What this run shows' in html and 'Verdicts' in html and '<script src' not in html and 'http' not in html
    assert 'One-shot RL' in html and 'Spurious rewards' in html
    for n in ('passk', 'behaviours', 'decomposition', 'one_shot', 'spurious'):
        assert (out / 'charts' / f'{n}.png').read_bytes()[:4] == b'\x89PNG'
        assert 'cdn.jsdelivr' not in (out / 'charts' / f'{n}.html').read_text()
    assert not list(out.parent.glob('.run.tmp*'))
    code, _, err = cli('study', '--preset', 'smoke', '--out', out, '--quiet')
    assert code == 2 and 'already exists' in err

def test_null_study_reproduces_nothing(cli, tmp_path):
    "The negative control: with every learning rate 0 no weight moves, so no finding may come out reproduced -- every one is not testable."
    out = tmp_path / 'run'
    code, _, err = cli('study', '--preset', 'null', '--out', out, '--quiet', '--device', 'cpu', '--workers', '1')
    assert code == 0, err
    w = pl.read_parquet(out / 'weights.parquet')
    assert w.height == 6 and not w['changed'].any() and (w['max_abs_change'] == 0).all()
    v = pl.read_parquet(out / 'verdicts.parquet')
    assert v.height >= 10 and set(v['verdict']) == {'not testable here'}, v.select('finding', 'verdict')
    assert 'No arm changed its base' in (out / 'report.html').read_text()

@pytest.mark.parametrize('preset', ['default', 'full'])
def test_shipped_bases_match_their_study(preset):
    "Every base the default and full studies use exists, loads, and was trained with the settings the study records."
    cfg = StudyConfig.from_dict({'preset': preset})
    for seed in cfg.seeds:
        for dose in cfg.doses:
            d = shipped_base_dir(cfg, dose, seed)
            model, tok, meta = load_checkpoint(d)
            want = json.loads(json.dumps(asdict(cfg.pretrain_config(dose, seed)), default=list))
            assert meta['pretrain'] == want, (dose, seed, {k: (meta['pretrain'].get(k), v) for k, v in want.items() if meta['pretrain'].get(k) != v})
            assert tok('1+2=').input_ids[0] == tok.bos_token_id            # shipped tokenizers add <bos> themselves

def test_band_difficulties_place_each_base_by_its_ladder(cli, tmp_path):
    "band:out runs each base on the first rung past its edge (read off its own ladder); a band no base reaches is refused before any RL."
    out = tmp_path / 'band'
    code, _, err = cli('study', '--preset', 'smoke', '--difficulties', 'easy', 'band:out', '--out', out, '--quiet', '--device', 'cpu', '--workers', '1')
    assert code == 0, err
    lad, place = pl.read_parquet(out / 'ladder.parquet'), pl.read_parquet(out / 'placement.parquet')
    assert place.height == 2 and set(place['difficulty']) == {'band:out'}
    for r in place.iter_rows(named=True):                      # each placement agrees with that base's own ladder
        mine = lad.filter((pl.col('dose') == r['dose']) & (pl.col('seed') == r['seed']))
        in_band = mine.filter(pl.col('band') == r['band'])['rung'].to_list()
        assert (r['rung'] is None) == (not in_band) and (r['rung'] is None or r['rung'] in in_band)
        if r['rung'] is not None: assert r['preset'] == f"digits-{r['rung']}" and r['band'] == 'out of reach' and r['rung'] == min(in_band)
    s = pl.read_parquet(out / 'summary.parquet')
    placed = {(r['dose'], r['difficulty']) for r in place.iter_rows(named=True) if r['rung'] is not None}
    assert {(r['dose'], r['difficulty']) for r in s.filter(pl.col('difficulty').str.starts_with('band:')).iter_rows(named=True)} == placed
    assert 'RL problems placed by competence' in (out / 'report.html').read_text()
    code, _, err = cli('study', '--preset', 'default', '--difficulties', 'band:edge', '--out', tmp_path / 'x', '--quiet')
    assert code == 2 and "difficulty 'band:edge' places each base's RL problems by its competence ladder: set ladder" in err and not (tmp_path / 'x').exists()
    code, _, err = cli('study', '--preset', 'smoke', '--difficulties', 'easy', 'band:edge', '--out', tmp_path / 'y', '--quiet', '--device', 'cpu',
                       '--workers', '1')
    assert code == 2 and "difficulty 'band:edge': no base has a ladder rung in the 'edge' band (rungs [2, 3])" in err and not (tmp_path / 'y').exists()
