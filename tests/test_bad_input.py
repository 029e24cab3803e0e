"""Bad input, tried as a new user would: one line on stderr, exit code 2, nothing written, and a user's data never lost.

Most cases call `warmstart_kit.cli.main.main` in this process (fast); the ones that are about processes
(signals, a second concurrent run, kill -9 and resume) run the installed console script.
"""
import json, os, shutil, signal, stat, subprocess, sys, time
from pathlib import Path
import polars as pl
import pytest, torch
from warmstart_kit.cli.main import main
from warmstart_kit.core.files import data_dir
from warmstart_kit.models.build import make_model
from warmstart_kit.models.checkpoints import save_checkpoint
from warmstart_kit.tasks.tokenizer import char_tokenizer

BASE = data_dir() / 'base' / 'addition-pretrain-micro' / 'seed-0' / 'dose-0.15'
TINY_PRETRAIN = ['--task-preset', 'easy', '--model-preset', 'test', '--steps', '2', '--batch-size', '4', '--quiet', '--device', 'cpu']
TINY_RL = ['--steps', '2', '--prompts-per-step', '2', '--group-size', '2', '--max-new-tokens', '8', '--task-preset', 'easy', '--quiet', '--device', 'cpu']

def run(capsys, *args):
    "(exit code, the one error line or '') of `warmstart ARGS` run in this process."
    try: code = main([str(a) for a in args])
    except SystemExit as e: code = e.code
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    if code == 2:
        assert len(err) == 1 and err[0].startswith('warmstart: error: '), err
        return code, err[0]
    return code, ''

def listing(p:Path)->list: return sorted(str(x.relative_to(p)) for x in p.rglob('*'))

@pytest.fixture
def tiny_ckpt(tmp_path):
    return save_checkpoint(make_model('test', seed=0), char_tokenizer(), tmp_path / 'ckpt')

# ---------------------------------------------------------------- a user's data is never lost
def test_pretrain_never_replaces_an_existing_folder_or_file(capsys, tmp_path):
    out = tmp_path / 'mine'; out.mkdir(); (out / 'thesis.tex').write_text('precious')
    code, msg = run(capsys, 'pretrain', '--out', out, *TINY_PRETRAIN)
    assert code == 2 and 'already exists' in msg and (out / 'thesis.tex').read_text() == 'precious'
    f = tmp_path / 'afile'; f.write_text('also precious')
    code, msg = run(capsys, 'pretrain', '--out', f, *TINY_PRETRAIN)
    assert code == 2 and 'is a file' in msg and f.read_text() == 'also precious'
    assert listing(tmp_path) == ['afile', 'mine', 'mine/thesis.tex']
    code, _ = run(capsys, 'pretrain', '--out', out, '--overwrite', *TINY_PRETRAIN)     # with --overwrite, replaced by a checkpoint
    assert code == 0 and (out / 'config.json').exists() and not (out / 'thesis.tex').exists()

def test_output_inside_a_file_and_read_only_parent(capsys, tmp_path):
    (tmp_path / 'f').write_text('x')
    code, msg = run(capsys, 'study', '--preset', 'smoke', '--out', tmp_path / 'f' / 'run')
    assert code == 2 and 'is a file' in msg
    ro = tmp_path / 'ro'; ro.mkdir(); ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK): pytest.skip('running as a user who can write anywhere (root)')
        code, msg = run(capsys, 'study', '--preset', 'smoke', '--out', ro / 'run')
        assert code == 2 and 'not writable' in msg
    finally: ro.chmod(stat.S_IRWXU)

def test_a_second_run_into_the_same_folder_fails_at_once(capsys, tmp_path):
    "A live lock (here: this test process holds it) makes the second run fail; a stale one (dead pid) is taken over."
    out = tmp_path / 'run'
    lock = tmp_path / '.run.lock'; lock.write_text(f'{os.getpid()} host\n')
    code, msg = run(capsys, 'pretrain', '--out', out, *TINY_PRETRAIN)
    assert code == 2 and f'another warmstart run (pid {os.getpid()}) is writing' in msg and not out.exists()
    lock.write_text('999999999 host\n')
    code, _ = run(capsys, 'pretrain', '--out', out, *TINY_PRETRAIN)
    assert code == 0 and (out / 'config.json').exists() and not lock.exists()

def test_leftovers_of_killed_runs_are_cleaned(capsys, tmp_path):
    out = tmp_path / 'run'
    for name in ('.run.tmp-999999999', '.run.old-999999998'): (tmp_path / name).mkdir(); (tmp_path / name / 'x').write_text('half')
    code, _ = run(capsys, 'pretrain', '--out', out, *TINY_PRETRAIN)
    assert code == 0 and listing(tmp_path)[0] == 'run' and all(not p.name.startswith('.run.') for p in tmp_path.iterdir())

def test_rl_overwrite_starts_clean_and_resume_refuses_changes(capsys, tmp_path, tiny_ckpt):
    out = tmp_path / 'rl'
    assert run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--checkpoint-every', '1', *TINY_RL)[0] == 0
    assert (out / 'checkpoints' / 'step-1').exists()
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, *TINY_RL)
    assert code == 2 and '--overwrite' in msg
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--resume', '--lr', '0.5', *TINY_RL)
    assert code == 2 and 'cannot resume' in msg and 'lr' in msg
    assert run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--overwrite', '--steps', '1', *TINY_RL[2:])[0] == 0
    assert not (out / 'checkpoints' / 'step-1').exists()           # the old run's checkpoints are gone
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--resume', *TINY_RL)
    assert code == 2 and 'nothing to resume' in msg
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', tmp_path / 'new', '--resume', *TINY_RL)
    assert code == 2 and 'nothing to resume' in msg and not (tmp_path / 'new').exists()

def test_resume_refuses_an_incomplete_checkpoint(capsys, tmp_path, tiny_ckpt):
    from safetensors.torch import load_file, save_file
    out = tmp_path / 'rl'
    assert run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--checkpoint-every', '1', *TINY_RL)[0] == 0
    f = out / 'checkpoints' / 'step-1' / 'model.safetensors'
    sd = load_file(f); save_file(dict(list(sd.items())[:1]), f)      # 1 of the tensors left
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--resume', '--steps', '3', *TINY_RL[2:])
    assert code == 2 and 'does not match the model' in msg and 'missing' in msg

# ---------------------------------------------------------------- one clear line, exit 2, before any work
@pytest.mark.parametrize('args,needle', [
    (['rl', '--model', BASE, '--temperature', 'nan'], 'expected a finite number'),
    (['rl', '--model', BASE, '--max-new-tokens', '1000000000'], 'positions; this model has 256'),
    (['rl', '--model', BASE, '--bf16', 'ture'], "expected true or false, got 'ture'"),
    (['rl', '--model', BASE, '--checkpoint-every', '-1'], 'checkpoint_every must be >= 0'),
    (['rl', '--model', BASE, '--majority-samples', '8'], 'unrecognized arguments: --majority-samples'),
    (['rl', '--model', BASE, '--group-size', '1'], 'group_size must be >= 2'),
    (['rl', '--model', BASE, '--resume', '--overwrite'], 'pass one of them'),
    (['eval', '--model', BASE, '--n', '1000000000'], 'for the results'),
    (['eval', '--model', BASE, '--max-new-tokens', '1000000000'], 'positions; this model has 256'),
    (['eval', '--model', BASE, '--problems', '0'], 'problems must be >= 1'),
    (['eval', '--model', BASE, '--problems', '-1'], 'problems must be >= 1'),
    (['eval', '--model', BASE, '--temperature', '-1'], 'temperature must be >= 0'),
    (['study', '--preset', 'smoke', '--workers', '-2'], 'workers must be >= 0'),
    (['study', '--doses', '0.1', '0.1'], 'doses must be distinct'),
    (['pretrain', '--steps', '0'], 'steps must be >= 1'),
    (['pretrain', '--behaviours', 'column=0.5,carry=0.5'], "unknown behaviour(s) ['carry']"),
    (['pretrain', '--lr', 'inf'], 'expected a finite number'),
])
def test_bad_values(capsys, tmp_path, args, needle):
    out = tmp_path / 'out'
    code, msg = run(capsys, *args, '--out', out)
    assert code == 2 and needle in msg, msg
    assert listing(tmp_path) == []

def test_eval_reads_its_config_file(capsys, tmp_path):
    cfg = tmp_path / 'ev.json'; cfg.write_text(json.dumps({'problems': 2, 'n': 2, 'k': [1, 2], 'n_boot': 5, 'max_new_tokens': 16}))
    assert run(capsys, 'eval', '--model', BASE, '--config', cfg, '--out', tmp_path / 'ev', '--quiet')[0] == 0
    assert pl.read_parquet(tmp_path / 'ev' / 'per_problem.parquet')['n'].to_list() == [2, 2]
    cfg.write_text(json.dumps({'problems': 2, 'n_sampels': 4}))
    code, msg = run(capsys, 'eval', '--model', BASE, '--config', cfg, '--out', tmp_path / 'ev2')
    assert code == 2 and "unknown eval config key(s) ['n_sampels']" in msg

def broken_copy(tmp_path, edit):
    d = tmp_path / 'broken'; shutil.copytree(BASE, d); edit(d); return d

@pytest.mark.parametrize('edit,needle', [
    (lambda d: (d / 'model.safetensors').write_bytes(b''), 'not a complete safetensors file (0 bytes)'),
    (lambda d: (d / 'model.safetensors').write_bytes((d / 'model.safetensors').read_bytes()[:-1000]), 'truncated'),
    (lambda d: ((d / 'model.safetensors').rename(d / 'pytorch_model.bin'),
                (d / 'model.safetensors.index.json').write_text(json.dumps({'weight_map': {'lm_head.weight': 'pytorch_model.bin'}}))),
     'points at non-safetensors weights'),
    (lambda d: (d / 'config.json').write_text('{not json'), 'is not valid JSON'),
])
def test_broken_checkpoints(capsys, tmp_path, edit, needle):
    d = broken_copy(tmp_path, edit)
    for cmd in (['eval', '--model', d, '--out', tmp_path / 'e'], ['rl', '--model', d, '--out', tmp_path / 'r']):
        code, msg = run(capsys, *cmd)
        assert code == 2 and needle in msg, msg
    assert not (tmp_path / 'e').exists() and not (tmp_path / 'r').exists()

def test_vocabulary_mismatch(capsys, tmp_path):
    d = save_checkpoint(make_model('test', vocab_size=96), char_tokenizer(), tmp_path / 'v')
    code, msg = run(capsys, 'eval', '--model', d, '--out', tmp_path / 'e')
    assert code == 2 and 'would vanish when decoded' in msg

def test_non_ascii_digits_are_malformed_for_verifier_and_format_reward():
    from warmstart_kit.tasks.families import get_task
    from warmstart_kit.rl.rewards import format_reward, ground_truth
    comps = ['A:٣', 'A:４３２', 'A:3']
    assert format_reward(completions=comps, task=['addition'] * 3) == [0.0, 0.0, 1.0]
    assert ground_truth(completions=comps, task=['addition'] * 3, answer=['3', '432', '3']) == [0.0, 0.0, 1.0]
    assert get_task('countdown').extract('A:٣+٤') is None

def test_top_level_help_imports_nothing_heavy():
    code = ("import sys; from warmstart_kit.cli.main import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'altair', 'polars', 'transformers'}))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == '[]' and 'rl' in r.stdout

# ---------------------------------------------------------------- processes: signals, kill -9 and resume
def _cli(*args):
    return [str(Path(sys.executable).with_name('warmstart')), *map(str, args)]

def test_sigterm_cleans_up(tmp_path):
    out = tmp_path / 'run'
    p = subprocess.Popen(_cli('pretrain', '--out', out, '--task-preset', 'easy', '--model-preset', 'test', '--steps', '100000',
                              '--batch-size', '4', '--quiet', '--device', 'cpu'), stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not list(tmp_path.glob('.run.tmp-*')) and time.time() - t0 < 60: time.sleep(0.2)
    assert list(tmp_path.glob('.run.tmp-*')), 'the run never started writing'
    p.send_signal(signal.SIGTERM); _, err = p.communicate(timeout=60)
    assert p.returncode == 143 and 'terminated' in err
    assert listing(tmp_path) == []                                     # no temporary folder, no lock, no output

def test_kill_9_then_resume_is_identical_to_an_uninterrupted_run(tmp_path, tiny_ckpt):
    args = ['--model', tiny_ckpt, '--steps', '6', '--checkpoint-every', '2', '--prompts-per-step', '2', '--group-size', '4',
            '--max-new-tokens', '10', '--task-preset', 'easy', '--reward', 'random:0.5', '--reward', 'format', '--lr', '0.003',
            '--opt-steps-per-rollout', '2', '--quiet', '--device', 'cpu']
    assert subprocess.run(_cli('rl', '--out', tmp_path / 'full', *args), capture_output=True).returncode == 0
    p = subprocess.Popen(_cli('rl', '--out', tmp_path / 'cut', *args), stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (tmp_path / 'cut' / 'checkpoints' / 'step-4' / 'trainer_state.pt').exists() and time.time() - t0 < 120: time.sleep(0.05)
    p.kill(); p.wait()
    if (tmp_path / 'cut' / 'checkpoints' / 'final').exists(): pytest.skip('the run finished before it could be killed')
    r = subprocess.run(_cli('rl', '--out', tmp_path / 'cut', '--resume', *args), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a, b = (pl.read_parquet(tmp_path / d / 'metrics.parquet') for d in ('full', 'cut'))
    cols = [c for c in a.columns if not c.endswith('_s') and c != 'tokens_per_s']
    assert a.select(cols).equals(b.select(cols))
    from safetensors.torch import load_file
    wa, wb = (load_file(tmp_path / d / 'checkpoints' / 'final' / 'model.safetensors') for d in ('full', 'cut'))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

# ---------------------------------------------------------------- outputs never swallow inputs; settings that would be ignored are refused
def test_rl_overwrite_with_a_bad_selector_keeps_the_folder(capsys, tmp_path, tiny_ckpt):
    "`rl --overwrite --one-shot bogus` used to delete --out and only then report the selector; now the selector is checked first."
    out = tmp_path / 'mydir'; out.mkdir(); (out / 'notes.txt').write_text('precious')
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', out, '--overwrite', '--one-shot', 'bogus', *TINY_RL)
    assert code == 2 and "unknown one-shot selector or problem key 'bogus'" in msg, msg
    assert listing(out) == ['notes.txt'] and (out / 'notes.txt').read_text() == 'precious'

def test_an_output_may_not_be_inside_or_hold_an_input(capsys, tmp_path, tiny_ckpt):
    before = listing(tmp_path)
    cases = [(['passk', '--samples', tiny_ckpt / 'config.json', '--out', tiny_ckpt / 'config.json', '--overwrite'], 'is the input'),
             (['sparsity', tiny_ckpt, tiny_ckpt, '--out', tiny_ckpt, '--overwrite'], 'is the input'),
             (['eval', '--model', tiny_ckpt, '--out', tiny_ckpt / 'eval'], 'is inside the input'),
             (['rl', '--model', tiny_ckpt, '--out', tmp_path, '--overwrite', *TINY_RL], 'contains the input'),
             (['pretrain', '--config', tmp_path / 'c.json', '--out', tmp_path, '--overwrite', *TINY_PRETRAIN], 'contains the input')]
    for args, needle in cases:
        code, msg = run(capsys, *args)
        assert code == 2 and needle in msg and "choose an --out apart from what the command reads" in msg, (args, msg)
    assert listing(tmp_path) == before

def test_overwrite_never_replaces_a_folder_holding_a_live_run(capsys, tmp_path):
    "A `pretrain --overwrite` into a folder that holds a running run's folder used to destroy that run mid-write."
    from warmstart_kit.core.files import claim_output
    outer = tmp_path / 'exp'; outer.mkdir()
    with claim_output(outer / 'rl-run', mode='inplace') as run_dir:           # a live run (this process holds its lock)
        (run_dir / 'metrics.parquet').write_text('half-written')
        code, msg = run(capsys, 'pretrain', '--out', outer, '--overwrite', *TINY_PRETRAIN)
        assert code == 2 and f'holds {outer / "rl-run"}, which another warmstart run (pid {os.getpid()}) is writing' in msg, msg
        assert (run_dir / 'metrics.parquet').read_text() == 'half-written'

@pytest.mark.parametrize('args,line', [
    (['pretrain', '--dose', '0.15', '0.15'], '--dose 0.15 0.15 asks for dose 0.15 more than once (one base, dose-D/, per dose)'),
    (['pretrain', '--dose', '0', '0.0'], '--dose 0 0.0 asks for dose 0 more than once (one base, dose-D/, per dose)'),
    (['pretrain', '--flawed-share', '0.3'], '--flawed-share sets the rest of a --dose mixture: it needs --dose'),
    (['pretrain', '--grad-clip', '0'], 'pretrain grad_clip must be > 0 (a gradient-norm clip), got 0.0'),
])
def test_pretrain_settings_that_would_be_ignored(capsys, tmp_path, args, line):
    code, msg = run(capsys, *args, '--out', tmp_path / 'b', *TINY_PRETRAIN)
    assert (code, msg) == (2, f'warmstart: error: {line}') and not (tmp_path / 'b').exists()

def test_one_shot_flags_need_one_shot(capsys, tmp_path, tiny_ckpt):
    code, msg = run(capsys, 'rl', '--model', tiny_ckpt, '--out', tmp_path / 'r', '--one-shot-pool', '8', *TINY_RL)
    assert (code, msg) == (2, 'warmstart: error: --one-shot-pool sets the one-shot run: it needs --one-shot SELECTOR')
    assert not (tmp_path / 'r').exists()

# ---------------------------------------------------------------- a loader that refuses what is not whole
def _edit_weights(fn):
    "An edit of a checkpoint's model.safetensors through its state dict."
    def edit(d):
        from safetensors.torch import load_file, save_file
        sd = load_file(d / 'model.safetensors'); fn(sd); save_file(sd, d / 'model.safetensors', metadata={'format': 'pt'})
    return edit

WHOLE_CASES = [
    (_edit_weights(lambda sd: sd.pop('model.layers.0.mlp.up_proj.weight')), "1 tensor(s) the model's architecture needs are not in its weights"),
    (_edit_weights(lambda sd: sd['model.norm.weight'].__setitem__(0, float('nan'))), '1 weight tensor(s) hold NaN or inf'),
    (lambda d: shutil.copy(d / 'model.safetensors', d / 'pytorch_model.bin'), 'holds pickled weights (pytorch_model.bin) beside its safetensors'),
]

@pytest.mark.parametrize('edit,needle', WHOLE_CASES)
def test_a_model_that_is_not_whole_is_refused(capsys, tmp_path, edit, needle):
    "A missing tensor used to be initialised at random (exit 0); NaN weights were a warning; a decoy beside a .bin was loaded."
    d = broken_copy(tmp_path, edit)
    for cmd in (['eval', '--model', d, '--out', tmp_path / 'e'], ['rl', '--model', d, '--out', tmp_path / 'r', *TINY_RL]):
        code, msg = run(capsys, *cmd)
        assert code == 2 and needle in msg, (cmd[0], msg)
    assert not (tmp_path / 'e').exists() and not (tmp_path / 'r').exists()

@pytest.mark.parametrize('edit,needle', [
    (lambda d: (d / 'model.safetensors').write_bytes(b''), 'not a complete safetensors file (0 bytes)'),
    (lambda d: (d / 'model.safetensors').write_bytes((d / 'model.safetensors').read_bytes()[:-1000]), 'truncated'),
    (lambda d: (d / 'model.safetensors').write_bytes(b'garbage!' * 100), 'header length beyond the end of the file'),
    (lambda d: (d / 'model.safetensors').write_bytes((10**12).to_bytes(8, 'little') + b'{}'), 'header length beyond the end of the file'),
    (lambda d: ((d / 'model.safetensors').rename(d / 'pytorch_model.bin'),
                (d / 'model.safetensors.index.json').write_text(json.dumps({'weight_map': {'lm_head.weight': 'pytorch_model.bin'}}))),
     'points at non-safetensors weights'),
])
def test_sparsity_broken_checkpoints_answer_in_one_line(capsys, tmp_path, edit, needle):
    "These were SafetensorError tracebacks in `sparsity` (eval and rl already answered them)."
    d = broken_copy(tmp_path, edit)
    code, msg = run(capsys, 'sparsity', BASE, d, '--out', tmp_path / 's')
    assert code == 2 and needle in msg, msg
    assert not (tmp_path / 's').exists()

def test_sparsity_on_cuda_without_a_gpu(capsys, tmp_path):
    if torch.cuda.is_available(): pytest.skip('this machine has a GPU')
    code, msg = run(capsys, 'sparsity', BASE, BASE.parent / 'dose-0.6', '--out', tmp_path / 's', '--device', 'cuda')
    assert (code, msg) == (2, "warmstart: error: device 'cuda' asked for but no CUDA GPU is available")

@pytest.mark.parametrize('cols,line', [
    ({'problem_id': ['p1', 'p2'], 'n': [8, 8], 'c': [float('nan'), 3.0]}, "column 'c' has 1 NaN or infinite value(s); first in problem 'p1'"),
    ({'problem_id': ['p1', 'p2'], 'n': [8.0, float('inf')], 'c': [1, 3]}, "column 'n' has 1 NaN or infinite value(s); first in problem 'p2'"),
    ({'problem_id': ['p1', 'p1'], 'correct': [1.0, float('nan')]}, "column 'correct' has 1 NaN or infinite value(s); first in problem 'p1'"),
])
def test_passk_nan_and_inf_inputs(capsys, tmp_path, cols, line):
    "NaN and inf in the counts or the correct column of a parquet file were tracebacks (the cast to whole numbers failed)."
    f = tmp_path / 's.parquet'; pl.DataFrame(cols).write_parquet(f)
    assert run(capsys, 'passk', '--samples', f, '--out', tmp_path / 'o') == (2, f'warmstart: error: {line}')
    assert not (tmp_path / 'o').exists()

def test_an_absurd_bootstrap_is_refused_up_front(capsys, tmp_path):
    "--n-boot 1e9 ran out of memory after 30-64 s; now every config that takes n_boot refuses it before any work."
    f = tmp_path / 's.csv'; f.write_text('problem_id,n,c\np1,8,1\n')
    want = (2, 'warmstart: error: n_boot must be a whole number in [1, 100,000], got 1000000000')
    assert run(capsys, 'passk', '--samples', f, '--out', tmp_path / 'o', '--n-boot', '1000000000') == want
    assert run(capsys, 'eval', '--model', BASE, '--out', tmp_path / 'e', '--n-boot', '1000000000') == want
    cfg = tmp_path / 'c.json'; cfg.write_text(json.dumps({'n_boot': 10**9}))
    assert run(capsys, 'study', '--preset', 'smoke', '--config', cfg, '--out', tmp_path / 'st') == want
    assert listing(tmp_path) == ['c.json', 's.csv']

def test_an_unknown_behaviour_in_a_reward_is_refused(capsys, tmp_path):
    "behaviour:colum (a typo) used to become a search for the text 'colum', rewarding nothing."
    code, msg = run(capsys, 'rl', '--model', BASE, '--out', tmp_path / 'r', '--reward', 'format AND NOT behaviour:colum', *TINY_RL)
    assert (code, msg) == (2, "warmstart: error: reward 'format AND NOT behaviour:colum': addition has no behaviour 'colum'; known: column, nocarry "
                              "(or their marker texts 'col:', 'dig:')")
    assert not (tmp_path / 'r').exists()

@pytest.mark.parametrize('args,start', [
    (['pretrain', *TINY_PRETRAIN, '--batch-size', '1000000000'], 'pretrain batch_size=1,000,000,000 documents need about'),
    (['rl', '--model', BASE, *TINY_RL, '--prompts-per-step', '1000000000'], 'prompts_per_step x group_size = 2,000,000,000 rows x 8 tokens need'),
    (['rl', '--model', BASE, *TINY_RL, '--one-shot', 'random', '--one-shot-pool', '1000000000'], 'one-shot pool_size and pool_epochs must be <= 10,000'),
])
def test_sizes_that_cannot_fit_are_refused_up_front(capsys, tmp_path, args, start):
    "These allocated or looped until killed (180-300 s); now one line before any work."
    code, msg = run(capsys, *args, '--out', tmp_path / 'o')
    assert code == 2 and msg.startswith(f'warmstart: error: {start}'), msg
    assert not (tmp_path / 'o').exists()

@pytest.mark.parametrize('name', ['tokenizer.json', 'warmstart.json', 'tokenizer_config.json'])
def test_a_broken_json_file_is_named(capsys, tmp_path, name):
    "JSON parse errors used to name neither tokenizer.json nor warmstart.json."
    d = broken_copy(tmp_path, lambda d: (d / name).write_text('{not json'))
    code, msg = run(capsys, 'eval', '--model', d, '--out', tmp_path / 'e')
    assert code == 2 and msg.startswith(f'warmstart: error: {d / name} is not valid JSON'), msg

def test_an_absurd_learning_rate_is_refused(capsys, tmp_path):
    "A finite but absurd learning rate trained into NaN weights (and tracebacks later); now refused by every config that has one."
    assert run(capsys, 'rl', '--model', BASE, '--out', tmp_path / 'r', '--lr', '1e30', *TINY_RL) == (
        2, 'warmstart: error: GRPO config lr=1e+30 is above 1: no optimizer here trains at that rate (the weights would turn to NaN)')
    code, msg = run(capsys, 'pretrain', '--out', tmp_path / 'p', '--lr', '5', *TINY_PRETRAIN)
    assert code == 2 and 'pretrain config lr=5 is above 1' in msg
    assert listing(tmp_path) == []

def test_sparsity_chunk_size_that_cannot_be_a_block(capsys, tmp_path):
    "--chunk-elems 1e15 aborted the process; now one line."
    code, msg = run(capsys, 'sparsity', BASE, BASE.parent / 'dose-0.6', '--out', tmp_path / 's', '--chunk-elems', str(10**15))
    assert (code, msg) == (2, 'warmstart: error: chunk_elems must be <= 2**31 = 2,147,483,648 elements (a block of 8 GiB in fp32), got 1,000,000,000,000,000')

def test_a_file_where_the_output_goes_and_a_nan_temperature_answer_at_once(capsys, tmp_path):
    "Both used to appear only after a model had loaded or a study had trained (12 s and 80 s)."
    f = tmp_path / 'afile'; f.write_text('mine')
    assert run(capsys, 'rl', '--model', BASE, '--out', f, *TINY_RL) == (
        2, f'warmstart: error: output {f} exists and is a file; choose another path or pass --overwrite to replace it')
    cfg = tmp_path / 'c.json'; cfg.write_text(json.dumps({'samplings': [[float('nan'), 0.95]]}))
    code, msg = run(capsys, 'study', '--preset', 'smoke', '--config', cfg, '--out', tmp_path / 's')
    assert code == 2 and 'each sampling must be a (temperature > 0, top_p in (0, 1]) pair, got (nan, 0.95)' in msg, msg
    assert f.read_text() == 'mine' and not (tmp_path / 's').exists()
