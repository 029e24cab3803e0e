"""TRL as an engine: one tokenization path through every tool, a TRL run with the toolkit's metrics and checkpoints,
the toolkit's analyses on it, a real 2-process CPU run (torchrun, gloo), and bad input."""
import argparse, json, os, socket, subprocess, sys
from dataclasses import fields
from pathlib import Path
import polars as pl
import pytest

from warmstart_kit.core.errors import ConfigError
from warmstart_kit.core.files import data_dir
from warmstart_kit.rl.grpo import GRPOConfig
from warmstart_kit.tasks.families import get_task
from warmstart_kit.tasks.tokenizer import prompt_ids, char_tokenizer
from warmstart_kit.models.checkpoints import load_checkpoint, save_checkpoint, checkpoint_steps
from warmstart_kit.rl.trl_backend import trl_settings, check_trl_args, parse_trl_args, NO_TRL
from warmstart_kit.cli.commands import cmd_rl_trl

ROOT = Path(__file__).resolve().parents[1]
BASES = sorted(str(p.parent.relative_to(data_dir())) for p in (data_dir() / 'base').glob('**/config.json'))
BASE = data_dir() / 'base' / 'addition-default-micro' / 'dose-0.1'
CFG = dict(steps=2, prompts_per_step=2, group_size=4, max_new_tokens=16, checkpoint_every=1, eval_every=1, eval_problems=4,
           eval_samples=2, rewards=('ground_truth', 'format'), seed=1)

def _prompts():
    add, cd = get_task('addition'), get_task('countdown')
    return [p.prompt for p in add.sample(2, 'test', seed=0) + cd.sample(1, 'test', seed=0)]

# ---------------------------------------------------------------- 1. one tokenization path
@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    "A fresh model saved with the current char tokenizer (the shipped bases are covered separately)."
    from warmstart_kit.models.build import make_model
    return save_checkpoint(make_model('test'), char_tokenizer(), tmp_path_factory.mktemp('tiny') / 'ck', meta={'kind': 'test'})

def test_shipped_bases_found():
    assert {f'base/addition-default-micro/dose-{d}' for d in ('0', '0.1', '1')} <= set(BASES)

@pytest.mark.parametrize('which', ['tiny', *BASES])
def test_one_tokenization_path(which, tiny_ckpt, tmp_path):
    """The ids a model is conditioned on are the same through: the toolkit's prompt_ids, the tokenizer called directly,
    the tokenizer saved and loaded by AutoTokenizer, transformers' generate, a text-generation pipeline's preprocessing,
    and TRL's GRPOTrainer's own prompt tokenization (`_tokenize_prompts`, TRL 1.16)."""
    trl = pytest.importorskip('trl'); datasets = pytest.importorskip('datasets')
    from transformers import AutoTokenizer, pipeline
    from warmstart_kit.rl.rewards import ground_truth
    model, tok, _ = load_checkpoint(tiny_ckpt if which == 'tiny' else data_dir() / which)
    tok.save_pretrained(tmp_path / 'tok'); reloaded = AutoTokenizer.from_pretrained(tmp_path / 'tok')
    pipe = pipeline('text-generation', model=model, tokenizer=tok, device='cpu')
    args = trl.GRPOConfig(output_dir=str(tmp_path / 'trl'), per_device_train_batch_size=2, num_generations=2, max_steps=1, use_cpu=True,
                          bf16=False, report_to='none', save_strategy='no',
                          **{('activation_checkpointing' if 'activation_checkpointing' in {f.name for f in fields(trl.GRPOConfig)}
                              else 'gradient_checkpointing'): False})
    trainer = trl.GRPOTrainer(model=model, reward_funcs=[ground_truth], args=args, processing_class=tok,
                              train_dataset=datasets.Dataset.from_dict({'prompt': ['1+1='] * 2, 'task': ['addition'] * 2, 'answer': ['2'] * 2}))
    prompts = _prompts()
    trl_ids = [list(x) for x in trainer._tokenize_prompts(prompts)[0]]
    for pr, from_trl in zip(prompts, trl_ids):
        ours = prompt_ids(tok, pr)
        assert ours[0] == tok.bos_token_id and len(ours) == len(pr) + 1            # <bos> + one id per character
        assert tok(pr).input_ids == ours
        assert reloaded(pr).input_ids == ours
        assert pipe.preprocess(pr)['input_ids'][0].tolist() == ours
        gen = model.generate(**tok(pr, return_tensors='pt'), max_new_tokens=1, do_sample=False)
        assert gen[0, :len(ours)].tolist() == ours
        assert from_trl == ours

# ---------------------------------------------------------------- 2. the TRL engine on one process
@pytest.fixture(scope='module')
def trl_run(tmp_path_factory):
    pytest.importorskip('trl'); pytest.importorskip('datasets')
    from warmstart_kit.rl.trl_backend import trl_grpo_train
    from warmstart_kit.rl.trainer import grpo_train
    run = tmp_path_factory.mktemp('trl') / 'run'
    seen = []
    m = trl_grpo_train(BASE, GRPOConfig(**CFG), run_dir=run, device='cpu', progress=False, callback=lambda s, row, model: seen.append(s))
    ours = grpo_train(*load_checkpoint(BASE)[:2], GRPOConfig(**{**CFG, 'steps': 1, 'eval_every': 0, 'checkpoint_every': 0}), device='cpu', progress=False)
    return run, m, ours, seen

def test_trl_run_writes_the_toolkit_schema(trl_run):
    run, m, ours, seen = trl_run
    assert m.columns == ours.columns                                     # the same columns, in the same order
    disk = pl.read_parquet(run / 'metrics.parquet')
    assert disk.columns == ours.columns and disk.height == CFG['steps'] and seen == [0, 1]
    assert disk['step'].to_list() == [0, 1]
    for r in disk.iter_rows(named=True):
        assert 0 <= r['accuracy'] <= 1 and r['reward/ground_truth'] == pytest.approx(r['accuracy'])   # TRL's logged reward = our verifier
        assert r['reward_mean'] == pytest.approx(r['reward/ground_truth'] + r['reward/format_reward'])
        assert sum(r[f'strategy/{s}'] for s in ('column', 'nocarry', 'answer', 'other')) == pytest.approx(1)
        assert r['entropy'] > 0 and r['completion_length'] > 0 and r['grad_norm'] is not None and r['test_accuracy'] is not None
        assert r['clip_frac_low'] == 0 and r['kl'] == 0 and r['opt_steps'] == 1 and r['step_time_s'] >= r['sample_time_s'] > 0
    ex = pl.read_parquet(run / 'examples.parquet')
    assert ex.columns == ['step', 'epoch', 'key', 'accuracy', 'reward'] and ex.height == CFG['steps'] * CFG['prompts_per_step']
    # the same problems as the toolkit's engine: step 0's keys
    from warmstart_kit.rl.grpo import prompt_batch
    assert ex.filter(pl.col('step') == 0)['key'].to_list() == [p.key for p in prompt_batch(0, 2, CFG['seed'], get_task('addition'))[0]]
    cfg_saved = json.loads((run / 'grpo_config.json').read_text())
    assert cfg_saved['steps'] == 2 and json.loads((run / 'trl_config.json').read_text())['settings']['num_generations'] == 4

def test_trl_checkpoints_in_the_toolkit_layout(trl_run):
    run, *_ = trl_run
    steps = checkpoint_steps(run, final=True)
    assert [(s, p.name) for s, p in steps] == [(1, 'step-1'), (2, 'final')]
    model, tok, meta = load_checkpoint(run / 'checkpoints' / 'final')
    assert meta['engine'] == 'trl' and meta['kind'] == 'grpo' and meta['step'] == 2 and meta['grpo']['group_size'] == 4
    assert not list((run / 'checkpoints' / 'final').glob('*.bin')) and (run / 'checkpoints' / 'final' / 'model.safetensors').exists()

def test_analyses_unchanged_on_a_trl_run(trl_run):
    "pass@k (what warmstart eval runs), phases, sparsity and the explorers read a TRL run like any other."
    from warmstart_kit.sampling.evaluation import evaluate
    from warmstart_kit.analysis.passk import bootstrap_pass_at_k
    from warmstart_kit.analysis.phases import run_checkpoints, phase_metrics
    from warmstart_kit.analysis.sparsity import compare_checkpoints
    from warmstart_kit.views.explorers import SparsityExplorer, PassKExplorer
    from warmstart_kit.tasks.evalsets import load_eval_set
    run, *_ = trl_run
    final = run / 'checkpoints' / 'final'
    probs = load_eval_set('addition', 'default', n=4)
    pp = evaluate(*load_checkpoint(final)[:2], probs, n=4, max_new_tokens=16)[1].with_columns(pl.lit('trl').alias('model'))
    assert sorted(bootstrap_pass_at_k(pp, by='model', n_boot=20)['k'].unique().to_list()) == [1, 2, 4]
    assert [s for s, _ in run_checkpoints(run, base=BASE)] == [0, 1, 2]
    ph = phase_metrics(run_checkpoints(run), probs[:2], n=1, max_new_tokens=16)
    assert sorted(ph['step'].unique().to_list()) == [1, 2]
    t = compare_checkpoints(BASE, final).tensors
    assert t['changed_exact'].sum() > 0                                   # the TRL run moved the weights
    SparsityExplorer(t); PassKExplorer(pp.with_columns(pl.col('model').cast(pl.String)))

# ---------------------------------------------------------------- 3. a real distributed run: 2 processes, CPU, gloo
LAUNCH = '''
import json, sys, torch.distributed as dist
from warmstart_kit.rl.trl_backend import trl_grpo_train
from warmstart_kit.rl.grpo import GRPOConfig
m = trl_grpo_train(sys.argv[1], GRPOConfig(**json.loads(sys.argv[3])), run_dir=sys.argv[2], device='cpu', progress=False)
print(json.dumps({'rank': dist.get_rank(), 'world': dist.get_world_size(), 'backend': dist.get_backend(), 'steps': m.height}), flush=True)
'''

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_two_process_cpu_run(trl_run, tmp_path):
    "torchrun --nproc_per_node 2: Accelerate's MULTI_CPU with gloo; the main process writes the same metrics schema; a sane result."
    pytest.importorskip('trl')
    script = tmp_path / 'launch.py'; script.write_text(LAUNCH)
    cfg = {**CFG, 'eval_every': 0}
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
                        '--master_port', str(_free_port()), str(script), str(BASE), str(tmp_path / 'run'), json.dumps(cfg)],
                       capture_output=True, text=True, timeout=400, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]
    assert sorted(x['rank'] for x in ranks) == [0, 1] and all(x['world'] == 2 and x['backend'] == 'gloo' and x['steps'] == 2 for x in ranks)
    run = tmp_path / 'run'
    m = pl.read_parquet(run / 'metrics.parquet')
    assert m.columns == trl_run[1].columns and m['step'].to_list() == [0, 1]
    assert json.loads((run / 'trl_config.json').read_text())['processes'] == 2
    assert json.loads((run / 'trl_config.json').read_text())['settings']['per_device_train_batch_size'] == 4   # 2 prompts x 4 / 2 processes
    for r_ in m.iter_rows(named=True):
        assert r_['reward/ground_truth'] == pytest.approx(r_['accuracy']) and r_['completion_length'] > 0 and r_['entropy'] > 0
    ex = pl.read_parquet(run / 'examples.parquet')
    assert ex.height == 4 and ex.group_by('step').len()['len'].to_list() == [2, 2]     # every completion of both processes gathered
    assert [(s, p.name) for s, p in checkpoint_steps(run, final=True)] == [(1, 'step-1'), (2, 'final')]
    from warmstart_kit.analysis.sparsity import compare_checkpoints
    assert compare_checkpoints(BASE, run / 'checkpoints' / 'final').tensors['changed_exact'].sum() > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]      # no leftovers

# ---------------------------------------------------------------- bad input: one clear error, nothing written
KNOWN = {'use_vllm', 'vllm_mode', 'learning_rate', 'output_dir', 'activation_checkpointing'}

@pytest.mark.parametrize('over,needle', [
    (dict(hicra_alpha=0.2), 'hicra_alpha=0.2 has no counterpart'), (dict(pg_coef=0.0), 'pg_coef=0.0 has no counterpart'),
    (dict(adv_std='population'), "adv_std='population' has no counterpart"), (dict(sampler='engine'), "sampler='engine' has no counterpart"),
    (dict(adv_eps=1e-3), 'adv_eps=0.001 has no counterpart')])
def test_toolkit_only_knob_with_trl(over, needle):
    with pytest.raises(ConfigError, match=needle.replace('(', r'\(')): trl_settings(GRPOConfig(**over))

def test_mapping():
    s = trl_settings(GRPOConfig(prompts_per_step=8, group_size=4, opt_steps_per_rollout=2, micro_batch=4, loss_agg='dr_grpo', eps_high=0.28,
                                beta_kl=0.01, adv_std='none', entropy_coef=0.01, reward_weights=(1.0, 0.5), rewards=('ground_truth', 'format')), world=2)
    assert (s['per_device_train_batch_size'], s['gradient_accumulation_steps'], s['steps_per_generation']) == (4, 2, 4)
    assert (s['loss_type'], s['epsilon_high'], s['beta'], s['scale_rewards'], s['entropy_coef'], s['reward_weights']) == ('dr_grpo', 0.28, 0.01, 'none', 0.01,
            [1.0, 0.5])
    assert s['max_steps'] == 80 and s['logging_steps'] == 2 and s['num_generations'] == 4 and s['adam_beta2'] == 0.99
    if pytest.importorskip('trl'):
        import trl
        known = {f.name for f in fields(trl.GRPOConfig)}
        from warmstart_kit.rl.trl_backend import PARITY
        assert set(s) | set(PARITY) <= known        # every name the engine sets exists in this TRL

def test_trl_args_checked():
    assert parse_trl_args(['use_vllm=true', 'vllm_mode=server']) == {'use_vllm': True, 'vllm_mode': 'server'}
    assert check_trl_args({'use_vllm': True}, KNOWN) == {'use_vllm': True}
    with pytest.raises(ConfigError, match="unknown TRL setting 'use_vlm'.*did you mean use_vllm"): check_trl_args({'use_vlm': True}, KNOWN)
    with pytest.raises(ConfigError, match='set the GRPO knob lr instead'): check_trl_args({'learning_rate': 1.0}, KNOWN)
    with pytest.raises(ConfigError, match='derived from the run'): check_trl_args({'output_dir': 'x'}, KNOWN)

def _ns(tmp_path, **kw):
    return argparse.Namespace(**{'model': str(BASE), 'out': str(tmp_path / 'out'), 'overwrite': False, 'resume': False, 'device': 'cpu',
                                 'quiet': True, 'engine': 'trl', 'trl_arg': None, 'one_shot': None, **kw})

@pytest.mark.parametrize('kw,over,needle', [
    (dict(engine='ours', trl_arg=['use_vllm=true']), {}, '--trl-arg sets TRL GRPOConfig fields (use_vllm): it needs --engine trl'),
    (dict(resume=True), {}, '--resume continues a run'),
    ({}, dict(hicra_alpha=0.2), 'hicra_alpha=0.2 has no counterpart'),
    (dict(trl_arg=['vllm_mod=server']), {}, "unknown TRL setting 'vllm_mod'"),
    (dict(model=str(ROOT / 'data')), {}, 'has no config.json'),
])
def test_cmd_rl_trl_bad_input_writes_nothing(tmp_path, kw, over, needle):
    pytest.importorskip('trl')
    with pytest.raises((ConfigError, ValueError)) as e: cmd_rl_trl(_ns(tmp_path, **kw), GRPOConfig(**over))
    assert needle in str(e.value)
    assert not (tmp_path / 'out').exists()

# ---------------------------------------------------------------- the command line: warmstart rl --engine ours|trl
def _main(*args):
    "`cli.main` in this process: (exit code, stdout, stderr); argparse's own exits included."
    import contextlib, io
    from warmstart_kit.cli.main import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: code = main([str(a) for a in args])
        except SystemExit as e: code = e.code
    return code, out.getvalue(), err.getvalue()

def test_rl_help_documents_the_engine():
    from warmstart_kit.cli.main import command_parser
    h = ' '.join(command_parser('rl').format_help().split())
    assert '--engine {ours,trl}' in h and '--trl-arg KEY=VALUE' in h
    assert "pip install 'warmstart_kit[trl]'" in h and '(default: ours)' in h and '--engine trl only' in h

@pytest.mark.parametrize('args,needle', [
    (['--trl-arg', 'use_vllm=true'], '--trl-arg sets TRL GRPOConfig fields (use_vllm): it needs --engine trl'),
    (['--engine', 'ours', '--trl-arg', 'use_vllm=true', '--trl-arg', 'vllm_mode=colocate'], 'fields (use_vllm, vllm_mode): it needs --engine trl'),
    (['--engine', 'ours', '--trl-arg', 'use_vllm'], '--trl-arg expects KEY=VALUE'),
    (['--engine', 'trl', '--hicra-alpha', '0.2'], 'hicra_alpha=0.2 has no counterpart'),
    (['--engine', 'trl', '--sampler', 'engine'], "sampler='engine' has no counterpart"),
    (['--engine', 'trl', '--adv-std', 'population'], "adv_std='population' has no counterpart"),
    (['--engine', 'trl', '--resume'], '--resume continues a run of the toolkit'),
    (['--engine', 'trl', '--trl-arg', 'learning_rate=1'], 'set the GRPO knob lr instead'),
    (['--engine', 'trl', '--trl-arg', 'output_dir=x'], "TRL setting 'output_dir' is derived from the run's settings"),
    (['--engine', 'trl', '--trl-arg', 'vllm_mod=server'], "unknown TRL setting 'vllm_mod'"),
    (['--engine', 'trl', '--trl-arg', 'use_vllm'], '--trl-arg expects KEY=VALUE'),
    (['--engine', 'verl'], "argument --engine: invalid choice: 'verl'"),
])
def test_cli_engine_bad_input(tmp_path, args, needle):
    "A TRL-only flag with the toolkit's engine, a toolkit-only knob or flag with TRL's: one line, exit 2, nothing written."
    if '--trl-arg' in args and 'trl' in args: pytest.importorskip('trl')
    code, out, err = _main('rl', '--model', BASE, '--out', tmp_path / 'o', '--device', 'cpu', *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('warmstart: error: ') and needle in lines[0], err
    assert not (tmp_path / 'o').exists() and out == ''

def test_cli_engine_config_file_knob(tmp_path):
    "A knob without a TRL counterpart set in --config is caught as well."
    (tmp_path / 'c.json').write_text(json.dumps({'pg_coef': 0.0, 'steps': 1}))
    code, _, err = _main('rl', '--engine', 'trl', '--config', tmp_path / 'c.json', '--model', BASE, '--out', tmp_path / 'o', '--device', 'cpu')
    assert code == 2 and err.strip() == (f"warmstart: error: pg_coef=0.0 has no counterpart in TRL's GRPOTrainer ({NO_TRL['pg_coef']}); "
                                         "leave it at 1.0 or use the toolkit's engine")
    assert not (tmp_path / 'o').exists()

def test_cli_engine_trl_not_installed(tmp_path, monkeypatch):
    "Without the `trl` extra: one line saying how to install it."
    monkeypatch.setitem(sys.modules, 'trl', None)               # `import trl` raises ImportError
    code, _, err = _main('rl', '--engine', 'trl', '--model', BASE, '--out', tmp_path / 'o', '--device', 'cpu', '--steps', '1')
    assert code == 2 and len(err.strip().splitlines()) == 1 and "the TRL engine needs TRL: pip install 'warmstart_kit[trl]' (trl==1.16.0)" in err
    assert not (tmp_path / 'o').exists()

def test_cli_both_engines(cli, tmp_path):
    "`warmstart rl --engine trl` (the installed script, with a --trl-arg) and `--engine ours` write the same metrics schema."
    pytest.importorskip('trl'); pytest.importorskip('datasets')
    flags = ['--model', BASE, '--device', 'cpu', '--quiet', '--steps', '1', '--prompts-per-step', '2', '--group-size', '4',
             '--max-new-tokens', '16', '--eval-every', '0', '--checkpoint-every', '0', '--seed', '1']
    code, out, err = cli('rl', '--engine', 'trl', '--trl-arg', 'adam_epsilon=1e-7', '--out', tmp_path / 'trl', *flags)
    assert code == 0, err[-3000:]
    assert 'engine trl, 1 process(es)' in out
    info = json.loads((tmp_path / 'trl' / 'trl_config.json').read_text())
    assert info['processes'] == 1 and info['trl_version'] == '1.16.0' and info['settings']['adam_epsilon'] == 1e-7
    assert info['settings']['num_generations'] == 4 and info['settings']['max_steps'] == 1
    _, _, meta = load_checkpoint(tmp_path / 'trl' / 'checkpoints' / 'final')
    assert meta['engine'] == 'trl' and meta['step'] == 1
    code, out, err = _main('rl', '--engine', 'ours', '--out', tmp_path / 'ours', *flags)     # in this process: no second start-up
    assert code == 0, err[-3000:]
    assert not (tmp_path / 'ours' / 'trl_config.json').exists()
    m_trl, m_ours = pl.read_parquet(tmp_path / 'trl' / 'metrics.parquet'), pl.read_parquet(tmp_path / 'ours' / 'metrics.parquet')
    assert m_trl.columns == m_ours.columns and m_trl.height == m_ours.height == 1
    keys = lambda run: sorted(pl.read_parquet(tmp_path / run / 'examples.parquet')['key'].to_list())
    assert keys('trl') == keys('ours') and len(keys('trl')) == 2                  # the same problems, whichever engine
