"""Record the standard runs and fingerprint what they write, so a refactor can show behaviour did not change.

    python tools/equivalence.py --root /tmp/wk-equiv --manifest before.json      # before the change
    python tools/equivalence.py --root /tmp/wk-equiv --manifest after.json       # after it (same --root: paths inside tables match)
    python tools/equivalence.py --compare before.json after.json                 # exit 1 and the differing entries if any
    python tools/equivalence.py --src /tmp/old --manifest before.json             # the runs of another checkout (git worktree add /tmp/old REV)

Every run goes through the `warmstart` console script (the one surface a refactor must not change), on the CPU with one
torch thread. The fingerprint of a run folder: a sha256 per safetensors tensor (name, dtype, shape, bytes) and per parquet
table (its rows, without the columns that hold wall-clock times). `--keep-resume DIR` keeps a half-finished GRPO run folder
(written by this checkout) in DIR; `--resume-from DIR` resumes such a folder written by another checkout and fingerprints
the result under `rl-resumed`.
"""
from __future__ import annotations
import argparse, hashlib, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

TIME_COLS = re.compile(r'(time|elapsed|seconds|per_s$|_s$|gb_read|^wall)')
TMP_DIR = re.compile(r'\.([^/."]+)\.tmp-\d+')
REPO = Path(__file__).resolve().parent.parent


def runs(r:Path)->list:
    "(name, argv) of the standard runs, in order (later runs read earlier ones' outputs)."
    B = r / 'pre' / 'dose-0.5'
    rl = ['--task-preset', 'easy', '--steps', '3', '--prompts-per-step', '4', '--group-size', '4', '--max-new-tokens', '24',
          '--eval-every', '2', '--eval-problems', '4', '--eval-samples', '2', '--checkpoint-every', '2', '--lr', '1e-3']
    return [
        ('pretrain', ['pretrain', '--task', 'addition', '--task-preset', 'easy', '--model-preset', 'test', '--steps', '30', '--batch-size', '16',
                      '--lr', '3e-3', '--warmup', '5', '--dose', '0', '0.5', '--out', str(r / 'pre')]),
        ('rl', ['rl', '--model', str(B), '--out', str(r / 'rl'), *rl]),
        ('rl-kl', ['rl', '--model', str(B), '--out', str(r / 'rl-kl'), *rl, '--beta-kl', '0.05']),
        ('rl-hicra', ['rl', '--model', str(B), '--out', str(r / 'rl-hicra'), *rl, '--hicra-alpha', '0.2']),
        ('rl-mu2', ['rl', '--model', str(B), '--out', str(r / 'rl-mu2'), *rl, '--opt-steps-per-rollout', '2']),
        ('rl-dapo-entropy', ['rl', '--model', str(B), '--out', str(r / 'rl-dapo-entropy'), *rl, '--loss-agg', 'dapo', '--entropy-coef', '0.01']),
        ('rl-spurious', ['rl', '--model', str(B), '--out', str(r / 'rl-spurious'), *rl, '--reward', 'format', '--reward', 'random:0.5']),
        ('rl-oneshot', ['rl', '--model', str(B), '--out', str(r / 'rl-oneshot'), *rl, '--one-shot', 'variance', '--one-shot-pool', '4', '--one-shot-epochs',
                        '1']),
        ('rl-half', ['rl', '--model', str(B), '--out', str(r / 'rl-half'), *rl[:2], '--steps', '2', *rl[4:-4], '--checkpoint-every', '1', '--lr', '1e-3']),
        ('rl-trl', ['rl', '--engine', 'trl', '--model', str(B), '--out', str(r / 'rl-trl'), '--task-preset', 'easy', '--steps', '2',
                    '--prompts-per-step', '4', '--group-size', '4', '--max-new-tokens', '24', '--lr', '1e-3']),
        ('eval', ['eval', '--model', str(B), '--model', str(r / 'rl' / 'checkpoints' / 'final'), '--task-preset', 'easy', '--problems', '4',
                  '--n', '4', '--max-new-tokens', '24', '--n-boot', '20', '--out', str(r / 'eval')]),
        ('sparsity', ['sparsity', str(B), str(r / 'rl' / 'checkpoints' / 'final'), str(r / 'rl-kl' / 'checkpoints' / 'final'), '--out', str(r / 'sparsity')]),
        ('passk', ['passk', '--samples', str(r / 'samples.csv'), '--out', str(r / 'passk'), '--n-boot', '20']),
        ('study', ['study', '--preset', 'smoke', '--out', str(r / 'study')]),
        ('rlp', ['rlp', '--preset', 'smoke', '--out', str(r / 'rlp')]),
        ('rlag', ['rlag', '--preset', 'smoke', '--out', str(r / 'rlag')]),
    ]


def samples_csv(path:Path):
    "A small graded-samples file for `warmstart passk` (two models, three problems, n = 4)."
    rows = ['problem_id,model,correct']
    for m, pat in (('base', '1000110011000'), ('rl', '1100111011101')):
        for i in range(12): rows.append(f'p{i // 4},{m},{pat[i]}')
    path.write_text('\n'.join(rows) + '\n')


def fingerprint(folder:Path)->dict:
    "{relative file (and tensor / table): sha256} of the safetensors and parquet files under `folder`."
    import polars as pl
    from safetensors import safe_open
    out = {}
    for f in sorted(folder.rglob('*')):
        rel = str(f.relative_to(folder))
        if f.suffix == '.safetensors':
            with safe_open(str(f), 'pt') as sf:
                for k in sorted(sf.keys()):
                    t = sf.get_tensor(k).contiguous()
                    h = hashlib.sha256(f'{t.dtype}{tuple(t.shape)}'.encode()); h.update(t.view(-1).view(__import__('torch').uint8).numpy().tobytes())
                    out[f'{rel}::{k}'] = h.hexdigest()
        elif f.suffix == '.parquet':
            df = pl.read_parquet(f)
            df = df.select([c for c in df.columns if not TIME_COLS.search(c)])
            text = TMP_DIR.sub(r'\1', json.dumps(df.to_dicts(), default=repr))   # a study's temporary folder name carries its pid
            out[rel] = hashlib.sha256(text.encode()).hexdigest()
    return out


LAUNCH = """import sys
try: from warmstart_kit.cli.main import main      # the package tree
except ImportError: from warmstart_kit.cli import main   # the flat layout before it
sys.exit(main(sys.argv[1:]))"""
SRC = None   # --src: a checkout whose warmstart_kit (and data/) the runs use instead of the installed one


def warmstart(argv:list, log)->float:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false', **({'PYTHONPATH': str(SRC)} if SRC else {})}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, '-c', LAUNCH, *argv, '--device', 'cpu', '--quiet'], capture_output=True, text=True, env=env, cwd=SRC or REPO)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f'warmstart {" ".join(argv[:1])} failed (exit {p.returncode})')
    log(f'{argv[0]:9s} {dt:6.1f} s')
    return dt


def record(root:Path, manifest:Path, keep_resume:Path|None, resume_from:Path|None, only:set|None):
    if root.exists(): shutil.rmtree(root)
    root.mkdir(parents=True)
    samples_csv(root / 'samples.csv')
    res = {'runs': {}, 'seconds': {}}
    for name, argv in runs(root):
        if only and name not in only and name != 'pretrain': continue
        res['seconds'][name] = warmstart(argv, lambda s: print(f'{name:16s} {s}', flush=True))
        res['runs'][name] = fingerprint(Path(argv[argv.index('--out') + 1]))
    if keep_resume is not None:
        if keep_resume.exists(): shutil.rmtree(keep_resume)
        shutil.copytree(root / 'rl-half', keep_resume)
    if resume_from is not None:
        dest = root / 'rl-resumed'; shutil.copytree(resume_from, dest)
        rl = dict(runs(root))['rl']
        argv = [*rl[:rl.index('--out') + 1], str(dest), *rl[rl.index('--out') + 2:], '--resume']
        res['seconds']['rl-resumed'] = warmstart(argv, lambda s: print(f'{"rl-resumed":16s} {s}', flush=True))
        res['runs']['rl-resumed'] = fingerprint(dest)
    manifest.write_text(json.dumps(res, indent=1, sort_keys=True))
    print(f'wrote {manifest}: {sum(len(v) for v in res["runs"].values())} fingerprints over {len(res["runs"])} runs')


def compare(a:Path, b:Path)->int:
    A, B = json.loads(a.read_text())['runs'], json.loads(b.read_text())['runs']
    bad = 0
    for run in sorted((set(A) | set(B)) - {'rl-resumed'}):
        x, y = A.get(run, {}), B.get(run, {})
        diff = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
        status = 'identical' if not diff else f'{len(diff)} differ'
        print(f'{run:16s} {len(x):4d} / {len(y):4d} fingerprints: {status}')
        for k in diff[:8]: print(f'    {k}: {x.get(k, "-")[:12]} vs {y.get(k, "-")[:12]}')
        bad += bool(diff)
    for M in (A, B):      # a resumed run must end where the uninterrupted one did
        if 'rl-resumed' in M:
            fin = lambda r: {k: v for k, v in M[r].items() if k.startswith('checkpoints/final/') or k == 'metrics.parquet'}
            same = fin('rl-resumed') == fin('rl')
            print(f"rl-resumed vs rl (final weights and metrics, same manifest): {'identical' if same else 'DIFFERENT'}")
            bad += not same
    B.pop('rl-resumed', None); A.pop('rl-resumed', None)
    return 1 if bad else 0


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', type=Path, default=Path('/tmp/wk-equiv'))
    p.add_argument('--manifest', type=Path)
    p.add_argument('--keep-resume', type=Path)
    p.add_argument('--resume-from', type=Path)
    p.add_argument('--only', nargs='+', help='run only these (pretrain always runs)')
    p.add_argument('--compare', nargs=2, type=Path)
    p.add_argument('--src', type=Path, help='run the warmstart_kit of this checkout (e.g. a git worktree of an older commit)')
    a = p.parse_args()
    SRC = a.src.resolve() if a.src else None
    if a.compare: raise SystemExit(compare(*a.compare))
    record(a.root, a.manifest, a.keep_resume, a.resume_from, set(a.only) if a.only else None)
