#!/usr/bin/env python
"""Throughput and peak memory of `warmstart_kit.analysis.sparsity.compare_checkpoints` on a crafted, sharded checkpoint pair.

A child process writes the pair into a temporary folder (so building it does not count towards this process's peak
memory): big random matrices (std 0.02) plus norm vectors of ones, split into `--shards` safetensors files with a
`model.safetensors.index.json`, like a sharded Hugging Face checkpoint. The final checkpoint adds 1e-2 to a known
`--density` of the entries of every tensor, so the exact changed count is checked as well as timed.

    .venv/bin/python benchmarks/sparsity_bench.py               # 'large': ~400 MB per checkpoint in fp32
    .venv/bin/python benchmarks/sparsity_bench.py --size tiny   # a few MB: smoke run, seconds
    .venv/bin/python benchmarks/sparsity_bench.py --dtype bf16 --device cuda

Peak memory is the process's peak resident set size during the comparison: on Linux the peak (VmHWM) is reset just
before it via /proc/self/clear_refs, elsewhere it falls back to getrusage's peak since the process started. It includes
file pages mapped by safetensors while a tensor is read. The files were just written, so the page cache is warm: GB/s is
the comparison's speed, not the disk's.
"""
from __future__ import annotations
import argparse, json, math, os, platform, resource, subprocess, sys, tempfile, time
from pathlib import Path

SIZES = {  # n matrices, rows, cols
    'tiny':  (4, 256, 512),      # ~2 MB per checkpoint in fp32
    'small': (6, 1024, 2048),    # ~50 MB
    'large': (6, 4096, 4096),    # ~400 MB
    'xl':    (12, 4096, 8192),   # ~1.6 GB
}
INDEX = 'model.safetensors.index.json'

def _names(n_mats):
    "Llama-like names: matrices alternate attention q / mlp up, one norm per layer."
    out = []
    for i in range(n_mats):
        layer, kind = divmod(i, 2)
        out.append((f'model.layers.{layer}.' + ('self_attn.q_proj.weight' if kind == 0 else 'mlp.up_proj.weight'), True))
        if kind == 1 or i == n_mats - 1: out.append((f'model.layers.{layer}.input_layernorm.weight', False))
    return out

def build(folder:Path, size:str, dtype:str, shards:int, density:float, seed:int):
    "Write folder/init and folder/final shard by shard; print a JSON line with what was built."
    import torch
    from safetensors.torch import save_file
    n_mats, rows, cols = SIZES[size]
    dt = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}[dtype]
    names = _names(n_mats)
    shards = max(1, min(shards, len(names)))
    per = math.ceil(len(names) / shards)
    groups = [names[i:i + per] for i in range(0, len(names), per)]
    g = torch.Generator().manual_seed(seed)
    maps = {'init': {}, 'final': {}}; changed = nbytes = largest = 0
    for side in maps: (folder / side).mkdir(parents=True)
    for j, grp in enumerate(groups):
        fname = f'model-{j + 1:05d}-of-{len(groups):05d}.safetensors'
        t0, t1 = {}, {}
        for name, is_mat in grp:
            a = (torch.randn(rows, cols, generator=g) * 0.02).to(dt) if is_mat else torch.ones(cols, dtype=dt)
            b = a.clone(); k = round(density * a.numel())
            idx = torch.randperm(a.numel(), generator=g)[:k]
            b.view(-1)[idx] += 1e-2
            t0[name], t1[name] = a, b
            changed += int((a != b).sum()); nbytes += a.nbytes; largest = max(largest, a.nbytes)
        for side, tens in (('init', t0), ('final', t1)):
            save_file(tens, folder / side / fname, metadata={'format': 'pt'})
            maps[side].update({k: fname for k in tens})
        del t0, t1
    for side, wm in maps.items():
        (folder / side / INDEX).write_text(json.dumps({'metadata': {'total_size': nbytes}, 'weight_map': wm}))
    print(json.dumps(dict(changed=changed, bytes=nbytes, largest=largest, tensors=len(names), shards=len(groups))))

def _reset_peak()->bool:
    try: Path('/proc/self/clear_refs').write_text('5'); return True
    except OSError: return False

def _status_kb(key):
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith(key + ':'): return int(line.split()[1])
    except OSError: pass
    return None

def _peak_mb(reset_ok):
    hwm = _status_kb('VmHWM') if reset_ok else None
    if hwm is not None: return hwm / 1024, 'VmHWM since reset'
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (r / 1024 / 1024 if sys.platform == 'darwin' else r / 1024), 'ru_maxrss since start'

def _cpu_name():
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', choices=list(SIZES), default='large')
    p.add_argument('--dtype', choices=['fp32', 'bf16', 'fp16'], default='fp32')
    p.add_argument('--shards', type=int, default=3, help='shard files per checkpoint')
    p.add_argument('--density', type=float, default=0.1, help='fraction of entries the final checkpoint changes')
    p.add_argument('--device', default='cpu', help="cpu, cuda or auto (cuda if available)")
    p.add_argument('--chunk-elems', type=int, default=2**26, help='compare_checkpoints block size (elements)')
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads for the comparison (default: torch default)')
    p.add_argument('--repeat', type=int, default=1, help='comparisons to time (the best is reported)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--dir', default=None, help='where to put the temporary checkpoints (default: system temp)')
    p.add_argument('--_build', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a._build: return build(Path(a._build), a.size, a.dtype, a.shards, a.density, a.seed)

    import torch, polars, safetensors, warmstart_kit
    from warmstart_kit.analysis.sparsity import compare_checkpoints, TOLS
    if a.threads: torch.set_num_threads(a.threads)
    device = ('cuda' if torch.cuda.is_available() else 'cpu') if a.device == 'auto' else a.device
    if device.startswith('cuda') and not torch.cuda.is_available(): sys.exit("--device cuda asked for but no CUDA GPU is available")
    dev_name = (f"cuda: {torch.cuda.get_device_name(0)}" if device.startswith('cuda')
                else f"cpu: {_cpu_name()} ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})")
    with tempfile.TemporaryDirectory(prefix='sparsity_bench_', dir=a.dir) as d:
        t = time.perf_counter()
        r = subprocess.run([sys.executable, __file__, '--_build', d, '--size', a.size, '--dtype', a.dtype, '--shards', str(a.shards),
                            '--density', str(a.density), '--seed', str(a.seed)], capture_output=True, text=True)
        if r.returncode: sys.exit(f"building the checkpoints failed:\n{r.stderr[-2000:]}")
        info = json.loads(r.stdout.strip().splitlines()[-1]); build_s = time.perf_counter() - t
        init, final = Path(d) / 'init', Path(d) / 'final'
        rss_before = (_status_kb('VmRSS') or 0) / 1024
        reset_ok = _reset_peak()
        if device.startswith('cuda'): torch.cuda.reset_peak_memory_stats()
        runs = [compare_checkpoints(init, final, tols=TOLS, chunk_elems=a.chunk_elems, device=device) for _ in range(a.repeat)]
        peak_mb, how = _peak_mb(reset_ok)
        gpu_peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith('cuda') else None
    best = min(runs, key=lambda c: c.seconds)
    got = int(best.tensors['changed_exact'].sum())
    ok = got == info['changed'] and best.tensors.height == info['tensors']
    vers = (f"python {platform.python_version()}, torch {torch.__version__}, safetensors {safetensors.__version__}, "
            f"polars {polars.__version__}, warmstart_kit {warmstart_kit.__version__}")
    print("sparsity benchmark: compare_checkpoints on a crafted sharded checkpoint pair")
    print(f"  device      {dev_name}")
    print(f"  versions    {vers}")
    print(f"  checkpoint  {info['tensors']} tensors in {info['shards']} shards, {a.dtype}, {info['bytes'] / 1e6:.1f} MB each, "
          f"largest tensor {info['largest'] / 1e6:.1f} MB (built in {build_s:.1f} s; page cache warm)")
    print(f"  tolerances  {len(TOLS)} (exact ... 1e-04), block {a.chunk_elems:,} elements, best of {a.repeat}")
    hdr = ['size', 'dtype', 'MB/ckpt', 'GB read', 'seconds', 'GB/s', 'peak RSS MB',
           'RSS before MB'] + (['GPU peak MB'] if gpu_peak is not None else []) + ['exact count']
    row = [a.size, a.dtype, f"{best.gb * 1e3:.1f}", f"{best.gb_read:.3f}", f"{best.seconds:.3f}", f"{best.gb_per_s:.2f}",
           f"{peak_mb:.0f}", f"{rss_before:.0f}"] + ([f"{gpu_peak:.0f}"] if gpu_peak is not None else []) + \
          [f"{got:,} {'ok' if ok else 'WRONG, expected ' + format(info['changed'], ',')}"]
    w = [max(len(h), len(v)) for h, v in zip(hdr, row)]
    print('| ' + ' | '.join(h.ljust(n) for h, n in zip(hdr, w)) + ' |')
    print('|' + '|'.join('-' * (n + 2) for n in w) + '|')
    print('| ' + ' | '.join(v.ljust(n) for v, n in zip(row, w)) + ' |')
    print(f"  peak RSS is {how}; GB/s = bytes read from both checkpoints / wall time")
    if not ok: sys.exit(1)

if __name__ == '__main__': main()
