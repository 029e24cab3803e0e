"Execute a notebook with execnb (slow cells included, gpu cells and the export cell skipped) and save it with its outputs."
import os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
src, dest = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
subs = dict(a.split('=>', 1) for a in sys.argv[3:])          # dry runs: 'old=>new' replacements in code cells
nb = read_nb(src)
for c in nb.cells:
    if c.cell_type == 'code':
        for a, b in subs.items(): c.source = c.source.replace(a, b)
def skip(cell):
    if cell.cell_type != 'code' or 'nbdev_export(' in cell.source: return True
    return cell.source.split('\n', 1)[0].strip() == '#| gpu'
t0 = time.time(); n = [0]
def post(cell):
    n[0] += 1; print(f'[{src.name} {time.time() - t0:.0f}s] cell {n[0]}', flush=True)
os.chdir(src.parent)
sh = CaptureShell(src)
try: sh.run_all(nb, exc_stop=True, preproc=skip, postproc=post)
finally:
    write_nb(nb, dest); print(src.name, 'written', dest, 'error:', repr(sh.exc)[:2000], f'{time.time() - t0:.0f}s', flush=True)
