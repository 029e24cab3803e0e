"""Bring your own samples (`warmstart passk --samples`) and your own checkpoints (`warmstart sparsity`, `warmstart eval`, the
phase probe) on a Qwen2-shaped model with its own BPE tokenizer, saved sharded: results, and bad input as one error line, exit 2,
nothing written. Commands run through `warmstart_kit.cli.main.main` in-process (the console script's code path), one through the
installed `warmstart` script."""
import random
import polars as pl
import pytest
import torch

from warmstart_kit.cli.main import main

def run(capsys, *args):
    "(exit code, stdout, stderr) of `warmstart ARGS` run in this process."
    code = main([str(a) for a in args])
    o = capsys.readouterr()
    return code, o.out, o.err

def one_error(err, needle):
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith('warmstart: error: ') and needle in lines[0], err
    return lines[0]

# ---------------------------------------------------------------- samples
@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('samples'); rng = random.Random(0)
    rows = [{'problem_id': f'q{i}', 'model': m, 'correct': rng.random() < p} for i in range(24)
            for m, p in (('base', 0.3 if i < 18 else 0.0), ('rl', 0.8 if i < 10 else 0.0)) for _ in range(16)]
    pl.DataFrame(rows).write_parquet(d / 'graded.parquet')
    pl.DataFrame({'problem_id': ['a', 'b', 'c'], 'n': [8, 4, 16], 'c': [1, 0, 16]}).write_ndjson(d / 'counts.jsonl')
    pl.DataFrame({'problem_id': ['a', 'a', 'b', 'b'], 'completion': ['so 4', 'so 5', 'it is 7', 'x'], 'answer': ['4', '4', '7',
            '7']}).write_ndjson(d / 'raw.jsonl')
    pl.DataFrame({'problem_id': ['a', 'a', 'b'], 'completion': ['$\\frac{1}{2}$', 'about 0.4', '\\boxed{42}'], 'answer': ['0.5', '0.5',
            '42']}).write_parquet(d / 'math.parquet')
    (d / 'verifiers.py').write_text("def ends(completion, answer):\n    return completion.strip().endswith(str(answer))\n"
                                    "def boom(completion, answer):\n    raise KeyError('no grader for ' + answer)\n"
                                    "def maybe(completion, answer):\n    return 'yes'\n"
                                    "def quits(completion, answer):\n    import sys; sys.exit(3)\n")
    return d

def test_passk_of_graded_samples_console_script(files, tmp_path):
    "The installed `warmstart` script end to end: curves with bands, crossover k, coverage, histogram, report."
    from conftest import run_cli
    code, out, err = run_cli('passk', '--samples', files / 'graded.parquet', '--out', tmp_path / 'o', '--n-boot', '50', '--quiet')
    assert code == 0, err
    o = tmp_path / 'o'
    assert {p.name for p in o.iterdir()} >= {'report.html', 'passk.parquet', 'per_problem.parquet', 'crossover.parquet', 'coverage.parquet',
                                             'histogram.parquet', 'charts'}
    cur = pl.read_parquet(o / 'passk.parquet')
    assert sorted(cur['k'].unique().to_list()) == [1, 2, 4, 8, 16] and {'lo', 'hi'} <= set(cur.columns)
    x = pl.read_parquet(o / 'crossover.parquet').row(0, named=True)
    assert x['model'] == 'rl' and x['base'] == 'base' and x['crossover_k'] > 1            # base overtakes rl at some k > 1
    cov = pl.read_parquet(o / 'coverage.parquet').row(0, named=True)
    assert cov['only_model'] == 0 and cov['both'] >= 8 and cov['frac_model_in_base'] == 1.0
    assert pl.read_parquet(o / 'histogram.parquet').height == 24
    page = (o / 'report.html').read_text()
    assert 'data:image/png;base64,' in page and 'graded.parquet' in page

# the Python API (what the command runs, without the charts)
from warmstart_kit.studies.sample_files import passk_of_samples, SamplesConfig, read_samples, grade

def test_counts_with_mixed_n(files):
    r = passk_of_samples([files / 'counts.jsonl'], SamplesConfig(n_boot=20))
    pp = r['per_problem']
    assert pp['model'].to_list() == ['counts'] * 3 and pp['n'].to_list() == [8, 4, 16]      # model named by the file
    assert sorted(r['curves']['k'].to_list()) == [1, 2, 4]                                  # up to the smallest n

def test_ungraded_with_your_verifier(files, monkeypatch):
    monkeypatch.chdir(files)                                  # module:function resolves from the working directory
    cfg = SamplesConfig(verifier='verifiers:ends', n_boot=10)
    assert grade(read_samples(['raw.jsonl'], cfg)[0], cfg)['correct'].to_list() == [True, False, True, False]
    assert passk_of_samples(['raw.jsonl'], cfg)['per_problem'].select('n', 'c').rows() == [(2, 1), (2, 1)]

def test_math_verify(files):
    pytest.importorskip('math_verify')
    cfg = SamplesConfig(verifier='math', n_boot=10)
    assert grade(read_samples([files / 'math.parquet'], cfg)[0], cfg)['correct'].to_list() == [True, False, True]

def test_math_verify_absent(files, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, 'math_verify', None)     # as if the `math` extra were not installed
    with pytest.raises(Exception, match=r"pip install 'warmstart_kit\[math\]'"):
        passk_of_samples([files / 'math.parquet'], SamplesConfig(verifier='math'))

@pytest.mark.parametrize('args,needle', [
    (['--samples', '{d}/graded.parquet', '--problem-col', 'pid'], "has no problem column 'pid'"),
    (['--samples', '{d}/raw.jsonl'], 'holds ungraded samples'),
    (['--samples', '{d}/counts.jsonl', '--k', '1', '8'], "k=8 > n=4 samples for problem 'b' of model 'counts'"),
    (['--samples', '{d}/raw.jsonl', '--verifier', '{d}/verifiers.py:boom'], "raised KeyError on sample 0 (model 'raw', problem 'a')"),
    (['--samples', '{d}/raw.jsonl', '--verifier', '{d}/verifiers.py:maybe'], "returned 'yes' on sample 0"),
    (['--samples', '{d}/raw.jsonl', '--verifier', '{d}/verifiers.py:quits'], "raised SystemExit on sample 0 (model 'raw', problem 'a')"),
    (['--samples', '{d}/raw.jsonl', '--verifier', '{d}/verifiers.py:nope'], "has no function 'nope'"),
    (['--samples', '{d}/graded.parquet', '{d}/counts.jsonl'], 'mix shapes'),
    (['--samples', '{d}/graded.parquet', '--base', 'gpt'], "--base 'gpt' is not among the models"),
    (['--samples', '{d}/missing.parquet'], 'does not exist'),
])
def test_passk_bad_input(capsys, files, tmp_path, args, needle):
    code, _, err = run(capsys, 'passk', *[a.format(d=files) for a in args], '--out', tmp_path / 'o')
    assert code == 2
    one_error(err, needle)
    assert not any(tmp_path.iterdir())

# ---------------------------------------------------------------- a checkpoint that is not the toolkit's
def _bpe(texts):
    from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders, processors
    from transformers import PreTrainedTokenizerFast
    t = Tokenizer(models.BPE(unk_token='[UNK]'))
    t.pre_tokenizer, t.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    t.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=300, special_tokens=['[PAD]', '[BOS]', '[EOS]', '[UNK]'],
                                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    t.post_processor = processors.TemplateProcessing(single='[BOS] $A', special_tokens=[('[BOS]', t.token_to_id('[BOS]'))])
    return PreTrainedTokenizerFast(tokenizer_object=t, bos_token='[BOS]', eos_token='[EOS]', pad_token='[PAD]', unk_token='[UNK]')

@pytest.fixture(scope='module')
def foreign(tmp_path_factory):
    "Qwen2-shaped init (fp32, 2 shards) with a byte-level BPE tokenizer; two sparse 'fine-tunes' (3 shards); a Llama of another shape."
    from transformers import Qwen2Config, LlamaConfig, AutoModelForCausalLM
    from warmstart_kit.analysis.sparsity import save_sharded
    from warmstart_kit.tasks.families import get_task
    d = tmp_path_factory.mktemp('foreign'); task = get_task('addition')
    tok = _bpe([p.prompt + task.solve(p).text for p in task.sample(200, seed=0)])
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    m = AutoModelForCausalLM.from_config(cfg)
    sd = {k: v.detach().clone() for k, v in m.state_dict().items()}
    def save(name, tensors, shards):
        save_sharded(tensors, d / name, n_shards=shards); m.config.save_pretrained(d / name); tok.save_pretrained(d / name)
    save('init', sd, 2)
    for i, layer in enumerate(('layers.1.', 'layers.')):
        g = torch.Generator().manual_seed(i)
        save(f'ft{i}', {k: v + (torch.rand(v.shape, generator=g) < 0.1) * 5e-6 if layer in k else v for k, v in sd.items()}, 3)
    AutoModelForCausalLM.from_config(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                                 num_attention_heads=2, num_key_value_heads=1)).save_pretrained(d / 'llama')
    return d, tok

def test_foreign_tokenizer_is_not_ours(foreign):
    d, tok = foreign
    from warmstart_kit.models.checkpoints import load_checkpoint
    from warmstart_kit.tasks.tokenizer import prompt_ids
    _, t, meta = load_checkpoint(d / 'init')
    sol = '12345+678=col:5+8=13 c1;4+7+1=12 c1;3+6+1=10 c1;2+1=3;1=1;A:13023'
    assert meta == {} and len(t) == 300 and len(t(sol, add_special_tokens=False).input_ids) < len(sol)     # multi-character tokens
    assert prompt_ids(t, '12345+678=') == t('12345+678=').input_ids and prompt_ids(t, '1+2=')[0] == t.bos_token_id

def test_sparsity_on_foreign_checkpoints(capsys, foreign, tmp_path):
    d, _ = foreign
    code, out, err = run(capsys, 'sparsity', d / 'init', d / 'ft0', d / 'ft1', '--out', tmp_path / 'o', '--rank', 'true', '--tol', '1e-6', '--device', 'cpu')
    assert code == 0, err
    o = tmp_path / 'o'
    assert {p.name for p in o.iterdir()} >= {'tensors.parquet', 'sweep.parquet', 'layers.parquet', 'overlap.parquet', 'report.html', 'charts'}
    sw = pl.read_parquet(o / 'sweep.parquet')
    assert sorted(sw['tol_label'].unique().to_list()) == sorted(['exact', '1e-08', '1e-07', '1e-06', '1e-05', '1e-04'])
    exact = dict(sw.filter(pl.col('tol_label') == 'exact').select('run', 'sparsity').rows())
    at = lambda lab: dict(sw.filter(pl.col('tol_label') == lab).select('run', 'sparsity').rows())
    assert 0.5 < exact['ft1'] < exact['ft0'] < 1 and at('1e-06') == exact               # 5e-6 steps on ~10% of the entries ...
    assert at('1e-05') == {'ft0': 1.0, 'ft1': 1.0}                                      # ... vanish at the tolerance 1e-5
    lay = pl.read_parquet(o / 'layers.parquet')
    assert (lay.filter((pl.col('run') == 'ft0') & (pl.col('layer') == 0))['sparsity'] == 1).all() and 'rank_frac_mean' in lay.columns
    ov = pl.read_parquet(o / 'overlap.parquet')
    assert ov.height == 4 and ov.filter(pl.col('run_1') == 'ft0', pl.col('run_2') == 'ft1')['o1'][0] > 0.05

def test_sparsity_different_architectures(capsys, foreign, tmp_path):
    d, _ = foreign
    code, _, err = run(capsys, 'sparsity', d / 'init', d / 'llama', '--out', tmp_path / 'o')
    assert code == 2
    one_error(err, 'checkpoints of different architectures')
    assert not any(tmp_path.iterdir())

def test_eval_and_phases_with_a_foreign_tokenizer(capsys, foreign, tmp_path):
    "warmstart eval samples the toolkit's held-out problems with the checkpoint's own tokenizer; the phase probe runs on it."
    d, _ = foreign
    code, out, err = run(capsys, 'eval', '--model', d / 'init', '--problems', '2', '--n', '2', '--max-new-tokens', '6', '--n-boot', '10',
                         '--out', tmp_path / 'ev', '--device', 'cpu', '--quiet')
    assert code == 0, err
    pp = pl.read_parquet(tmp_path / 'ev' / 'per_problem.parquet')
    assert pp['n'].to_list() == [2, 2]
    from warmstart_kit.analysis.phases import phase_metrics
    from warmstart_kit.tasks.evalsets import load_eval_set
    ph = phase_metrics([(0, d / 'init'), (1, d / 'ft1')], load_eval_set('addition', 'default', n=2), n=1, max_new_tokens=6)
    assert sorted(ph['step'].unique().to_list()) == [0, 1] and 'all' in ph['role'].to_list()
