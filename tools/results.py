"""The saved result the README quotes: `save RUN` writes data/results/default_study.json from a finished default-study run
folder; `compare RUN` checks a fresh run (e.g. `make demo`'s runs/demo) against the saved file and prints every difference.

    python tools/results.py save runs/results      # make results does this after a fresh default study
    python tools/results.py compare runs/demo      # exit 1 when a number or verdict differs from the saved file
"""
import argparse, json, math, sys
from pathlib import Path
from warmstart_kit.studies.warmstart import save_results, study_results

ROOT = Path(__file__).resolve().parents[1]
SAVED = ROOT / 'data' / 'results' / 'default_study.json'

def _numbers(res:dict)->dict:
    "Every number and verdict of a result, by a readable key."
    out = {}
    for r in res['per_dose']:
        out.update({f"dose {r['dose']:g}: {k}": v for k, v in r.items() if k != 'dose'})
    for r in res['verdicts']:
        key = f"{r['finding']} @ {r['tested_on']}"
        out.update({f'{key}: {k}': r[k] for k in ('measured', 'lo', 'hi', 'verdict')})
    return out

def _same(a, b, tol:float)->bool:
    if isinstance(a, float) and isinstance(b, float): return abs(a - b) <= tol or (math.isnan(a) and math.isnan(b))
    return a == b

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('action', choices=('save', 'compare'))
    p.add_argument('run', type=Path, help='a finished default-study run folder')
    p.add_argument('--file', type=Path, default=SAVED, help=f'the results file (default: {SAVED.relative_to(ROOT)})')
    p.add_argument('--tol', type=float, default=1e-9, help='largest difference of two numbers that compare calls equal')
    a = p.parse_args(argv)
    if not (a.run / 'verdicts.parquet').exists(): p.exit(2, f'results: error: {a.run} is not a finished study run folder (no verdicts.parquet)\n')
    if a.action == 'save':
        save_results(a.run, a.file, 'make results (warmstart study --preset default)')
        print(f'saved {a.file}'); return 0
    res = study_results(a.run)
    if not a.file.exists(): p.exit(2, f'results: error: no saved result at {a.file}\n')
    saved, now = _numbers(json.loads(a.file.read_text())), _numbers(res)
    diff = [(k, saved.get(k), now.get(k)) for k in sorted(set(saved) | set(now)) if not _same(saved.get(k), now.get(k), a.tol)]
    print(f'{len(saved)} saved numbers and verdicts, {len(now)} in {a.run}; {len(diff)} differ (tolerance {a.tol:g})')
    for k, x, y in diff: print(f'  {k}: saved {x!r}, now {y!r}')
    return 1 if diff else 0

if __name__ == '__main__': sys.exit(main())
