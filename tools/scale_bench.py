"""Scale notes for nbs/experiments/01_scale.ipynb: how the cost of each analysis grows with model size, samples and checkpoints.

Measures, on whatever machine runs it (CPU unless --device cuda), at a few model sizes built from the toolkit's presets
(random weights: the cost does not depend on what the model learned, only on its shape and on how many tokens it writes):
  sampling  the toolkit's engine vs the reference (transformers-style) sampler: tokens/s
  grpo      one GRPO step: the toolkit's trainer vs the TRL engine (skipped without trl)
  phases    one phase probe (sample + score) per checkpoint
  passk     the estimator and its bootstrap on many problems (pure numpy)
  sparsity  compare_checkpoints read throughput on checkpoints of growing size (bf16 and fp32, sharded)
Times are CPU seconds of the measuring process (time.process_time; with --threads 1, single-core seconds), so other jobs on
a shared machine do not inflate them as they inflate wall time; GRPO step times are the run's CPU time apportioned by the
median of the per-step wall times after the first. Writes JSON (--out) and prints a markdown table.
Usage: .venv/bin/python tools/scale_bench.py --out /tmp/scale.json
"""
import argparse, json, os, platform, statistics, tempfile, time
from pathlib import Path
import torch

WALL = False   # set for --device cuda: GPU work is not CPU time, so wall time (synchronised) is measured there

def timed(fn, reps=1):
    "(seconds, result): CPU seconds of this process on a CPU (other jobs on a shared machine do not inflate them); wall seconds on CUDA."
    ts = []
    clock = time.perf_counter if WALL else time.process_time
    for _ in range(reps):
        if WALL: torch.cuda.synchronize()
        t = clock(); out = fn()
        if WALL: torch.cuda.synchronize()
        ts.append(clock() - t)
    return min(ts), out

EXTRA = {'large': ('medium', dict(hidden_size=1024, num_hidden_layers=12, num_attention_heads=16, intermediate_size=4096)),   # ~0.2B params
         'xl': ('medium', dict(hidden_size=2048, num_hidden_layers=16, num_attention_heads=16, intermediate_size=8192))}      # ~1.1B params
GRPO_SHAPE = (4, 4, 32)   # prompts, completions per prompt, max new tokens of the GRPO rows

def model_of(preset, dev):
    from warmstart_kit.models.build import make_model, count_params
    from warmstart_kit.tasks.tokenizer import char_tokenizer
    base, over = EXTRA.get(preset, (preset, {}))
    m = make_model(base, **over).to(dev).eval()
    return m, char_tokenizer(), count_params(m)

def bench_sampling(presets, dev, rows):
    from warmstart_kit.sampling.evaluation import grade_samples
    from warmstart_kit.tasks.evalsets import load_eval_set
    probs = load_eval_set('addition', 'default', n=16)
    for p in presets:
        m, tok, n = model_of(p, dev)
        for kind in ('auto', 'reference'):
            grade_samples(m, tok, probs[:2], n=2, max_new_tokens=8, sampler=kind)          # warm-up
            s, g = timed(lambda: grade_samples(m, tok, probs, n=16, max_new_tokens=48, temperature=1.0, top_p=1.0, sampler=kind))
            toks = int(g.samples.lengths.sum())
            rows.append(dict(analysis='sampling', preset=p, params=n, engine='toolkit engine' if kind == 'auto' else 'reference (HF forward)',
                             seconds=s, work=f'{len(probs)}x16 samples, {toks} tokens', rate=toks / s, unit='tokens/s'))
            print(rows[-1], flush=True)

def bench_grpo(presets, dev, rows, tmp):
    from warmstart_kit.rl.grpo import GRPOConfig
    from warmstart_kit.rl.trainer import grpo_train
    P, G, T = GRPO_SHAPE
    cfg = GRPOConfig(steps=3, prompts_per_step=P, group_size=G, max_new_tokens=T, seed=0)
    try:
        from warmstart_kit.rl.trl_backend import trl_grpo_train
        import trl  # noqa: F401
    except ImportError: trl_grpo_train = None
    for p in presets:
        m, tok, n = model_of(p, dev)
        s, met = timed(lambda: grpo_train(m, tok, cfg, device=str(dev), progress=False))
        w = met['step_time_s'].to_list()
        rows.append(dict(analysis='grpo', preset=p, params=n, engine='toolkit trainer', seconds=s * statistics.median(w[1:]) / sum(w),
                         work=f'1 step: {P} prompts x {G} completions, <= {T} tokens', rate=None, unit='s/step'))
        print(rows[-1], flush=True)
        if trl_grpo_train is not None:
            m, tok, n = model_of(p, 'cpu')
            s, met = timed(lambda: trl_grpo_train(m, cfg, tok=tok, device=str(dev), progress=False))
            w = met['step_time_s'].to_list()
            rows.append(dict(analysis='grpo', preset=p, params=n, engine='TRL engine', seconds=s * statistics.median(w[1:]) / sum(w),
                             work=f'1 step: {P} prompts x {G} completions, <= {T} tokens', rate=None, unit='s/step'))
            print(rows[-1], flush=True)

def bench_phases(presets, dev, rows):
    from warmstart_kit.analysis.phases import probe
    from warmstart_kit.tasks.evalsets import load_eval_set
    probs = load_eval_set('addition', 'default', n=8)
    for p in presets:
        m, tok, n = model_of(p, dev)
        probe(m, tok, probs[:2], n=1, max_new_tokens=8)
        s, _ = timed(lambda: probe(m, tok, probs, n=4, max_new_tokens=48))
        rows.append(dict(analysis='phases', preset=p, params=n, engine='toolkit engine', seconds=s, work='1 checkpoint: 8 problems x 4 samples', rate=None,
                         unit='s/checkpoint'))
        print(rows[-1], flush=True)

def bench_passk(rows):
    import numpy as np, polars as pl
    from warmstart_kit.analysis.passk import bootstrap_pass_at_k
    rng = np.random.default_rng(0)
    for P, n in ((1000, 64), (10000, 256)):
        df = pl.DataFrame({'model': np.repeat(['a', 'b'], P), 'problem_id': np.tile(np.arange(P), 2), 'n': n,
                           'c': rng.binomial(n, rng.beta(0.3, 0.7, 2 * P))})
        s, _ = timed(lambda: bootstrap_pass_at_k(df, by='model', n_boot=1000))
        rows.append(dict(analysis='passk', preset='-', params=None, engine='numpy', seconds=s,
                         work=f'2 models x {P} problems, n={n}, 1000 bootstrap replicates',
                         rate=None, unit='s'))
        print(rows[-1], flush=True)

def bench_sparsity(sizes, rows, tmp, device=None):
    from warmstart_kit.analysis.sparsity import save_sharded, compare_checkpoints
    for params, dtype in sizes:
        d = Path(tempfile.mkdtemp(dir=tmp))
        rows_per = 4096; cols = 1024
        k = max(1, params // (rows_per * cols))
        g = torch.Generator().manual_seed(0)
        a = {f'model.layers.{i}.mlp.up_proj.weight': torch.randn(rows_per, cols, generator=g).to(dtype) for i in range(k)}
        b = {n: torch.where(torch.rand(t.shape, generator=g) < 0.3, t + 0.01, t).to(dtype) for n, t in a.items()}
        save_sharded(a, d / 'a', n_shards=min(k, 4)); save_sharded(b, d / 'b', n_shards=min(k, 4)); del a, b
        s, c = timed(lambda: compare_checkpoints(d / 'a', d / 'b', device=device))
        rows.append(dict(analysis='sparsity', preset='-', params=k * rows_per * cols, engine=f'streaming ({str(dtype)[6:]})', seconds=s,
                         work=f'{c.gb:.2f} GB per checkpoint, 6 tolerances', rate=c.gb_read / s, unit='GB/s read'))
        print(rows[-1], flush=True)
        import shutil; shutil.rmtree(d, ignore_errors=True)

def main(argv=None):
    global WALL, GRPO_SHAPE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=None, help='JSON file to write')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--presets', nargs='+', default=['micro', 'small', 'medium'])
    ap.add_argument('--only', nargs='+', default=['sampling', 'grpo', 'phases', 'passk', 'sparsity'])
    ap.add_argument('--sparsity-params', nargs='+', type=float, default=[25e6, 100e6, 400e6])
    ap.add_argument('--grpo-shape', nargs=3, type=int, default=list(GRPO_SHAPE), metavar=('PROMPTS', 'GROUP', 'TOKENS'), help='GRPO step shape')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1: single-core CPU seconds; 0: leave as is)')
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    WALL = dev.type == 'cuda'; GRPO_SHAPE = tuple(a.grpo_shape)
    rows, tmp = [], tempfile.mkdtemp(prefix='scale-')
    t0 = time.time()
    if 'sampling' in a.only: bench_sampling(a.presets, dev, rows)
    if 'phases' in a.only: bench_phases(a.presets, dev, rows)
    if 'grpo' in a.only: bench_grpo(a.presets if dev.type == 'cuda' else a.presets[:2], dev, rows, tmp)
    if 'passk' in a.only: bench_passk(rows)
    if 'sparsity' in a.only:
        bench_sparsity([(int(p), torch.bfloat16 if i % 2 else torch.float32) for i, p in enumerate(a.sparsity_params)], rows, tmp,
                       device='cuda' if dev.type == 'cuda' else None)
    meta = dict(machine=platform.machine(), cpus=os.cpu_count(), threads=torch.get_num_threads(), device=str(dev),
                gpu=torch.cuda.get_device_name(0) if dev.type == 'cuda' else None, torch=torch.__version__, load=os.getloadavg(),
                total_s=time.time() - t0)
    if a.out: Path(a.out).write_text(json.dumps({'meta': meta, 'rows': rows}, indent=1))
    print(f"\n{meta}\n\n| analysis | model | params | engine | work | time | rate |\n|---|---|---|---|---|---|---|")
    for r in rows:
        rate = f"{r['rate']:,.0f} {r['unit']}" if r['rate'] and r['rate'] >= 10 else (f"{r['rate']:.2f} {r['unit']}" if r['rate'] else '')
        clock = 'GPU wall s' if WALL else 'CPU s'
        par = f"{r['params'] / 1e6:.2f}M" if r['params'] else ''
        print(f"| {r['analysis']} | {r['preset']} | {par} | {r['engine']} | {r['work']} | {r['seconds']:.2f} {clock} | {rate} |")

if __name__ == '__main__':
    main()
