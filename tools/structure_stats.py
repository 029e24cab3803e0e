"""The structure numbers of the house issue, for a checkout: modules per folder, the largest module, the longest function,
exported cells (median, max, over 50 lines), library lines over 120 characters.

    python tools/structure_stats.py [REPO]        # default: this repository
"""
import ast, json, statistics, sys
from collections import Counter
from pathlib import Path


def stats(repo:Path)->dict:
    lib = [p for p in (repo / 'warmstart_kit').rglob('*.py') if p.name not in ('_modidx.py', '__init__.py')]
    folders = Counter(str(p.parent.relative_to(repo)) for p in lib)
    sizes = {str(p.relative_to(repo)): len(p.read_text().splitlines()) for p in lib}
    longest = (0, '')
    for p in lib:
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                longest = max(longest, (n.end_lineno - n.lineno + 1, f'{p.relative_to(repo)}:{n.name}'))
    cells = []
    for nb in (repo / 'nbs').rglob('*.ipynb'):
        for c in json.loads(nb.read_text())['cells']:
            src = ''.join(c['source'])
            if c['cell_type'] == 'code' and src.lstrip().startswith('#| export'): cells.append(len(src.splitlines()) - 1)
    long_lines = sum(1 for p in lib for l in p.read_text().splitlines() if len(l) > 120)
    return {'modules': len(lib), 'folders': dict(sorted(folders.items())), 'library lines': sum(sizes.values()),
            'largest module': max(sizes.items(), key=lambda kv: kv[1]), 'longest function': longest[::-1],
            'exported cells': len(cells), 'exported cell median': statistics.median(cells), 'exported cell max': max(cells),
            'exported cells over 50 lines': sum(c > 50 for c in cells), 'lines over 120 chars': long_lines,
            'max line': max(len(l) for p in lib for l in p.read_text().splitlines())}


if __name__ == '__main__':
    print(json.dumps(stats(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])), indent=1))
