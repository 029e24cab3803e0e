#!/usr/bin/env python
"""Every speed benchmark of warmstart_kit in one call: a table on stdout, the same rows as JSON.

    python benchmarks/run.py --size tiny     # CPU smoke check, well under a minute
    python benchmarks/run.py --size cpu      # trained shipped bases, real prompts, one CPU thread (2-3 min on 2 cores)
    python benchmarks/run.py --size full     # the issue's configuration, on a GPU

Benchmarks (see benchmarks/README.md for what each row means):
  ceil     the device's two ceilings, measured: device-to-device copy bandwidth, bf16 matmul FLOP/s (GPU only)
  check    correctness first: sample_static and sample_engine == reference tokens (fp32), engine log-probs ==
           score_completions, graph == eager, bf16 log-probs vs fp32 rescoring
  sample   HF `generate` (peer) vs the reference sampler vs `sample_static` (eager, CUDA graph) vs `sample_engine`
  train    one optimizer step: fp32 (peer) vs bf16 autocast + fused AdamW; tokens/s and MFU
  passk    pass@k at scale: problems x n samples streamed to parquet in chunks, bounded memory
  grpo     GRPO step time: `grpo_train` vs TRL's GRPOTrainer (skipped without trl); at --size cpu also where
           the time of one step goes
"""
from __future__ import annotations
import argparse, contextlib, dataclasses, json, math, os, platform, random, re, resource, shutil, statistics
import subprocess, sys, tempfile, time, traceback, warnings
from pathlib import Path

import torch

os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')   # no fork warnings from the peers' tokenizer calls

SIZES = {
    'tiny': dict(model='test', batches=[4, 16], prompt_len=8, new_tokens=8,
                 train_batch=8, train_len=32,
                 passk_problems=4, passk_n=16, passk_new_tokens=8, passk_chunk=2, passk_ref_problems=2,
                 grpo_prompts=2, grpo_group=4, grpo_new_tokens=8, grpo_steps=3,
                 check_prompts=6, check_n=2, check_new_tokens=12, warmup=1, repeats=3, threads=1),
    'full': dict(model='small', batches=[64, 512, 2048], prompt_len=32, new_tokens=96,
                 train_batch=256, train_len=128,
                 passk_problems=256, passk_n=1024, passk_new_tokens=48, passk_chunk=8, passk_ref_problems=8,
                 grpo_prompts=16, grpo_group=8, grpo_new_tokens=48, grpo_steps=6,
                 check_prompts=32, check_n=4, check_new_tokens=64, warmup=2, repeats=5),
    # trained shipped bases (data/base), the real held-out prompts (mixed lengths), completions that end with EOS
    'cpu': dict(bases=['addition-pretrain-micro/seed-0/dose-0.6', 'addition-pretrain-micro/seed-0/dose-0'],
                task='addition', task_preset='default', device='cpu', threads=1, only='ceil,check,sample,grpo',
                sample_prompts=64, sample_ns=[1, 4], new_tokens=48,
                grpo_prompts=16, grpo_group=8, grpo_new_tokens=48, grpo_steps=7, grpo_lr=1e-4,
                check_prompts=64, check_n=2, check_new_tokens=48, warmup=1, repeats=7,
                targets={'sample': {64: 2.5, 256: 2.0}, 'grpo': 2.5}),
}
BENCHES = ('ceil', 'check', 'sample', 'train', 'grpo', 'passk')   # grpo before passk: the longest last


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

def measure_interleaved(fns:dict, warmup:int, repeats:int, setup):
    """{name: ([seconds], [outputs])} of every `fns[name](inputs)`, the variants taking turns within each repeat
    (the order rotates), all on the same fresh `setup(r)` inputs, so load from other processes hits all of them alike."""
    names = list(fns)
    for w in range(warmup):
        x = setup(-1 - w)
        for k in names: fns[k](x)
    out = {k: ([], []) for k in names}
    for r in range(repeats):
        x = setup(r)
        for k in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter(); o = fns[k](x); out[k][0].append(time.perf_counter() - t); out[k][1].append(o)
    return out

def spread(ts): return statistics.median(ts), min(ts), max(ts)

def row(bench, variant, size, status='ok', **kw):
    r = dict(bench=bench, variant=variant, size=size, status=status, median_s=None, min_s=None, max_s=None,
             rate=None, unit=None, vs_peer=None, floor_s=None, floor_frac=None, notes='')
    r.update(kw)
    log(f"  {bench:<6} {variant:<34} {size:<28} {status if status != 'ok' or r['median_s'] is None else _fmt(r['median_s'], 's')}")
    return r

def timed_row(bench, variant, size, t, work, unit, **kw):
    med, lo, hi = t
    return row(bench, variant, size, median_s=med, min_s=lo, max_s=hi, rate=work / med, unit=unit, **kw)

def peer_ratios(rows, bench, peer_variant, key):
    "vs_peer = peer median time / row median time, per `key` (rows of the same size; component rows excluded)."
    peers = {r[key]: r['median_s'] for r in rows if r['bench'] == bench and r['variant'] == peer_variant and r['median_s']}
    for r in rows:
        if r['bench'] == bench and r['median_s'] and peers.get(r[key]) and not r.get('part'): r['vs_peer'] = peers[r[key]] / r['median_s']

def set_target(r, target):
    "Attach a speed target (minimum `vs_peer`) to a row and whether it was met."
    r['target'] = target
    r['met'] = None if r.get('vs_peer') is None else bool(r['vs_peer'] >= target)
    return r


# ---------------------------------------------------------------- models and inputs
def setup_model(preset, dev, dtype, seed=0):
    from warmstart_kit.models.build import make_model
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

def base_label(name:str)->str:
    "Short name of a shipped base: 'behaviour/with', 'dose-0.1'."
    return name.replace('addition-pretrain-micro/', '').replace('addition-default-micro', '').lstrip('-/') or name

def load_base(name, dev):
    "(model, the checkpoint's tokenizer, the peers' tokenizer, meta) of a shipped base in data/base."
    from warmstart_kit.models.checkpoints import load_checkpoint
    from warmstart_kit.core.files import data_dir
    from warmstart_kit.tasks.tokenizer import char_tokenizer
    model, tok, meta = load_checkpoint(data_dir() / 'base' / name, device=dev)
    peer_tok = char_tokenizer()      # same vocabulary; adds <bos> itself (the shipped tokenizer.json does not, see README)
    if peer_tok.get_vocab() != tok.get_vocab(): raise RuntimeError(f'{name}: its tokenizer is not the toolkit char tokenizer')
    return model.eval(), tok, peer_tok, meta

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
def cpu_ceilings(cfg, dev, args):
    """This machine's ceilings with the benchmark's threads, measured in this run: memory bandwidth (a 256 MiB fp32 copy) and
    the fp32 matmul rate at the shapes the micro models run (a decode step: 64 rows; training: 4,096 rows; D = 96 -> 512, the
    gate/up projection) and at 1024^3. The sampling and GRPO rows' floors are their FLOPs at these rates."""
    n = 1 << 26
    x = torch.randn(n); y = torch.empty_like(x)
    t = measure(lambda: y.copy_(x), dev, 2, 5)   # noqa: F821 (deleted after the timing)
    args.measured_bandwidth = 2 * n * 4 / t[0]
    rows = [timed_row('ceil', 'copy bandwidth', f'{2 * n * 4 / 2**30:.2f} GiB moved', t, 2 * n * 4, 'B/s', notes='fp32 copy, read + write')]
    for name, (m, k, nn) in (('fp32 matmul, decode shape', (64, 96, 512)), ('fp32 matmul, training shape', (4096, 96, 512)),
                             ('fp32 matmul, 1024^3', (1024, 1024, 1024))):
        a, b = torch.randn(m, k), torch.randn(k, nn)
        reps = max(1, int(2e8 // (2 * m * k * nn)))                      # enough products to time reliably
        t2 = measure(lambda: [a @ b for _ in range(reps)], dev, 2, 5)   # noqa: F821 (deleted after the timing)
        rate = 2 * m * k * nn * reps / t2[0]
        setattr(args, {'fp32 matmul, decode shape': 'cpu_decode_flops', 'fp32 matmul, training shape': 'cpu_train_flops'}.get(name, 'cpu_peak_flops'), rate)
        rows.append(timed_row('ceil', name, f'{m}x{k} @ {k}x{nn}', t2, 2 * m * k * nn * reps, 'FLOP/s', notes=f'{rate / 1e9:.1f} GFLOP/s'))
    del x, y
    return rows

def cpu_floor(model, tokens:int, train_tokens:int, args)->float|None:
    "Seconds the FLOPs of `tokens` forward tokens (sampling) and `train_tokens` trained tokens (forward + backward: 3x) take at the measured CPU rates."
    if not getattr(args, 'cpu_decode_flops', None): return None
    N = sum(p.numel() for p in model.parameters())
    return 2 * N * tokens / args.cpu_decode_flops + 6 * N * train_tokens / args.cpu_train_flops

def bench_ceil(cfg, dev, dtype, args):
    "The ceilings measured on this device: a large copy (bytes read + written) and matmul rates (bf16 on a GPU, fp32 at the model's shapes on a CPU)."
    if dev.type != 'cuda': return cpu_ceilings(cfg, dev, args)
    n = 1 << (29 if args.size == 'full' else 22)                              # bf16 elements: 1 GiB at full size
    x = torch.randn(n, device=dev, dtype=torch.bfloat16); y = torch.empty_like(x)
    t = measure(lambda: y.copy_(x), dev, 3, 10)   # noqa: F821 (deleted after the timing)
    args.measured_bandwidth = 2 * x.numel() * 2 / t[0]
    k = 8192 if args.size == 'full' else 1024
    a, b = (torch.randn(k, k, device=dev, dtype=torch.bfloat16) for _ in range(2))
    t2 = measure(lambda: a @ b, dev, 3, 10)   # noqa: F821 (deleted after the timing)
    args.measured_flops = 2 * k ** 3 / t2[0]
    del x, y, a, b
    return [timed_row('ceil', 'copy bandwidth', f'{2 * n * 2 / 2**30:.2f} GiB moved', t, 2 * n * 2, 'B/s',
                      notes=f'{args.measured_bandwidth / args.bandwidth:.0%} of --bandwidth {args.bandwidth:.3g}'),
            timed_row('ceil', 'bf16 matmul', f'{k}^3', t2, 2 * k ** 3, 'FLOP/s',
                      notes=f'{args.measured_flops / args.peak_flops:.0%} of --peak-flops {args.peak_flops:.3g}')]

def same_tokens_row(name, size, a, ref):
    "A check row: `a` samples the reference's tokens (>= 99% of rows identical, log-probs within 1e-4 on them)."
    same = (a.tokens == ref.tokens).all(1)
    d = float(((a.logprobs - ref.logprobs).abs() * a.mask)[same].max()) if same.any() else float('nan')
    ok = float(same.float().mean()) >= 0.99 and d <= 1e-4
    return row('check', name, size, 'ok' if ok else 'FAILED',
               notes=f'{int(same.sum())}/{len(same)} rows equal, max |dlogp| {d:.1e} on them (need >= 99%, <= 1e-4); '
                     f'mean length {float(ref.lengths.float().mean()):.1f}, {float(ref.finished.float().mean()):.0%} ended with EOS')

def scorer_row(name, size, model, prompts, s):
    "A check row: the engine's teacher-forced log-probs equal `score_completions` (fp32, 1e-4) on the sampled tokens."
    from warmstart_kit.sampling.reference import score_completions
    from warmstart_kit.sampling.cpu_engine import engine_logprobs
    dev = next(model.parameters()).device
    with torch.no_grad():
        a, _ = engine_logprobs(model, prompts, s.prompt_index, s.tokens.to(dev), 1.0, 0)
        b, _ = score_completions(model, prompts, s.prompt_index, s.tokens.to(dev), 1.0, 0)
    d = float(((a - b).abs().cpu() * s.mask).max())
    return row('check', name, size, 'ok' if d <= 1e-4 else 'FAILED', notes=f'max |dlogp| {d:.1e} over {int(s.mask.sum())} tokens (need <= 1e-4)')

def bench_check(cfg, dev, dtype, args):
    "Correctness before speed: fresh random prompts for every check."
    if cfg.get('bases'): return check_bases(cfg, dev, args)
    from warmstart_kit.tasks.tokenizer import char_tokenizer
    from warmstart_kit.sampling.reference import sample_reference, score_completions
    from warmstart_kit.sampling.cuda_graph import sample_static
    from warmstart_kit.sampling.cpu_engine import sample_engine
    tok, rows = char_tokenizer(), []
    m32 = setup_model(cfg['model'], dev, torch.float32, seed=random.randrange(1000))
    size = f"{cfg['check_prompts']}x{cfg['check_n']} rows, T={cfg['check_new_tokens']}"
    for temp, top_p in ((1.0, 1.0), (0.7, 0.9)):
        P = rand_prompts(cfg['check_prompts'], cfg['prompt_len'], lo=2)
        kw = dict(n=cfg['check_n'], max_new_tokens=cfg['check_new_tokens'], temperature=temp, top_p=top_p, seed=random.randrange(10**6))
        ref = sample_reference(m32, tok, P, **kw)
        for name, fn in (('static', sample_static), ('engine', sample_engine)):
            rows.append(same_tokens_row(f'fp32 {name}==ref T={temp} p={top_p}', size, fn(m32, tok, P, **kw), ref))
        if temp == 1.0: rows.append(scorer_row('fp32 engine_logprobs==score', size, m32, P, ref))
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

def check_bases(cfg, dev, args):
    "Correctness on each trained base and its real held-out prompts: static and engine == reference; engine scorer == reference scorer; peer tokens."
    from warmstart_kit.tasks.evalsets import load_eval_set
    from warmstart_kit.tasks.tokenizer import prompt_ids
    from warmstart_kit.sampling.reference import sample_reference
    from warmstart_kit.sampling.cuda_graph import sample_static
    from warmstart_kit.sampling.cpu_engine import sample_engine
    rows, probs = [], load_eval_set(cfg['task'], cfg['task_preset'])
    for name in cfg['bases']:
        model, tok, peer_tok, _ = load_base(name, dev)
        lab = base_label(name)
        ps = random.sample(probs, cfg['check_prompts'])
        P = [prompt_ids(tok, p) for p in ps]
        size = f"{lab}: {len(P)}x{cfg['check_n']}, T={cfg['check_new_tokens']}"
        peer = [peer_tok(p.prompt).input_ids for p in ps]
        bad = sum(a != b for a, b in zip(peer, P))
        rows.append(row('check', 'peer tokens == prompt_ids', size, 'ok' if not bad else 'FAILED',
                        notes=f'{len(P) - bad}/{len(P)} prompts tokenized as `<bos> prompt` by the tokenizer the peers get; '
                              f'the checkpoint tokenizer adds <bos>: {tok(ps[0].prompt).input_ids[:1] == [tok.bos_token_id]}'))
        for temp, top_p in ((1.0, 1.0), (0.7, 0.9)):
            kw = dict(n=cfg['check_n'], max_new_tokens=cfg['check_new_tokens'], temperature=temp, top_p=top_p, seed=random.randrange(10**6))
            ref = sample_reference(model, tok, P, **kw)
            for vname, fn in (('static', sample_static), ('engine', sample_engine)):
                rows.append(same_tokens_row(f'fp32 {vname}==ref T={temp} p={top_p}', size, fn(model, tok, P, **kw), ref))
            if temp == 1.0: rows.append(scorer_row('fp32 engine_logprobs==score', size, model, P, ref))
    return rows

def bench_sample(cfg, dev, dtype, args):
    if cfg.get('bases'): return sample_bases(cfg, dev, args)
    from transformers import GenerationConfig
    from warmstart_kit.tasks.tokenizer import char_tokenizer
    from warmstart_kit.sampling.reference import sample_reference
    from warmstart_kit.sampling.cuda_graph import sample_static
    from warmstart_kit.sampling.cpu_engine import sample_engine
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
        kw = dict(n=1, max_new_tokens=T, batch_size=B)
        variants = [('hf_generate', hf),
                    ('reference (dynamic cache)', lambda p: sample_reference(model, tok, p, seed=random.randrange(10**6), **kw)),
                    ('static, eager', lambda p: sample_static(model, tok, p, use_cuda_graph=False, seed=random.randrange(10**6), **kw))]
        if dev.type == 'cuda':
            variants.append(('static + CUDA graph', lambda p: sample_static(model, tok, p, use_cuda_graph=True, seed=random.randrange(10**6), **kw)))
        variants.append(('engine', lambda p: sample_engine(model, tok, p, seed=random.randrange(10**6), **kw)))
        for name, fn in variants:
            try:
                t = measure(fn, dev, cfg['warmup'], cfg['repeats'], prompts)
                gpu = dev.type == 'cuda'   # the floor's bandwidth and peak are GPU parameters
                note = f'{step_bytes / 1e6:.1f} MB/step at mean context' + ('' if gpu else '; floor n/a on CPU')
                if getattr(args, 'measured_flops', None):
                    mfloor, _ = decode_floor(model, B, P, T, elem, args.measured_bandwidth, args.measured_flops)
                    note += f'; {mfloor / t[0]:.1%} of the floor at the measured ceilings'
                rows.append(timed_row('sample', name, size, t, B * T, 'tok/s', floor_s=floor if gpu else None,
                                      floor_frac=floor / t[0] if gpu else None, floor_bytes_per_step=step_bytes, notes=note))
            except Exception as e:  # noqa: BLE001
                traceback.print_exc(); rows.append(row('sample', name, size, f'failed: {type(e).__name__}: {e}'))
        if dev.type != 'cuda': rows.append(row('sample', 'static + CUDA graph', size, 'skipped: CUDA graphs need a GPU'))
    peer_ratios(rows, 'sample', 'hf_generate', 'size')
    return rows

def sample_bases(cfg, dev, args):
    """Sampling on trained bases with the real held-out prompts (lengths 9-13 with <bos>), T = `new_tokens`, temperature 1:
    HF `generate` (peer: left-padded, attention mask, do_sample, top_k=0) vs the reference sampler vs the engine."""
    from warmstart_kit.tasks.evalsets import load_eval_set
    from warmstart_kit.tasks.tokenizer import prompt_ids
    from warmstart_kit.sampling.reference import sample_reference
    from warmstart_kit.sampling.cpu_engine import sample_engine
    probs, rows = load_eval_set(cfg['task'], cfg['task_preset']), []
    k, T = cfg['sample_prompts'], cfg['new_tokens']
    sets = [probs[i:i + k] for i in range(0, len(probs) - k + 1, k)]     # disjoint sets of real prompts, taken in turn
    for name in cfg['bases']:
        model, tok, peer_tok, _ = load_base(name, dev)
        peer_tok.padding_side = 'left'
        lab = base_label(name)
        for n in cfg['sample_ns']:
            B = k * n
            size = f'{lab}: B={B} ({k}x{n}) T<={T}'
            def setup(r):
                ps = sets[r % len(sets)]
                enc = peer_tok([p.prompt for p in ps], return_tensors='pt', padding=True)
                return dict(ids=[prompt_ids(tok, p) for p in ps], seed=1000 + r,
                            input_ids=enc.input_ids.repeat_interleave(n, 0).to(dev), attention_mask=enc.attention_mask.repeat_interleave(n, 0).to(dev))
            def hf(x):
                torch.manual_seed(x['seed'])
                with torch.no_grad():
                    out = model.generate(input_ids=x['input_ids'], attention_mask=x['attention_mask'], do_sample=True, temperature=1.0,   # noqa: F821 (deleted after the timing)
                                         top_k=0, top_p=1.0, max_new_tokens=T, pad_token_id=peer_tok.pad_token_id, eos_token_id=peer_tok.eos_token_id)
                c = out[:, x['input_ids'].shape[1]:]
                eos = c == peer_tok.eos_token_id
                return torch.where(eos.any(1), eos.float().argmax(1) + 1, torch.full((len(c),), c.shape[1])).float()
            ours = lambda fn: (lambda x: fn(model, tok, x['ids'], n=n, max_new_tokens=T, temperature=1.0, seed=x['seed']).lengths.float())   # noqa: F821 (deleted after the timing)
            fns = {'hf_generate': hf, 'reference': ours(sample_reference), 'engine': ours(sample_engine)}
            res = measure_interleaved(fns, cfg['warmup'], cfg['repeats'], setup)
            plen = statistics.mean(len(p.prompt) + 1 for p in sets[0])
            for v, (ts, lens) in res.items():
                L = torch.cat(lens)
                floor = cpu_floor(model, int(B * (plen + float(L.mean()))), 0, args)   # prompt + completion tokens through the model once
                rows.append(timed_row('sample', v, size, spread(ts), B, 'completions/s', base=name, batch=B, mean_length=float(L.mean()),
                                      floor_s=floor, floor_frac=floor / statistics.median(ts) if floor else None,
                                      notes=f'mean completion {float(L.mean()):.1f} tokens (incl. EOS), {float((L < T).float().mean()):.0%} ended before T'))
            peer_ratios(rows, 'sample', 'hf_generate', 'size')
            tgt = cfg['targets']['sample'].get(B)
            if tgt: set_target(rows[-1], tgt)                 # the engine row
        del model
    return rows

def bench_train(cfg, dev, dtype, args):
    if cfg.get('bases'): return [row('train', '(all)', '', 'skipped: not part of --size cpu')]
    from warmstart_kit.models.build import make_model, count_params
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
                loss = model(input_ids=ids, labels=ids).loss   # noqa: F821 (deleted after the timing)
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)   # noqa: F821 (deleted after the timing)
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
    if cfg.get('bases'): return [row('passk', '(all)', '', 'skipped: not part of --size cpu')]
    import polars as pl
    from warmstart_kit.tasks.families import get_task
    from warmstart_kit.tasks.tokenizer import char_tokenizer, prompt_ids
    from warmstart_kit.sampling.reference import sample_reference
    from warmstart_kit.sampling.sampler import get_sampler
    from warmstart_kit.analysis.passk import pass_at_k_curve
    tok, task = char_tokenizer(), get_task('addition')
    model = setup_model(cfg['model'], dev, dtype).eval()
    npb, n, T, chunk = cfg['passk_problems'], cfg['passk_n'], cfg['passk_new_tokens'], cfg['passk_chunk']
    probs = task.sample(npb, 'test', seed=random.randrange(10**6))
    out = Path(tempfile.mkdtemp(prefix='passk-', dir=args.tmp))
    fast = get_sampler('auto', dev)          # sample_static on CUDA, sample_engine on a CPU
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
        fast(model, tok, [prompt_ids(tok, probs[0])], n=n, max_new_tokens=T, batch_size=min(n, 1024))   # warm-up: graph capture
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
        dt, tokens, rss = run(fast, probs, 'fast')
        per = pl.scan_parquet(str(out / 'fast-*.parquet')).group_by('problem_id').agg(
            pl.len().alias('n'), pl.col('correct').sum().alias('c')).collect()
        ks = sorted({1, min(8, n), min(64, n), n})
        curve = dict(zip(*pass_at_k_curve(per, ks=ks).select('k', 'pass_at_k').to_dict(as_series=False).values()))
        gpu_mb = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == 'cuda' else None
        mb = sum(f.stat().st_size for f in out.glob('fast-*.parquet')) / 2**20
        rows.append(row('passk', f'{fast.__name__} -> parquet', f'{npb} problems x n={n}, T={T}', median_s=dt, rate=npb * n / dt, unit='samples/s',
                        tokens_per_s=tokens / dt, peak_rss_mb_first_chunk=rss[0], peak_rss_mb_end=rss[-1], peak_gpu_mb=gpu_mb,
                        pass_at_k=curve, notes=f'single run; {tokens / dt:,.0f} generated tok/s; {mb:.1f} MB parquet; peak RSS '
                        f'{rss[0]:.0f} MB after chunk 1, {rss[-1]:.0f} MB at the end' + (f'; peak GPU {gpu_mb:.0f} MB' if gpu_mb else '')
                        + '; ' + ', '.join(f'pass@{k} {v:.3f}' for k, v in curve.items()) + ' (random-init model)'))
        assert per.height == npb and int(per['n'].min()) == n, 'every problem must have n samples on disk'
        m = cfg['passk_ref_problems']
        dt_r, _, _ = run(sample_reference, probs[:m], 'ref')
        rows.append(row('passk', 'reference sampler (subset)', f'{m} problems x n={n}, T={T}', median_s=dt_r, rate=m * n / dt_r,
                        unit='samples/s', notes=f'single run on the first {m} problems; compare samples/s'))
        rows[0]['vs_peer'] = rows[0]['rate'] / rows[1]['rate']; rows[1]['vs_peer'] = 1.0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return rows

# ---------------------------------------------------------------- GRPO
def grpo_steps_of(df, skip=1, col='step_time_s'):
    "Per-step seconds (`col`) of a `grpo_train` frame, the first `skip` steps (warm-up) left out."
    ts = df[col].to_list()
    return ts[skip:] or ts

def bench_grpo(cfg, dev, dtype, args):
    if cfg.get('bases'): return grpo_bases(cfg, dev, args)
    from warmstart_kit.rl.grpo import GRPOConfig
    from warmstart_kit.rl.trainer import grpo_train
    from warmstart_kit.tasks.tokenizer import char_tokenizer
    from warmstart_kit.sampling.sampler import get_sampler
    from warmstart_kit.tasks.families import get_task
    tok, rows = char_tokenizer(), []
    P, G, T, steps = cfg['grpo_prompts'], cfg['grpo_group'], cfg['grpo_new_tokens'], cfg['grpo_steps']
    size = f'{P} prompts x {G}, T={T}'
    auto = f"{get_sampler('auto', dev).__name__} + {'the HF forward' if dev.type == 'cuda' else 'the engine forward'}"
    for name, kw in (('grpo_train sampler=reference', dict(sampler='reference', forward='reference')),
                     ('grpo_train sampler=auto', dict(sampler='auto', forward='auto'))):
        gc = GRPOConfig(task='addition', steps=steps, prompts_per_step=P, group_size=G, max_new_tokens=T, bf16=dev.type == 'cuda', seed=0, **kw)
        df = grpo_train(setup_model(cfg['model'], dev, torch.float32), tok, gc, run_dir=None, device=dev, progress=False)
        ts, st = grpo_steps_of(df), grpo_steps_of(df, col='sample_time_s')
        rows.append(row('grpo', name, size, median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts), rate=P * G / statistics.median(ts),
                        unit='completions/s', notes=f'median of {len(ts)} steps after a warm-up step; sampling {statistics.median(st):.3f} s of it'
                        + (f'; auto = {auto}' if kw['sampler'] == 'auto' else '')))
    task = get_task('addition')
    problems = task.sample(P * steps * 2, 'train', seed=0)
    rows.append(trl_row(lambda: setup_model(cfg['model'], dev, torch.float32), tok, problems, P, G, T, steps, 1e-4, dev, args, size))
    peer_ratios(rows, 'grpo', 'trl GRPOTrainer', 'size')
    return rows

class StepParts:
    "Benchmark-only timers around the pieces `grpo_train` calls (module globals of warmstart_kit.trainer); the library is unchanged."
    PARTS = ('sampling', 'rewards', 'token roles', 'rest of rollout', 'forward (log-probs, entropy)', 'backward + loss',
             'clip grad norm', 'optimizer step', 'step metrics', 'unaccounted')

    def __init__(self): self.cur, self.steps, self.saved = {}, [], []

    def add(self, k, dt): self.cur[k] = self.cur.get(k, 0.0) + dt

    def timed(self, key, fn):
        def f(*a, **kw):
            t = time.perf_counter()
            try: return fn(*a, **kw)
            finally: self.add(key, time.perf_counter() - t)
        return f

    def __enter__(self):
        import warmstart_kit.rl.trainer as tr
        self.tr = tr
        for name in ('collect_rollout', 'score_rewards', 'token_roles', 'policy_update', 'step_metrics'):
            self.saved.append((tr, name, getattr(tr, name))); setattr(tr, name, self.timed(name, getattr(tr, name)))
        gs, su = tr.get_scorer, tr.setup_training
        self.saved += [(tr, 'get_scorer', gs), (tr, 'setup_training', su), (torch.nn.utils, 'clip_grad_norm_', torch.nn.utils.clip_grad_norm_)]
        tr.get_scorer = lambda *a, **kw: self.timed('forward', gs(*a, **kw))
        def setup(*a, **kw):
            st = su(*a, **kw); st.opt.step = self.timed('opt', st.opt.step); return st
        tr.setup_training = setup
        torch.nn.utils.clip_grad_norm_ = self.timed('clip', torch.nn.utils.clip_grad_norm_)
        return self

    def __exit__(self, *exc):
        for mod, name, fn in reversed(self.saved): setattr(mod, name, fn)

    def callback(self, step, r, model):
        "grpo_train's per-step callback: close this step's timers."
        g = lambda k: self.cur.get(k, 0.0)
        parts = {'sampling': r['sample_time_s'], 'rewards': g('score_rewards'), 'token roles': g('token_roles'),
                 'rest of rollout': g('collect_rollout') - r['sample_time_s'] - g('score_rewards') - g('token_roles'),
                 'forward (log-probs, entropy)': g('forward'),
                 'backward + loss': g('policy_update') - g('forward') - g('clip') - g('opt'),
                 'clip grad norm': g('clip'), 'optimizer step': g('opt'), 'step metrics': g('step_metrics')}
        parts['unaccounted'] = r['step_time_s'] - g('collect_rollout') - g('policy_update') - g('step_metrics')
        self.steps.append(dict(step=step, total=r['step_time_s'], **parts)); self.cur = {}

def grpo_bases(cfg, dev, args):
    """GRPO step time on each trained base: `grpo_train` (sampler='auto', forward='auto') vs TRL's GRPOTrainer on the same
    base, batch and reward; then one more `grpo_train` run with timers around its pieces (where the time goes)."""
    from warmstart_kit.rl.grpo import GRPOConfig
    from warmstart_kit.rl.trainer import grpo_train
    from warmstart_kit.tasks.families import get_task
    from warmstart_kit.sampling.sampler import get_sampler
    P, G, T, steps, lr = cfg['grpo_prompts'], cfg['grpo_group'], cfg['grpo_new_tokens'], cfg['grpo_steps'], cfg['grpo_lr']
    task, rows = get_task(cfg['task'], preset=cfg['task_preset']), []
    for name in cfg['bases']:
        lab = base_label(name); size = f'{lab}: {P} prompts x {G}, T<={T}'
        gc = GRPOConfig(task=cfg['task'], task_preset=cfg['task_preset'], steps=steps, prompts_per_step=P, group_size=G, max_new_tokens=T,
                        temperature=1.0, lr=lr, sampler='auto', forward='auto', seed=0)
        model, tok, peer_tok, _ = load_base(name, dev)
        df = grpo_train(model, tok, gc, run_dir=None, device=dev, progress=False)
        ts, st, L = grpo_steps_of(df), grpo_steps_of(df, col='sample_time_s'), grpo_steps_of(df, col='completion_length')
        ours = row('grpo', 'grpo_train (auto)', size, median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts),
                   rate=P * G / statistics.median(ts), unit='completions/s', base=name, mean_length=statistics.mean(L),
                   notes=f"sampler={get_sampler('auto', dev).__name__}, forward=engine; median of {len(ts)} steps after a warm-up step; "
                         f'sampling {statistics.median(st):.3f} s of it; mean completion {statistics.mean(L):.1f} tokens, '
                         f"accuracy {statistics.mean(df['accuracy'].to_list()):.2f}")
        plen = statistics.mean(len(p.prompt) + 1 for p in task.sample(64, 'train', seed=0))
        tok_step = int(P * G * (plen + statistics.mean(L)))
        floor = cpu_floor(model, tok_step, tok_step, args)          # sample every token once, then forward + backward over every row
        if floor: ours.update(floor_s=floor, floor_frac=floor / ours['median_s'])
        rows.append(ours)
        # the same run with the former default of 64 rows per forward/backward pass (auto is 16 on a CPU)
        m64 = load_base(name, dev)[0]
        d64 = grpo_train(m64, tok, dataclasses.replace(gc, micro_batch=64), run_dir=None, device=dev, progress=False)
        t64 = grpo_steps_of(d64)
        rows.append(row('grpo', 'grpo_train (auto, micro_batch=64)', size, median_s=statistics.median(t64), min_s=min(t64), max_s=max(t64),
                        rate=P * G / statistics.median(t64), unit='completions/s', base=name,
                        notes=f'as above with 64 rows per forward/backward pass; sampling {statistics.median(grpo_steps_of(d64, col="sample_time_s")):.3f} s'))
        problems = task.sample(P * steps * 2, 'train', seed=0)
        peer = trl_row(lambda: load_base(name, dev)[0], peer_tok, problems, P, G, T, steps, lr, dev, args, size, base=name)
        rows.append(peer)
        peer_ratios(rows, 'grpo', 'trl GRPOTrainer', 'size')
        set_target(ours, cfg['targets']['grpo'])
        # where the time of our step goes: a second run with timers around the pieces (the headline above ran without them)
        with StepParts() as sp:
            model, tok = load_base(name, dev)[:2]
            grpo_train(model, tok, gc, run_dir=None, device=dev, progress=False, callback=sp.callback)
        kept = sp.steps[1:] or sp.steps
        tot = statistics.median([s['total'] for s in kept])
        for k in StepParts.PARTS:
            v = statistics.median([s[k] for s in kept])
            rows.append(row('grpo', f'  ours: {k}', size, median_s=v, part=True, base=name, share=v / tot,
                            notes=f'{v / tot:.0%} of the instrumented step ({tot:.3f} s, median of {len(kept)})'))
        for k, v in (peer.get('parts') or {}).items():
            rows.append(row('grpo', f'  trl: {k}', size, median_s=v, part=True, base=name, share=v / peer['median_s'],
                            notes=f"{v / peer['median_s']:.0%} of TRL's step (median per step)"))
    return rows

def trl_config(want:dict):
    "trl.GRPOConfig from `want`, keeping only the fields this TRL version has (a few known renames mapped); (config, dropped keys)."
    import trl
    known = {f.name for f in dataclasses.fields(trl.GRPOConfig)}
    renames = {'max_completion_length': ('max_new_tokens',), 'use_cpu': ('no_cuda',), 'beta': ('kl_coef',)}
    kw, dropped = {}, []
    for k, v in want.items():
        alt = k if k in known else next((a for a in renames.get(k, ()) if a in known), None)
        if alt: kw[alt] = v
        else: dropped.append(k)
    return trl.GRPOConfig(**kw), dropped

def trl_row(make_model, tok, problems, P, G, T, steps, lr, dev, args, size, base=None):
    "One `trl GRPOTrainer` row (skipped without trl, failed if its API rejects the setup): median step time from a callback, and its parts."
    try:
        import trl, datasets  # noqa: F401
    except ImportError as e:
        return row('grpo', 'trl GRPOTrainer', size, f'skipped: trl not installed ({e})', base=base)
    try: return _trl_grpo(make_model, tok, problems, P, G, T, steps, lr, dev, args, size, base)
    except Exception as e:  # noqa: BLE001 - TRL's API moves; report rather than crash
        traceback.print_exc(); return row('grpo', 'trl GRPOTrainer', size, f'failed: {type(e).__name__}: {e}', base=base)

def _trl_grpo(make_model, tok, problems, P, G, T, steps, lr, dev, args, size, base):
    "TRL's GRPOTrainer on the same model, task, reward and batch; step time from a callback, parts from TRL's own profiling contexts."
    import trl, datasets
    from transformers import TrainerCallback
    from warmstart_kit.rl.rewards import ground_truth
    threads = torch.get_num_threads()
    cols = {'prompt': [p.prompt for p in problems], 'task': [p.task for p in problems],
            'answer': [p.answer for p in problems], 'key': [p.key for p in problems]}
    try: ds = datasets.Dataset.from_dict(cols)
    except Exception as e:  # noqa: BLE001 - fingerprinting pickles the arrow table; some interpreter/dill pairs cannot
        log(f'  datasets could not fingerprint the prompt table ({type(e).__name__}); building it with a fixed fingerprint')
        from datasets.table import InMemoryTable
        ds = datasets.Dataset(InMemoryTable.from_pydict(cols), fingerprint='warmstart-bench-prompts')
    out = tempfile.mkdtemp(prefix='trl-grpo-', dir=args.tmp)
    want = dict(output_dir=out, per_device_train_batch_size=P * G, num_generations=G, gradient_accumulation_steps=1,
                max_completion_length=T, max_steps=steps, learning_rate=lr, lr_scheduler_type='constant', weight_decay=0.0,
                adam_beta2=0.99, max_grad_norm=1.0, temperature=1.0, top_p=1.0, top_k=0, beta=0.0, num_iterations=1,
                loss_type='grpo', gradient_checkpointing=False, bf16=dev.type == 'cuda', use_cpu=dev.type != 'cuda',
                logging_steps=1, report_to='none', save_strategy='no', disable_tqdm=True, seed=0, dataloader_num_workers=0)
    targs, dropped = trl_config(want)
    gbs = getattr(targs, 'generation_batch_size', None)
    if gbs is not None and gbs != P * G: raise RuntimeError(f'TRL would generate {gbs} completions per step, not {P * G}')
    times, prof, cur = [], [], {}
    class Clock(TrainerCallback):
        def on_step_begin(self, a, s, c, **kw): sync(dev); self.t = time.perf_counter()
        def on_step_end(self, a, s, c, **kw):
            sync(dev); times.append(time.perf_counter() - self.t); prof.append(dict(cur)); cur.clear()
    try:                      # TRL's profiling contexts time its pieces but only report to wandb/mlflow/trackio: collect them here
        from trl.extras.profiling import ProfilingContext
        orig_log = ProfilingContext._log_metrics
        def _collect(self, duration):
            k = self.name.split('.', 1)[-1]; cur[k] = cur.get(k, 0.0) + duration
        ProfilingContext._log_metrics = _collect
    except (ImportError, AttributeError):
        ProfilingContext = None
    try:
        trainer = trl.GRPOTrainer(model=make_model(), reward_funcs=[ground_truth], args=targs, train_dataset=ds,
                                  processing_class=tok, callbacks=[Clock()])
        try:
            from transformers.trainer_callback import PrinterCallback
            trainer.remove_callback(PrinterCallback)   # its per-step log dicts would land on stdout, above the table
        except ImportError: pass
        torch.set_num_threads(threads)          # the same CPU threads as ours, whatever the trainer set up
        with contextlib.redirect_stdout(sys.stderr): trainer.train()
    finally:
        if ProfilingContext is not None: ProfilingContext._log_metrics = orig_log
        shutil.rmtree(out, ignore_errors=True)
    ts = times[1:] or times
    lens = [h['completions/mean_length'] for h in trainer.state.log_history if 'completions/mean_length' in h][1:]
    parts = None
    kept = prof[1:] or prof
    if kept and any(kept):
        med = lambda k: statistics.median([p.get(k, 0.0) for p in kept])
        gen = med('transformers.generate'); prep = med('_prepare_inputs'); rew = med('_calculate_rewards'); loss = med('compute_loss')
        parts = {'generate (transformers.generate)': gen, 'rewards (_calculate_rewards)': rew,
                 'rest of _generate_and_score_completions': prep - gen - rew, 'compute_loss (forward, log-probs, loss)': loss,
                 'backward + optimizer + rest': statistics.median(ts) - prep - loss}
    note = (f'trl {trl.__version__}; median of {len(ts)} steps after a warm-up step; loss_type={getattr(targs, "loss_type", "?")}, '
            f'gradient_checkpointing={getattr(targs, "gradient_checkpointing", "?")}, generation_batch_size={gbs}'
            + (f'; mean completion {statistics.mean(lens):.1f} tokens' if lens else '')
            + (f'; settings this TRL lacks: {dropped}' if dropped else ''))
    return row('grpo', 'trl GRPOTrainer', size, median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts),
               rate=P * G / statistics.median(ts), unit='completions/s', base=base, parts=parts,
               mean_length=statistics.mean(lens) if lens else None, trl=trl.__version__, notes=note)


# ---------------------------------------------------------------- table, meta, main
def _fmt(x, unit=''):
    if x is None: return ''
    if isinstance(x, float) and math.isnan(x): return 'nan'
    if unit == 's': return f'{x * 1e3:.2f} ms' if x < 1 else f'{x:.2f} s'
    return f'{x:.3g}' if abs(x) >= 1e6 else f'{x:,.0f}' if abs(x) >= 100 else f'{x:.3g}'

def _grid(cols, lines)->list:
    w = [max(len(c), *(len(l[i]) for l in lines)) if lines else len(c) for i, c in enumerate(cols)]
    fmt = lambda l: ' | '.join(x.ljust(w[i]) for i, x in enumerate(l)).rstrip()
    return [fmt(cols), '-+-'.join('-' * x for x in w)] + [fmt(l) for l in lines]

def table(meta, rows)->str:
    "Every row: median, spread, rate, ratio to the peer, floor, status or notes."
    head = (f"warmstart_kit benchmarks — size {meta['size']} on {meta['device_name']} ({meta['dtype']}, {meta['threads']} thread(s)); "
            f"torch {meta['torch']}, transformers {meta['transformers']}; median of {meta['repeats']} after {meta['warmup']} warm-up")
    cols = ['bench', 'variant', 'size', 'median', '[min, max]', 'rate', 'vs peer', 'floor', 'of floor', 'status / notes']
    lines = []
    for r in rows:
        spread_ = f"[{_fmt(r['min_s'], 's')}, {_fmt(r['max_s'], 's')}]" if r.get('min_s') is not None else ''
        rate = f"{_fmt(r['rate'])} {r['unit']}" if r.get('rate') is not None else ''
        note = r['notes'] if r['status'] == 'ok' else (r['status'] + ('; ' + r['notes'] if r['notes'] else ''))
        lines.append([r['bench'], r['variant'], r['size'], _fmt(r['median_s'], 's'), spread_, rate,
                      f"{r['vs_peer']:.2f}x" if r.get('vs_peer') else '', _fmt(r.get('floor_s'), 's'),
                      f"{r['floor_frac']:.1%}" if r.get('floor_frac') else '', note])
    return '\n'.join([head] + _grid(cols, lines))

def summary(rows)->list:
    "One line per comparison with a peer: ours, peer, ratio, target, met (rows of the same bench and size)."
    out = []
    peers = {'sample': 'hf_generate', 'grpo': 'trl GRPOTrainer', 'train': 'fp32, AdamW'}
    for r in rows:
        pv = peers.get(r['bench'])
        if r.get('part') or r['variant'] == pv or r['status'] != 'ok' or r.get('median_s') is None: continue
        p = next((q for q in rows if q['bench'] == r['bench'] and q['size'] == r['size'] and q['variant'] == pv), None)
        if p is None: continue
        out.append(dict(bench=r['bench'], size=r['size'], ours=r['variant'], ours_s=r['median_s'], peer=pv,
                        peer_s=p['median_s'], peer_status=p['status'], ratio=r.get('vs_peer'), target=r.get('target'), met=r.get('met'),
                        floor_s=r.get('floor_s'), floor_frac=r.get('floor_frac')))
    return out

def summary_table(summ)->str:
    cols = ['bench', 'workload', 'ours', 'ours median', 'peer', 'peer median', 'ratio', 'target', 'met?', 'floor', 'ours of floor']
    lines = [[s['bench'], s['size'], s['ours'], _fmt(s['ours_s'], 's'), s['peer'],
              _fmt(s['peer_s'], 's') if s['peer_s'] else s['peer_status'], f"{s['ratio']:.2f}x" if s['ratio'] else '',
              f"≥ {s['target']:g}x" if s['target'] else '', {True: 'yes', False: 'NO', None: ''}[s['met']],
              _fmt(s.get('floor_s'), 's') if s.get('floor_s') else '', f"{s['floor_frac']:.0%}" if s.get('floor_frac') else ''] for s in summ]
    return '\n'.join(['Against the peers (ratio = peer median / ours; higher is faster):'] + _grid(cols, lines))

def parts_table(rows)->str:
    "Where one GRPO step goes (the `part` rows), ours and TRL's, per base."
    parts = [r for r in rows if r.get('part')]
    if not parts: return ''
    lines = [[r['size'].split(':')[0], r['variant'].strip(), _fmt(r['median_s'], 's'), f"{r['share']:.0%}"] for r in parts]
    return '\n'.join(['One GRPO step, piece by piece (medians over the steps after the first):'] + _grid(['base', 'piece', 'median', 'share'], lines))

def device_slug(dev)->str:
    if dev.type != 'cuda': return 'cpu'
    return re.sub(r'[^a-z0-9]+', '-', torch.cuda.get_device_name(dev).lower()).strip('-')

def cpu_name()->str:
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or 'cpu'

def versions()->dict:
    from importlib.metadata import version, PackageNotFoundError
    out = {}
    for p in ('trl', 'accelerate', 'datasets', 'polars', 'numpy'):
        try: out[p] = version(p)
        except PackageNotFoundError: out[p] = None
    return out

def meta_info(args, dev, dtype, cfg):
    import transformers
    try: commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError: commit = ''
    m = dict(size=args.size, device=dev.type, device_name=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else cpu_name(),
             dtype=str(dtype).replace('torch.', ''), torch=torch.__version__, transformers=transformers.__version__,
             cuda=torch.version.cuda, python=platform.python_version(), threads=torch.get_num_threads(), cpu_count=os.cpu_count(),
             load_avg_start=os.getloadavg(), git_commit=commit, peak_flops=args.peak_flops, bandwidth=args.bandwidth,
             warmup=cfg['warmup'], repeats=cfg['repeats'], config=cfg, time=time.strftime('%Y-%m-%dT%H:%M:%S'), argv=sys.argv[1:],
             **versions())
    if dev.type == 'cuda':
        p = torch.cuda.get_device_properties(dev)
        m.update(gpu_memory_gb=p.total_memory / 2**30, capability=f'{p.major}.{p.minor}', sms=p.multi_processor_count)
    return m

def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', choices=sorted(SIZES), default='tiny',
                   help='tiny: CPU smoke check; cpu: trained bases on one CPU thread; full: the issue configuration (GPU)')
    p.add_argument('--json', default=None, help='where to write the rows (default benchmarks/results-<device>.json; '
                                                 '-tiny added for --size tiny; --size cpu writes results-cpu.json)')
    p.add_argument('--json-dir', default=None, help='folder for the default-named JSON (default: benchmarks/)')
    p.add_argument('--only', default=None, help=f'comma-separated subset of {",".join(BENCHES)} (default: all; check,sample,grpo for --size cpu)')
    p.add_argument('--device', default=None, help='auto, cpu or cuda (default: auto; cpu for --size cpu)')
    p.add_argument('--dtype', default='auto', choices=['auto', 'fp32', 'bf16'], help='sampling dtype (auto: bf16 on CUDA, fp32 on CPU)')
    p.add_argument('--peak-flops', type=float, default=989e12, help='peak dense bf16 FLOP/s for MFU (H100 SXM: 989e12)')
    p.add_argument('--bandwidth', type=float, default=3.35e12, help='memory bandwidth in B/s for the decode floor (H100 SXM: 3.35e12)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: 1 for --size tiny and cpu on a CPU, else unchanged)')
    p.add_argument('--repeats', type=int, default=None, help='override the size preset')
    p.add_argument('--seed', type=int, default=None, help='seed the random prompts (default: fresh every run)')
    p.add_argument('--tmp', default=None, help='scratch folder for parquet parts and TRL output (default: system temp)')
    return p.parse_args(argv)

def write_results(path, meta, rows):
    res = dict(meta=meta, rows=rows, summary=summary(rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp'); tmp.write_text(json.dumps(res, indent=1, default=str)); os.replace(tmp, path)
    return res

def main(argv=None)->dict:
    "Run the chosen benchmarks; print the tables; write and return {'meta', 'rows', 'summary'} (the JSON is rewritten after every benchmark)."
    args = parse(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))          # the repo's warmstart_kit, without installing
    from warmstart_kit.models.build import resolve_device
    cfg = dict(SIZES[args.size]); cfg['repeats'] = args.repeats or cfg['repeats']
    dev = resolve_device(args.device or cfg.get('device', 'auto'))
    dtype = {'fp32': torch.float32, 'bf16': torch.bfloat16}.get(args.dtype, torch.bfloat16 if dev.type == 'cuda' else torch.float32)
    if cfg.get('bases') and dtype != torch.float32: raise SystemExit('--size cpu runs the trained bases in fp32')
    threads = args.threads or (cfg.get('threads') if dev.type == 'cpu' else None)
    if threads: torch.set_num_threads(threads)
    if args.seed is not None: random.seed(args.seed); torch.manual_seed(args.seed)
    args.tmp = args.tmp or tempfile.gettempdir()
    only = [b.strip() for b in (args.only or cfg.get('only') or ','.join(BENCHES)).split(',') if b.strip()]
    bad = set(only) - set(BENCHES)
    if bad: raise SystemExit(f'unknown benchmark(s) {sorted(bad)}; known: {", ".join(BENCHES)}')
    meta = meta_info(args, dev, dtype, cfg)
    suffix = '' if args.size == 'cpu' or (args.size == 'full' and dev.type == 'cuda') else f'-{args.size}'
    path = Path(args.json) if args.json else Path(args.json_dir or Path(__file__).parent) / f'results-{device_slug(dev)}{suffix}.json'
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
        write_results(path, meta, rows)                                # partial results survive a time-out
    meta['load_avg_end'] = os.getloadavg()
    res = write_results(path, meta, rows)
    print(table(meta, rows))
    if res['summary']: print('\n' + summary_table(res['summary']))
    if any(r.get('part') for r in rows): print('\n' + parts_table(rows))
    print(f'\n{len(rows)} rows in {meta["wall_s"]:.1f} s; JSON: {path}')
    return res


if __name__ == '__main__':
    main()
