#!/usr/bin/env python
"""Every GPU-speed benchmark of warmstart_kit in one call: a table on stdout, the same rows as JSON.

    python benchmarks/run.py --size tiny     # CPU smoke check, well under a minute
    python benchmarks/run.py --size full     # the issue's configuration, on a GPU

Benchmarks (see benchmarks/README.md for what each row means):
  ceil     the device's two ceilings, measured: device-to-device copy bandwidth, bf16 matmul FLOP/s (GPU only)
  check    correctness first: fast sampler == reference tokens (fp32), graph == eager, bf16 log-probs vs fp32 rescoring
  sample   HF `generate` (peer) vs the reference sampler vs `sample_static` (eager, CUDA graph), with the memory floor
  train    one optimizer step: fp32 (peer) vs bf16 autocast + fused AdamW; tokens/s and MFU
  passk    pass@k at scale: problems x n samples streamed to parquet in chunks, bounded memory
  grpo     GRPO step time: `grpo_train` (reference and fast sampler) vs TRL's GRPOTrainer (skipped without trl)
"""
from __future__ import annotations
import argparse, contextlib, dataclasses, io, json, math, os, platform, random, re, resource, shutil, statistics
import subprocess, sys, tempfile, time, traceback, warnings
from pathlib import Path

import torch

SIZES = {
    'tiny': dict(model='test', batches=[4, 16], prompt_len=8, new_tokens=8,
                 train_batch=8, train_len=32,
                 passk_problems=4, passk_n=16, passk_new_tokens=8, passk_chunk=2, passk_ref_problems=2,
                 grpo_prompts=2, grpo_group=4, grpo_new_tokens=8, grpo_steps=3,
                 check_prompts=6, check_n=2, check_new_tokens=12, warmup=1, repeats=3),
    'full': dict(model='small', batches=[64, 512, 2048], prompt_len=32, new_tokens=96,
                 train_batch=256, train_len=128,
                 passk_problems=1000, passk_n=1024, passk_new_tokens=48, passk_chunk=8, passk_ref_problems=8,
                 grpo_prompts=16, grpo_group=8, grpo_new_tokens=48, grpo_steps=6,
                 check_prompts=32, check_n=4, check_new_tokens=64, warmup=2, repeats=5),
}
BENCHES = ('ceil', 'check', 'sample', 'train', 'passk', 'grpo')


def log(*a): print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- timing and rows
def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

def measure(fn, dev, warmup:int, repeats:int, setup=None):
    "(median, min, max) seconds of `fn(*setup())` after `warmup` untimed calls; CUDA events on a GPU, perf_counter on a CPU."
    for _ in range(warmup): fn(*(setup() if setup else ()))
    ts = []
    for _ in range(repeats):
        args = setup() if setup else ()     # fresh inputs, outside the timed region
        if dev.type == 'cuda':
            torch.cuda.synchronize(dev)
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record(); fn(*args); e.record(); torch.cuda.synchronize(dev)
            ts.append(s.elapsed_time(e) / 1e3)
        else:
            t = time.perf_counter(); fn(*args); ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts), max(ts)

def row(bench, variant, size, status='ok', **kw):
    r = dict(bench=bench, variant=variant, size=size, status=status, median_s=None, min_s=None, max_s=None,
             rate=None, unit=None, vs_peer=None, floor_s=None, floor_frac=None, notes='')
    r.update(kw)
    log(f"  {bench:<6} {variant:<30} {size:<24} {status if status != 'ok' or r['median_s'] is None else _fmt(r['median_s'], 's')}")
    return r

def timed_row(bench, variant, size, t, work, unit, **kw):
    med, lo, hi = t
    return row(bench, variant, size, median_s=med, min_s=lo, max_s=hi, rate=work / med, unit=unit, **kw)

def peer_ratios(rows, bench, peer_variant, key):
    "vs_peer = peer median time / row median time, per `key` (rows of the same size)."
    peers = {r[key]: r['median_s'] for r in rows if r['bench'] == bench and r['variant'] == peer_variant and r['median_s']}
    for r in rows:
        if r['bench'] == bench and r['median_s'] and peers.get(r[key]): r['vs_peer'] = peers[r[key]] / r['median_s']


# ---------------------------------------------------------------- models and inputs
def setup_model(preset, dev, dtype, seed=0):
    from warmstart_kit.models import make_model
    m = make_model(preset, seed=seed).to(dev)
    return m.to(dtype) if dtype != torch.float32 else m

class NoEosTok:
    "The toolkit tokenizer with an EOS id no model can sample: every method generates exactly `max_new_tokens`."
    def __init__(self, tok): self.tok, self.pad_token_id, self.eos_token_id = tok, tok.pad_token_id, -1
    def batch_decode(self, x): return self.tok.batch_decode(x)

def rand_prompts(k, length, vocab=64, lo=None):
    "`k` fresh random prompts: `<bos>` + random ids; lengths fixed, or uniform in [lo, length]."
    return [[1] + [random.randrange(3, vocab) for _ in range(random.randint(lo, length) - 1 if lo else length - 1)]
            for _ in range(k)]

def decode_floor(model, B, P, T, elem_bytes, bandwidth, peak_flops):
    "(seconds, bytes per decode step at the mean context) that reading weights + live KV cache, or the FLOPs, must take."
    c = model.config
    n_params = sum(p.numel() for p in model.parameters())
    layers = c.num_hidden_layers
    heads = getattr(c, 'num_attention_heads', None) or c.n_head
    kv_dim = getattr(c, 'num_key_value_heads', heads) * (c.hidden_size // heads)
    W = n_params * elem_bytes
    kv = lambda ctx: 2 * layers * B * ctx * kv_dim * elem_bytes          # keys + values of `ctx` positions
    total = W + kv(P) + sum(W + kv(P + t) for t in range(1, T))          # prefill writes P; step t reads P + t
    flops = 2 * n_params * B * (P + T)
    return max(total / bandwidth, flops / peak_flops), W + kv(P + T / 2)


# ---------------------------------------------------------------- benchmarks
def bench_ceil(cfg, dev, dtype, args):
    "The two ceilings measured on this device: a large device-to-device copy (bytes read + written) and a large bf16 matmul."
    if dev.type != 'cuda':
        return [row('ceil', name, '', 'skipped: ceilings are measured on a GPU') for name in ('copy bandwidth', 'bf16 matmul')]
    n = 1 << (29 if args.size == 'full' else 22)                              # bf16 elements: 1 GiB at full size
    x = torch.randn(n, device=dev, dtype=torch.bfloat16); y = torch.empty_like(x)
    t = measure(lambda: y.copy_(x), dev, 3, 10)
    args.measured_bandwidth = 2 * x.numel() * 2 / t[0]
    k = 8192 if args.size == 'full' else 1024
    a, b = (torch.randn(k, k, device=dev, dtype=torch.bfloat16) for _ in range(2))
    t2 = measure(lambda: a @ b, dev, 3, 10)
    args.measured_flops = 2 * k ** 3 / t2[0]
    del x, y, a, b
    return [timed_row('ceil', 'copy bandwidth', f'{2 * n * 2 / 2**30:.2f} GiB moved', t, 2 * n * 2, 'B/s',
                      notes=f'{args.measured_bandwidth / args.bandwidth:.0%} of --bandwidth {args.bandwidth:.3g}'),
            timed_row('ceil', 'bf16 matmul', f'{k}^3', t2, 2 * k ** 3, 'FLOP/s',
                      notes=f'{args.measured_flops / args.peak_flops:.0%} of --peak-flops {args.peak_flops:.3g}')]

def bench_check(cfg, dev, dtype, args):
    "Correctness before speed: fresh random prompts for every check."
    from warmstart_kit.tasks import char_tokenizer
    from warmstart_kit.sampling import sample, score_completions
    from warmstart_kit.fast_sampling import sample_static
    tok, rows = char_tokenizer(), []
    m32 = setup_model(cfg['model'], dev, torch.float32, seed=random.randrange(1000))
    size = f"{cfg['check_prompts']}x{cfg['check_n']} rows, T={cfg['check_new_tokens']}"
    for temp, top_p in ((1.0, 1.0), (0.7, 0.9)):
        P = rand_prompts(cfg['check_prompts'], cfg['prompt_len'], lo=2)
        kw = dict(n=cfg['check_n'], max_new_tokens=cfg['check_new_tokens'], temperature=temp, top_p=top_p, seed=random.randrange(10**6))
        a, b = sample_static(m32, tok, P, **kw), sample(m32, tok, P, **kw)
        same = (a.tokens == b.tokens).all(1)
        d = float(((a.logprobs - b.logprobs).abs() * a.mask)[same].max()) if same.any() else float('nan')
        ok = float(same.float().mean()) >= 0.99 and d <= 1e-4
        rows.append(row('check', f'fp32 fast==ref T={temp} p={top_p}', size, 'ok' if ok else 'FAILED',
                        notes=f'{int(same.sum())}/{len(same)} rows equal, max |dlogp| {d:.1e} on them (need >= 99%, <= 1e-4)'))
    P = rand_prompts(cfg['check_prompts'], cfg['prompt_len'], lo=2)
    kw = dict(n=cfg['check_n'], max_new_tokens=cfg['check_new_tokens'], seed=random.randrange(10**6))
    if dev.type == 'cuda':
        for name, m in (('fp32', m32), ('bf16', setup_model(cfg['model'], dev, torch.bfloat16))):
            if name == 'bf16': m.load_state_dict(m32.state_dict())
            a, b = sample_static(m, tok, P, use_cuda_graph=True, **kw), sample_static(m, tok, P, use_cuda_graph=False, **kw)
            ok, same = torch.equal(a.tokens, b.tokens), (a.tokens == b.tokens).all(1)
            rows.append(row('check', f'{name} graph==eager tokens', size, 'ok' if ok else 'FAILED',
                            notes=f'{int(same.sum())}/{len(same)} rows equal (need all)'))
    else:
        rows.append(row('check', 'graph==eager tokens', size, 'skipped: CUDA graphs need a GPU'))
    m16 = setup_model(cfg['model'], dev, torch.bfloat16); m16.load_state_dict(m32.state_dict())
    c = sample_static(m16, tok, P, **kw)
    with torch.no_grad(): lp, _ = score_completions(m32, P, c.prompt_index, c.tokens.to(dev), temperature=1.0)
    err = ((lp.float().cpu() - c.logprobs).abs())[c.mask]
    ok = float(err.mean()) <= 0.02 and float(err.max()) <= 0.25
    rows.append(row('check', 'bf16 logp vs fp32 rescoring', size, 'ok' if ok else 'FAILED',
                    notes=f'|dlogp| mean {float(err.mean()):.4f}, max {float(err.max()):.3f} nats over {err.numel()} tokens (need <= 0.02, <= 0.25)'))
    return rows

def bench_sample(cfg, dev, dtype, args):
    from transformers import GenerationConfig
    from warmstart_kit.tasks import char_tokenizer
    from warmstart_kit.sampling import sample
    from warmstart_kit.fast_sampling import sample_static
    tok = NoEosTok(char_tokenizer())
    model = setup_model(cfg['model'], dev, dtype).eval()
    P, T, rows = cfg['prompt_len'], cfg['new_tokens'], []
    elem = torch.finfo(dtype).bits // 8
    gcfg = GenerationConfig(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=T, min_new_tokens=T,
                            pad_token_id=0, eos_token_id=2)   # min_new_tokens: EOS cannot end rows early
    for B in cfg['batches']:
        size = f'B={B} P={P} T={T}'
        floor, step_bytes = decode_floor(model, B, P, T, elem, args.bandwidth, args.peak_flops)
        prompts = lambda: (rand_prompts(B, P),)
        def hf(p):
            ids = torch.tensor(p, device=dev)
            with torch.no_grad(): model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=gcfg)
        variants = [('hf_generate', hf),
                    ('reference (dynamic cache)', lambda p: sample(model, tok, p, n=1, max_new_tokens=T, batch_size=B, seed=random.randrange(10**6))),
                    ('static, eager', lambda p: sample_static(model, tok, p, n=1, max_new_tokens=T, batch_size=B, use_cuda_graph=False, seed=random.randrange(10**6)))]
        if dev.type == 'cuda':
            variants.append(('static + CUDA graph', lambda p: sample_static(model, tok, p, n=1, max_new_tokens=T, batch_size=B, use_cuda_graph=True, seed=random.randrange(10**6))))
        for name, fn in variants:
            try:
                t = measure(fn, dev, cfg['warmup'], cfg['repeats'], prompts)
                gpu = dev.type == 'cuda'   # the floor's bandwidth and peak are GPU parameters
                note = f'{step_bytes / 1e6:.1f} MB/step at mean context' + ('' if gpu else '; floor n/a on CPU')
                if getattr(args, 'measured_bandwidth', None):
                    mfloor, _ = decode_floor(model, B, P, T, elem, args.measured_bandwidth, args.measured_flops)
                    note += f'; {mfloor / t[0]:.1%} of the floor at the measured ceilings'
                rows.append(timed_row('sample', name, size, t, B * T, 'tok/s', floor_s=floor if gpu else None,
                                      floor_frac=floor / t[0] if gpu else None, floor_bytes_per_step=step_bytes, notes=note))
            except Exception as e:  # noqa: BLE001
                traceback.print_exc(); rows.append(row('sample', name, size, f'failed: {type(e).__name__}: {e}'))
        if dev.type != 'cuda': rows.append(row('sample', 'static + CUDA graph', size, 'skipped: CUDA graphs need a GPU'))
    peer_ratios(rows, 'sample', 'hf_generate', 'size')
    return rows

def bench_train(cfg, dev, dtype, args):
    from warmstart_kit.models import make_model, count_params
    B, L, rows = cfg['train_batch'], cfg['train_len'], []
    size = f'{B}x{L} tokens'
    for name, bf16, fused in (('fp32, AdamW', False, False), ('bf16 autocast, fused AdamW', True, True)):
        model = make_model(cfg['model'], seed=0).to(dev).train()
        N = count_params(model)
        note = ''
        try: opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused) if fused else torch.optim.AdamW(model.parameters(), lr=1e-4)
        except (RuntimeError, TypeError) as e:
            opt, note = torch.optim.AdamW(model.parameters(), lr=1e-4), f'fused AdamW unavailable ({e}); '
        def step(ids):
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        fresh = lambda: (torch.randint(3, 64, (B, L), device=dev),)
        t = measure(step, dev, cfg['warmup'], cfg['repeats'], fresh)
        mfu = 6 * N * B * L / t[0] / args.peak_flops if dev.type == 'cuda' else None
        rows.append(timed_row('train', name, size, t, B * L, 'tok/s', mfu=mfu,
                              notes=note + (f'MFU {mfu:.1%} of {args.peak_flops:.3g} FLOP/s; {N / 1e6:.2f}M params' if mfu is not None
                                            else f'MFU n/a on CPU; {N / 1e6:.2f}M params')))
        del model, opt
    peer_ratios(rows, 'train', 'fp32, AdamW', 'size')
    return rows

def bench_passk(cfg, dev, dtype, args):
    "pass@k at scale: sample problem chunks, verify, write one parquet part per chunk; memory stays bounded."
    import polars as pl
    from warmstart_kit.tasks import char_tokenizer, get_task, prompt_ids
    from warmstart_kit.sampling import sample
    from warmstart_kit.fast_sampling import sample_static
    from warmstart_kit.passk import pass_at_k_curve
    tok, task = char_tokenizer(), get_task('addition')
    model = setup_model(cfg['model'], dev, dtype).eval()
    npb, n, T, chunk = cfg['passk_problems'], cfg['passk_n'], cfg['passk_new_tokens'], cfg['passk_chunk']
    probs = task.sample(npb, 'test', seed=random.randrange(10**6))
    out = Path(tempfile.mkdtemp(prefix='passk-', dir=args.tmp))
    rows = []
    def run(sampler, problems, tag, **kw):
        rss, tokens, t0 = [], 0, None
        sync(dev); t0 = time.perf_counter()
        for ci in range(0, len(problems), chunk):
            ps = problems[ci:ci + chunk]
            s = sampler(model, tok, [prompt_ids(tok, p) for p in ps], n=n, max_new_tokens=T, seed=ci, batch_size=min(n * len(ps), 1024), **kw)
            ok = [task.verify(c, ps[i].answer) for i, c in zip(s.prompt_index.tolist(), s.texts)]
            pl.DataFrame({'problem_id': [ps[i].key for i in s.prompt_index.tolist()], 'correct': ok, 'length': s.lengths.tolist()}
                         ).write_parquet(out / f'{tag}-{ci // chunk:05d}.parquet')
            tokens += int(s.lengths.sum()); del s, ok
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        sync(dev)
        return time.perf_counter() - t0, tokens, rss
    try:
        sample_static(model, tok, [prompt_ids(tok, probs[0])], n=n, max_new_tokens=T, batch_size=min(n, 1024))   # warm-up: graph capture
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
        dt, tokens, rss = run(sample_static, probs, 'fast')
        per = pl.scan_parquet(str(out / 'fast-*.parquet')).group_by('problem_id').agg(
            pl.len().alias('n'), pl.col('correct').sum().alias('c')).collect()
        ks = sorted({1, min(8, n), min(64, n), n})
        curve = dict(zip(*pass_at_k_curve(per, ks=ks).select('k', 'pass_at_k').to_dict(as_series=False).values()))
        gpu_mb = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == 'cuda' else None
        mb = sum(f.stat().st_size for f in out.glob('fast-*.parquet')) / 2**20
        rows.append(row('passk', 'static sampler -> parquet', f'{npb} problems x n={n}, T={T}', median_s=dt, rate=npb * n / dt, unit='samples/s',
                        tokens_per_s=tokens / dt, peak_rss_mb_first_chunk=rss[0], peak_rss_mb_end=rss[-1], peak_gpu_mb=gpu_mb,
                        pass_at_k=curve, notes=f'single run; {tokens / dt:,.0f} generated tok/s; {mb:.1f} MB parquet; peak RSS '
                        f'{rss[0]:.0f} MB after chunk 1, {rss[-1]:.0f} MB at the end' + (f'; peak GPU {gpu_mb:.0f} MB' if gpu_mb else '')
                        + '; ' + ', '.join(f'pass@{k} {v:.3f}' for k, v in curve.items()) + ' (random-init model)'))
        assert per.height == npb and int(per['n'].min()) == n, 'every problem must have n samples on disk'
        m = cfg['passk_ref_problems']
        dt_r, _, _ = run(sample, probs[:m], 'ref')
        rows.append(row('passk', 'reference sampler (subset)', f'{m} problems x n={n}, T={T}', median_s=dt_r, rate=m * n / dt_r,
                        unit='samples/s', notes=f'single run on the first {m} problems; compare samples/s'))
        rows[0]['vs_peer'] = rows[0]['rate'] / rows[1]['rate']; rows[1]['vs_peer'] = 1.0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return rows

def bench_grpo(cfg, dev, dtype, args):
    import warmstart_kit.grpo as grpo
    from warmstart_kit.tasks import char_tokenizer
    from warmstart_kit.fast_sampling import sample_static
    tok, rows = char_tokenizer(), []
    P, G, T, steps = cfg['grpo_prompts'], cfg['grpo_group'], cfg['grpo_new_tokens'], cfg['grpo_steps']
    size = f'{P} prompts x {G}, T={T}'
    gc = grpo.GRPOConfig(task='addition', steps=steps, prompts_per_step=P, group_size=G, max_new_tokens=T, bf16=dev.type == 'cuda', seed=0)
    for name, sampler in (('grpo_train (reference sampler)', None), ('grpo_train + sample_static', sample_static)):
        model = setup_model(cfg['model'], dev, torch.float32)
        orig = grpo.sample
        try:
            if sampler is not None: grpo.sample = sampler          # benchmark only: what grpo_train would take with the fast sampler
            df = grpo.grpo_train(model, tok, gc, run_dir=None, device=dev, progress=False)
        finally: grpo.sample = orig
        ts = df['step_time_s'].to_list()[1:] or df['step_time_s'].to_list()   # step 0 is the warm-up
        st = df['sample_time_s'].to_list()[1:] or df['sample_time_s'].to_list()
        rows.append(row('grpo', name, size, median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts), rate=P * G / statistics.median(ts),
                        unit='completions/s', notes=f'median of {len(ts)} steps after a warm-up step; sampling {statistics.median(st):.3f} s of it'))
    try:
        import trl  # noqa: F401
    except ImportError as e:
        rows.append(row('grpo', 'trl GRPOTrainer', size, f'skipped: trl is not installed ({e})'))
        return rows
    try: rows.append(_trl_grpo(cfg, dev, size, args))
    except Exception as e:  # noqa: BLE001 - TRL's API moves; report rather than crash
        traceback.print_exc(); rows.append(row('grpo', 'trl GRPOTrainer', size, f'failed: {type(e).__name__}: {e}'))
    peer_ratios(rows, 'grpo', 'trl GRPOTrainer', 'size')
    return rows

def _trl_grpo(cfg, dev, size, args):
    "TRL's GRPOTrainer on the same model, task, reward and batch; step time from a callback."
    import trl, datasets
    from transformers import TrainerCallback
    from warmstart_kit.tasks import char_tokenizer, get_task
    from warmstart_kit.rewards import ground_truth
    P, G, T, steps = cfg['grpo_prompts'], cfg['grpo_group'], cfg['grpo_new_tokens'], cfg['grpo_steps']
    task, tok = get_task('addition'), char_tokenizer()
    probs = task.sample(P * steps * 2, 'train', seed=0)
    ds = datasets.Dataset.from_list([{'prompt': '<bos>' + p.prompt, 'answer': p.answer, 'task': 'addition'} for p in probs])
    want = dict(output_dir=str(Path(args.tmp) / 'trl-grpo'), per_device_train_batch_size=P * G, num_generations=G,
                max_completion_length=T, max_steps=steps, learning_rate=1e-4, logging_steps=1, report_to='none',
                save_strategy='no', bf16=dev.type == 'cuda', temperature=1.0, top_p=1.0, top_k=0, beta=0.0, seed=0,
                gradient_accumulation_steps=1, num_iterations=1, use_cpu=dev.type != 'cuda', dataloader_num_workers=0)
    known = {f.name for f in dataclasses.fields(trl.GRPOConfig)}
    targs = trl.GRPOConfig(**{k: v for k, v in want.items() if k in known})
    times = []
    class Clock(TrainerCallback):
        def on_step_begin(self, a, s, c, **kw): sync(dev); self.t = time.perf_counter()
        def on_step_end(self, a, s, c, **kw): sync(dev); times.append(time.perf_counter() - self.t)
    def reward(prompts=None, completions=None, **kw): return ground_truth(prompts=prompts, completions=completions, **kw)
    model = setup_model(cfg['model'], dev, torch.float32)
    trainer = trl.GRPOTrainer(model=model, reward_funcs=[reward], args=targs, train_dataset=ds, processing_class=tok, callbacks=[Clock()])
    trainer.train()
    ts = times[1:] or times
    return row('grpo', 'trl GRPOTrainer', size, median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts),
               rate=P * G / statistics.median(ts), unit='completions/s', notes=f'trl {trl.__version__}; median of {len(ts)} steps after a warm-up step')


# ---------------------------------------------------------------- table, meta, main
def _fmt(x, unit=''):
    if x is None: return ''
    if isinstance(x, float) and math.isnan(x): return 'nan'
    if unit == 's': return f'{x * 1e3:.2f} ms' if x < 1 else f'{x:.2f} s'
    return f'{x:.3g}' if abs(x) >= 1e6 else f'{x:,.0f}' if abs(x) >= 100 else f'{x:.3g}'

def table(meta, rows)->str:
    head = (f"warmstart_kit benchmarks — size {meta['size']} on {meta['device_name']} ({meta['dtype']}); torch {meta['torch']}, "
            f"transformers {meta['transformers']}; median of {meta['repeats']} after {meta['warmup']} warm-up")
    cols = ['bench', 'variant', 'size', 'median', '[min, max]', 'rate', 'vs peer', 'floor', 'of floor', 'status / notes']
    lines = []
    for r in rows:
        spread = f"[{_fmt(r['min_s'], 's')}, {_fmt(r['max_s'], 's')}]" if r.get('min_s') is not None else ''
        rate = f"{_fmt(r['rate'])} {r['unit']}" if r.get('rate') is not None else ''
        note = r['notes'] if r['status'] == 'ok' else (r['status'] + ('; ' + r['notes'] if r['notes'] else ''))
        lines.append([r['bench'], r['variant'], r['size'], _fmt(r['median_s'], 's'), spread, rate,
                      f"{r['vs_peer']:.2f}x" if r.get('vs_peer') else '', _fmt(r['floor_s'], 's'),
                      f"{r['floor_frac']:.1%}" if r.get('floor_frac') else '', note])
    w = [max(len(c), *(len(l[i]) for l in lines)) if lines else len(c) for i, c in enumerate(cols)]
    fmt = lambda l: ' | '.join(x.ljust(w[i]) for i, x in enumerate(l)).rstrip()
    return '\n'.join([head, fmt(cols), '-+-'.join('-' * x for x in w)] + [fmt(l) for l in lines])

def device_slug(dev)->str:
    if dev.type != 'cuda': return 'cpu'
    return re.sub(r'[^a-z0-9]+', '-', torch.cuda.get_device_name(dev).lower()).strip('-')

def meta_info(args, dev, dtype, cfg):
    import transformers
    try: commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError: commit = ''
    m = dict(size=args.size, device=dev.type, device_name=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or 'cpu',
             dtype=str(dtype).replace('torch.', ''), torch=torch.__version__, transformers=transformers.__version__,
             cuda=torch.version.cuda, python=platform.python_version(), threads=torch.get_num_threads(), git_commit=commit,
             peak_flops=args.peak_flops, bandwidth=args.bandwidth, warmup=cfg['warmup'], repeats=cfg['repeats'],
             config=cfg, time=time.strftime('%Y-%m-%dT%H:%M:%S'), argv=sys.argv[1:])
    if dev.type == 'cuda':
        p = torch.cuda.get_device_properties(dev)
        m.update(gpu_memory_gb=p.total_memory / 2**30, capability=f'{p.major}.{p.minor}', sms=p.multi_processor_count)
    return m

def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', choices=sorted(SIZES), default='tiny', help='tiny: CPU smoke check; full: the issue configuration (GPU)')
    p.add_argument('--json', default=None, help='where to write the rows (default benchmarks/results-<device>.json; -tiny added for --size tiny)')
    p.add_argument('--only', default=','.join(BENCHES), help=f'comma-separated subset of {",".join(BENCHES)}')
    p.add_argument('--device', default='auto', help='auto, cpu or cuda')
    p.add_argument('--dtype', default='auto', choices=['auto', 'fp32', 'bf16'], help='sampling dtype (auto: bf16 on CUDA, fp32 on CPU)')
    p.add_argument('--peak-flops', type=float, default=989e12, help='peak dense bf16 FLOP/s for MFU (H100 SXM: 989e12)')
    p.add_argument('--bandwidth', type=float, default=3.35e12, help='memory bandwidth in B/s for the decode floor (H100 SXM: 3.35e12)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: 1 for --size tiny on a CPU, else unchanged)')
    p.add_argument('--repeats', type=int, default=None, help='override the size preset')
    p.add_argument('--seed', type=int, default=None, help='seed the random prompts (default: fresh every run)')
    p.add_argument('--tmp', default=None, help='scratch folder for parquet parts and TRL output (default: system temp)')
    return p.parse_args(argv)

def main(argv=None)->dict:
    "Run the chosen benchmarks; print the table; write and return {'meta', 'rows'}."
    args = parse(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))          # the repo's warmstart_kit, without installing
    from warmstart_kit.models import resolve_device
    dev = resolve_device(args.device)
    cfg = dict(SIZES[args.size]); cfg['repeats'] = args.repeats or cfg['repeats']
    dtype = {'fp32': torch.float32, 'bf16': torch.bfloat16}.get(args.dtype, torch.bfloat16 if dev.type == 'cuda' else torch.float32)
    threads = args.threads or (1 if args.size == 'tiny' and dev.type == 'cpu' else None)
    if threads: torch.set_num_threads(threads)
    if args.seed is not None: random.seed(args.seed); torch.manual_seed(args.seed)
    args.tmp = args.tmp or tempfile.gettempdir()
    only = [b.strip() for b in args.only.split(',') if b.strip()]
    bad = set(only) - set(BENCHES)
    if bad: raise SystemExit(f'unknown benchmark(s) {sorted(bad)}; known: {", ".join(BENCHES)}')
    meta = meta_info(args, dev, dtype, cfg)
    rows, t0 = [], time.perf_counter()
    fns = dict(ceil=bench_ceil, check=bench_check, sample=bench_sample, train=bench_train, passk=bench_passk, grpo=bench_grpo)
    warnings.filterwarnings('ignore', message='.*deprecated.*')
    for b in only:
        log(f'[{time.perf_counter() - t0:6.1f}s] {b}')
        try: rows += fns[b](cfg, dev, dtype, args)
        except Exception as e:  # noqa: BLE001 - one broken benchmark must not lose the others
            traceback.print_exc(); rows.append(row(b, '(all)', '', f'failed: {type(e).__name__}: {e}'))
        if dev.type == 'cuda': torch.cuda.empty_cache()
    meta['wall_s'] = time.perf_counter() - t0
    res = dict(meta=meta, rows=rows)
    path = Path(args.json) if args.json else Path(__file__).parent / f"results-{device_slug(dev)}{'-tiny' if args.size == 'tiny' else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1, default=str))
    print(table(meta, rows)); print(f'\n{len(rows)} rows in {meta["wall_s"]:.1f} s; JSON: {path}')
    return res


if __name__ == '__main__':
    main()
