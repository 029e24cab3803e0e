"The `warmstart` command line: help, bad input (one line, exit 2, nothing written), and the commands end to end."
import json
import polars as pl
import pytest

def one_error_line(err):
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith('warmstart: error: '), err
    return lines[0]

def test_help():
    "The installed console script (a new process), its help and a subcommand's."
    from conftest import run_cli
    code, out, _ = run_cli('--help')
    assert code == 0 and all(c in out for c in ('study', 'pretrain', 'rl', 'eval'))
    code, out, _ = run_cli('rl', '--help')
    assert code == 0 and '--loss-agg' in out and '--opt-steps-per-rollout' in out and '--reward' in out

@pytest.mark.parametrize('args,needle', [
    (['study', '--preset', 'nope'], "unknown study preset 'nope'"),
    (['study', '--doses', '0.5', '-0.1'], 'dose must be in [0, 1], got -0.1'),
    (['pretrain', '--task', 'sudoku', '--steps', '1'], "unknown task 'sudoku'"),
    (['pretrain', '--dose', '-1', '--steps', '1'], 'dose must be in [0, 1], got -1.0'),
    (['eval', '--model', 'data', '--n', '8', '--k', '1', '16'], 'k=16 > n=8 samples'),
    (['eval', '--model', 'data', '--n', '8', '--task', 'sudoku'], "unknown task 'sudoku'"),
    (['rl', '--model', 'data'], 'has no config.json'),
    (['rl', '--model', 'data', '--loss-agg', 'mean'], 'loss_agg must be'),
    (['rl', '--model', 'data', '--reward', 'grund_truth'], "unknown reward 'grund_truth'"),
])
def test_bad_input_one_line_exit_2(cli, tmp_path, args, needle):
    out = tmp_path / 'out'
    if args[0] == 'pretrain': args = args + ['--out', out]
    elif '--out' not in args: args = args + ['--out', out]
    code, _, err = cli(*args)
    assert code == 2
    assert needle in one_error_line(err)
    assert not out.exists() and not any(tmp_path.iterdir())

def test_unknown_config_key(cli, tmp_path):
    cfg = tmp_path / 'c.json'; cfg.write_text(json.dumps({'preset': 'smoke', 'n_sampels': 8}))
    code, _, err = cli('study', '--config', cfg, '--out', tmp_path / 'o')
    assert code == 2 and "unknown study config key(s) ['n_sampels']" in one_error_line(err)
    cfg.write_text(json.dumps({'steps': 1, 'lr': 1e-3, 'bogus': 1}))
    code, _, err = cli('pretrain', '--config', cfg, '--out', tmp_path / 'p')
    assert code == 2 and "unknown pretrain config key(s) ['bogus']" in one_error_line(err)
    assert not (tmp_path / 'o').exists() and not (tmp_path / 'p').exists()

def test_pretrain_rl_eval_chain(cli, tmp_path):
    "The documented command that regenerates base checkpoints, at a tiny size, then RL and eval on its output."
    code, out, err = cli('pretrain', '--task-preset', 'easy', '--model-preset', 'test', '--dose', '0', '1', '--steps', '20',
                         '--batch-size', '16', '--out', tmp_path / 'base', '--quiet', '--device', 'cpu')
    assert code == 0, err
    for d in ('dose-0', 'dose-1'):
        meta = json.loads((tmp_path / 'base' / d / 'warmstart.json').read_text())
        assert meta['dose'] == float(d[5:]) and meta['pretrain']['steps'] == 20 and abs(sum(meta['pretrain']['behaviours'].values()) - 1) < 1e-9
    code, out, err = cli('rl', '--model', tmp_path / 'base' / 'dose-1', '--out', tmp_path / 'rl', '--steps', '2',
                         '--prompts-per-step', '4', '--group-size', '4', '--max-new-tokens', '16', '--task-preset', 'easy',
                         '--reward', 'format AND NOT behaviour:nocarry', '--quiet', '--device', 'cpu')
    assert code == 0, err
    m = pl.read_parquet(tmp_path / 'rl' / 'metrics.parquet')
    assert m.height == 2 and m['ratio_mean'][0] == 1.0 and 'reward/format AND NOT behaviour:nocarry' in m.columns
    code, out, err = cli('eval', '--model', tmp_path / 'base' / 'dose-1', '--model', tmp_path / 'rl' / 'checkpoints' / 'final',
                         '--task-preset', 'easy', '--problems', '4', '--n', '8', '--max-new-tokens', '16', '--out', tmp_path / 'ev', '--quiet')
    assert code == 0, err
    cur = pl.read_parquet(tmp_path / 'ev' / 'passk.parquet')
    assert sorted(cur['k'].unique().to_list()) == [1, 2, 4, 8] and cur['model'].n_unique() == 2
    assert (tmp_path / 'ev' / 'passk.png').read_bytes()[:4] == b'\x89PNG'

def test_bases_command_at_a_tiny_size(tmp_path):
    "`make bases` (one seed) is the documented command that regenerates the shipped bases; at a tiny size it writes what the studies expect."
    import subprocess
    from dataclasses import asdict
    from conftest import ROOT
    from warmstart_kit.studies.warmstart import StudyConfig
    r = subprocess.run(['make', '-s', 'base-seed-0', f'BASE_DIR={tmp_path}', 'BASE_SIZE=--model-preset test --tokens 2000'], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    cfg = StudyConfig.from_dict({'preset': 'default'})
    for dose in cfg.doses:
        meta = json.loads((tmp_path / 'seed-0' / f'dose-{dose:g}' / 'warmstart.json').read_text())
        want = json.loads(json.dumps(asdict(cfg.pretrain_config(dose, 0)), default=list))
        got = meta['pretrain']
        assert {k: got[k] for k in want if k not in ('model_preset', 'tokens')} == {k: v for k, v in want.items() if k not in ('model_preset', 'tokens')}
        assert (got['model_preset'], got['tokens']) == ('test', 2000)

def test_eval_labels_models_apart(cli, tmp_path):
    "Two models were both labelled with the same (truncated) path; now each gets the part of its path that differs, or its --name."
    from warmstart_kit.core.files import data_dir
    root = data_dir() / 'base' / 'addition-pretrain-micro'
    a, b = root / 'seed-0' / 'dose-0.6', root / 'seed-1' / 'dose-0.6'
    small = ['--problems', '2', '--n', '2', '--k', '1', '2', '--n-boot', '5', '--max-new-tokens', '16', '--quiet', '--device', 'cpu']
    code, _, err = cli('eval', '--model', a, '--model', b, '--out', tmp_path / 'e', *small)
    assert code == 0, err
    assert sorted(pl.read_parquet(tmp_path / 'e' / 'passk.parquet')['model'].unique()) == ['seed-0/dose-0.6', 'seed-1/dose-0.6']
    code, _, err = cli('eval', '--model', a, '--model', b, '--name', 'first', '--name', 'second', '--out', tmp_path / 'n', *small)
    assert code == 0, err
    assert sorted(pl.read_parquet(tmp_path / 'n' / 'passk.parquet')['model'].unique()) == ['first', 'second']
    code, _, err = cli('eval', '--model', a, '--model', b, '--name', 'only-one', '--out', tmp_path / 'x', *small)
    assert code == 2 and 'give one name per model: 2 model(s), 1 name(s)' in err and not (tmp_path / 'x').exists()
