#!/usr/bin/env python
"""Build the docs site without Quarto: nbdev's notebook processing, then mkdocs + mkdocs-jupyter.

1. nbdev's own processing of every notebook in nbs/ (`nbdev.processors.FilterDefaults`, what `nbdev_proc_nbs`
   runs): directives, show_doc tables for every exported name, front matter. Cached in _proc/ by modification time,
   like `nbdev.serve.proc_nbs`. One difference: a cell that mixes imports with other code (which nbdev warns about,
   and whose other code then runs with only part of the notebook executed) runs only its imports, so the other code
   cannot fail or take minutes; its stored outputs stay as they are. Those cells are listed. nbdev drops the source of
   `#| export` cells from the docs, so exported constants (which get no show_doc) would vanish: their definitions, with
   their comments, are shown as a code block after the cell instead.
2. What Quarto would do with nbdev's output, done to a copy in _proc/site_src/: the front matter becomes the page's
   title and description, `#| echo: false` / `output: false` / `include: false` become mkdocs-jupyter's remove tags,
   directive comments are dropped from the code shown, widget outputs (which need a widget manager from a CDN to
   draw) are dropped, and Altair charts stored as HTML (which load vega-embed from a CDN) are drawn as SVG by vl-convert.
3. `mkdocs build` with the top-level mkdocs.yml, plus docs_dir, site_dir and the sidebar of nbs/sidebar.yml (layer order)
   (`nbdev_sidebar`), written to _proc/mkdocs.yml. MathJax 2.7 is copied from the PyPI package jupyter-server-mathjax
   (which `make docs-deps` installs): nothing on the site is fetched from outside it. Pages are named as nbdev names them
   (api/analysis/01_passk.ipynb -> api/analysis/passk.html), so nbdev's links
   to names (and _modidx.py) point at them; links to the published site (doc_host) are made relative.

Usage: python tools/docs_site.py [--out _docs] [--workers 2] [--force]
"""
from __future__ import annotations
import argparse, ast, json, os, re, shutil, subprocess, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROC = ROOT / '_proc'
SRC = PROC / 'site_src'

def _imports_only(cell)->str|None:
    "The import statements of a cell that nbdev would run only because it imports (and that also does other things)."
    from nbdev.processors import _ast_contains, _show_docs
    trees = cell.parsed_()
    if not trees or cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'} or _show_docs(trees): return None
    if not (_ast_contains(trees, (ast.Import, ast.ImportFrom)) and _ast_contains(trees, (ast.Expr, ast.Assign))): return None
    return '\n'.join(ast.unparse(t) for t in trees if isinstance(t, (ast.Import, ast.ImportFrom)))

def _patch_nbdev(mixed:list):
    "Make nbdev's exec_show_docs run only the imports of mixed cells (and note them in `mixed`)."
    import nbdev.processors as P
    from fastcore.basics import str2bool
    def __call__(self, cell):
        if not self.nb.has_docs_ or not hasattr(self, 'k'): return
        fm = getattr(self.nb, 'frontmatter_', {})
        if str2bool(fm.get('skip_showdoc', False)): return
        if P._do_eval(cell):
            imp = _imports_only(cell)
            if imp is None: self.k.cell(cell)
            else: mixed.append(cell.idx_); self.k.run(imp)
        if self.k.exc:
            raise Exception(f"Error in notebook {fm.get('title', '')} in cell {cell.idx_}:\n{cell.source}") from self.k.exc
    P.exec_show_docs.__call__ = __call__

def _constants_md(cell)->str|None:
    "The public module-level assignments (exported constants) of an `#| export` cell, with their comments, as a markdown code block."
    from nbdev.process import extract_directives
    if cell.cell_type != 'code' or 'export' not in extract_directives(cell, remove=False): return None
    try: tree = ast.parse(cell.source)
    except SyntaxError: return None
    lines, keep = cell.source.splitlines(), []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names = [n.id for t in targets for n in ([t] if isinstance(t, ast.Name) else getattr(t, 'elts', [])) if isinstance(n, ast.Name)]
        if not any(not n.startswith('_') for n in names): continue
        start = node.lineno - 1
        while start > 0 and lines[start - 1].lstrip().startswith('#') and not lines[start - 1].lstrip().startswith('#|'): start -= 1   # comments above it
        keep.append('\n'.join(lines[start:node.end_lineno]))
    return '```python\n' + '\n'.join(keep) + '\n```' if keep else None

def _with_constants(nb):
    "`nb` with a markdown cell showing the exported constants after each `#| export` cell that defines some."
    from execnb.nbio import mk_cell
    cells = []
    for c in nb.cells:
        cells.append(c)
        if (md := _constants_md(c)): cells.append(mk_cell(md, 'markdown'))
    for i, c in enumerate(cells): c.idx_ = i        # nbdev inserts show_doc cells by index
    nb.cells = cells
    return nb

def proc_one(src:str, dst:str)->tuple:
    "nbdev-process one notebook (in a fresh process): (name, seconds, cells whose imports alone ran)."
    os.environ['IN_TEST'] = '1'
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    mixed, t0 = [], time.time()
    _patch_nbdev(mixed)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Found cells containing imports')
        nb = _with_constants(read_nb(src)); FilterDefaults()(nb); write_nb(nb, dst)
    return Path(src).name, time.time() - t0, mixed

def sidebar()->list:
    "The sidebar's contents (nbs/sidebar.yml, in layer order): notebook paths and {'section': title, 'contents': [...]} dicts."
    import yaml
    from nbdev.config import get_config
    return yaml.safe_load((get_config().nbs_path / 'sidebar.yml').read_text())['website']['sidebar']['contents']

def flat(contents:list)->list:
    "The notebook paths of sidebar `contents`, in order, sections opened."
    return [x for c in contents for x in (flat(c['contents']) if isinstance(c, dict) else [c])]

def nbdev_process(workers:int=2, force:bool=False)->list:
    "Process every notebook of nbs/ into _proc/ (skipping those newer than their source); returns the sidebar's contents."
    from nbdev.config import get_config
    cfg = get_config()
    contents = sidebar(); order = flat(contents)
    listed, present = set(order), {str(p.relative_to(cfg.nbs_path)) for p in cfg.nbs_path.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts}
    if listed != present: sys.exit(f'nbs/sidebar.yml and nbs/ disagree: not listed {sorted(present - listed)}, listed but missing {sorted(listed - present)}')
    PROC.mkdir(exist_ok=True)
    import nbdev.processors   # like nbdev's proc_nbs: a newer settings.ini or nbdev invalidates the cache
    newest = max(cfg.config_file.stat().st_mtime, Path(nbdev.processors.__file__).stat().st_mtime, Path(__file__).stat().st_mtime)   # or this file
    jobs = []
    for name in order:
        src, dst = cfg.nbs_path / name, PROC / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if force or not dst.exists() or dst.stat().st_mtime < max(src.stat().st_mtime, newest): jobs.append((str(src), str(dst)))
    if jobs:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context('spawn')) as ex:
            sys.path.insert(0, str(Path(__file__).parent)); import docs_site   # workers find proc_one by module name
            for name, secs, mixed in ex.map(docs_site.proc_one, *zip(*jobs)):
                print(f'  nbdev processed {name} in {secs:.1f}s' + (f' (cells {mixed} mix imports with other code: only their imports ran)' if mixed else ''),
                      flush=True)
    return contents

_DIR = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_VEGA_CDN = re.compile(r'https://cdn\.jsdelivr\.net/npm/vega')

def _vega_svg(html:str)->str|None:
    "An Altair chart stored as HTML (vega-embed from a CDN, called with the Vega-Lite spec) drawn as SVG here; None for other HTML."
    i = html.rfind('})(')
    if not _VEGA_CDN.search(html) or i < 0: return None
    import vl_convert
    spec, _ = json.JSONDecoder().raw_decode(html, i + 3)
    return vl_convert.vegalite_to_svg(spec)

def _site_nb(nb:dict)->tuple:
    "The notebook as Quarto would show it: (title, notebook)."
    import yaml
    cells, title = [], None
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] == 'raw' and src.startswith('---'):          # nbdev's front matter -> title and description
            fm = yaml.safe_load(src.strip().strip('-')) or {}
            title = fm.get('title')
            head = title.replace('`', '') if title else None          # code marks in the heading cut mkdocs' page title ('CLI:')
            md = (f"# {head}\n\n" if head else '') + (f"> {fm['description']}\n" if fm.get('description') else '')
            if md: cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': md})
            continue
        if c['cell_type'] == 'code':
            lines = src.splitlines()
            dirs = {m.group(1): m.group(2).lower() for l in lines if (m := _DIR.match(l))}
            if dirs.get('include') == 'false': continue
            tags = c.setdefault('metadata', {}).setdefault('tags', [])
            if dirs.get('echo') == 'false': tags.append('remove_input')
            if dirs.get('output') == 'false': tags.append('remove_output')
            c['source'] = '\n'.join(l for l in lines if not _DIR.match(l)).strip('\n')
            outs = []
            for o in c.get('outputs', []):
                data = o.get('data')
                if data is not None:
                    if 'application/vnd.jupyter.widget-view+json' in data:
                        continue   # a live widget: drawn only where a widget manager runs (the notebook's charts are shown as SVG)
                    html = data.get('text/html')
                    svg = _vega_svg(''.join(html) if isinstance(html, list) else html) if html is not None else None
                    if svg is not None: o = {**o, 'data': {'image/svg+xml': svg, 'text/plain': data.get('text/plain', '')}}
                outs.append(o)
            c['outputs'] = outs
            if not c['source'].strip() and not outs: continue
        cells.append(c)
    nb = {**nb, 'cells': cells, 'metadata': {k: v for k, v in nb.get('metadata', {}).items() if k != 'widgets'}}
    return title, nb

def page_name(nb_name:str)->str:
    "The page a notebook becomes, named as nbdev names it (and links to it): api/analysis/01_passk.ipynb -> api/analysis/passk.ipynb (.html)."
    from nbdev.doclinks import _nbpath2html
    return str(_nbpath2html(Path(nb_name)).with_suffix('.ipynb'))

_SOURCE = re.compile(r'\[source\]\(([^)\s]+)\)\{target="_blank" style="([^"]*)"\}')

def _relative_links(nb:dict, prefix:str, up:str='')->dict:
    "nbdev links names to the published site (doc_host + doc_baseurl): point them at this site's pages instead (`up`: '../' per folder level)."
    def one(l:str)->str:   # and nbdev's Quarto-only `[source](url){target=... style=...}` as the HTML link it means (mkdocs showed the braces as text)
        return _SOURCE.sub(lambda m: f'<a href="{m.group(1)}" target="_blank" style="{m.group(2)}">source</a>', l.replace(prefix, up))
    def fix(x): return [one(l) for l in x] if isinstance(x, list) else one(x)
    for c in nb['cells']:
        if c['cell_type'] == 'markdown': c['source'] = fix(c['source'])
        for o in c.get('outputs', []):
            if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = fix(o['data']['text/markdown'])
    return nb

def write_sources(contents:list)->list:
    "_proc/site_src/: the site's notebooks, in folders as in nbs/; returns the mkdocs nav (the sidebar's sections and pages)."
    from nbdev.config import get_config
    cfg = get_config()
    prefix = cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'
    SRC.mkdir(parents=True, exist_ok=True)
    pages = {page_name(n) for n in flat(contents)}
    for old in SRC.rglob('*.ipynb'):
        if str(old.relative_to(SRC)) not in pages: old.unlink()
    def nav(items):
        out = []
        for it in items:
            if isinstance(it, dict): out.append({it['section']: nav(it['contents'])}); continue
            page = page_name(it)
            title, nb = _site_nb(json.loads((PROC / it).read_text()))
            depth = page.count('/')                     # links to the published site become relative to this page's folder
            (SRC / page).parent.mkdir(parents=True, exist_ok=True)
            (SRC / page).write_text(json.dumps(_relative_links(nb, prefix, '../' * depth), indent=1))
            name = 'Home' if page == 'index.ipynb' else (title or Path(it).stem).replace('`', '')   # code marks cut mkdocs' titles ('CLI:')
            out.append({name: page})
        return out
    return nav(contents)

def build(out:Path, nav:list):
    "mkdocs build from the top-level mkdocs.yml plus docs_dir, site_dir and nav."
    import yaml
    cfg = yaml.safe_load((ROOT / 'mkdocs.yml').read_text())
    cfg.update(docs_dir=str(SRC), site_dir=str(out), nav=nav)
    for p in cfg.get('plugins', []):
        if isinstance(p, dict) and 'mkdocs-jupyter' in p: p['mkdocs-jupyter']['cache_dir'] = str(PROC / '.cache' / 'mkdocs-jupyter')
    (PROC / 'mkdocs.yml').write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    r = subprocess.run([sys.executable, __file__, '--mkdocs-build', str(PROC / 'mkdocs.yml')], cwd=ROOT,
                       env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})
    if r.returncode: sys.exit(f'mkdocs build failed ({r.returncode})')
    # MathJax 2.7 with everything it loads later (configuration, TeX and MathML input, HTML-CSS output, extensions, the STIX
    # web fonts) from the PyPI package jupyter-server-mathjax (Jupyter's own offline copy, installed by `make docs-deps`);
    # mkdocs-jupyter's MathJax script tag loads the configuration below, which loads MathJax from this site
    import jupyter_server_mathjax
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / 'static', out / 'assets' / 'mathjax', dirs_exist_ok=True)
    # mkdocs-jupyter writes custom_mathjax_url as given (relative) into every page: a page in a folder d levels deep loads
    # FOLDER/assets/javascripts/mathjax-offline.js, which loads the one MathJax at the site's root
    for folder in {p.parent for p in out.rglob('*.html')}:
        depth = len(folder.relative_to(out).parts)
        if not {'assets', 'search'} & set(folder.relative_to(out).parts):
            (folder / 'assets' / 'javascripts').mkdir(parents=True, exist_ok=True)
            (folder / 'assets' / 'javascripts' / 'mathjax-offline.js').write_text(MATHJAX_LOADER.replace('../mathjax/',
                    '../' * (2 + depth) + 'assets/mathjax/'))

MATHJAX_LOADER = r"""// MathJax 2.7 from this site, configured before it loads: HTML-CSS output in the STIX web fonts shipped with it and
// the delimiters Jupyter notebooks use. jupyter-server-mathjax ships no TeX fonts, so nothing may ask for them (a request
// the site cannot answer is a console error): no locally installed, TeX or image fonts are looked for, and the
// @font-face rules that MathJax's blank test font (src about:blank, refused by Chrome) and its NativeMML styles (TeX
// fonts, used by the hidden MathML for screen readers) declare point at local() fonts instead: they fall back
// silently, as they would after a failed download. The `text/x-mathjax-config` block of mkdocs-jupyter's template then
// adds its TeX settings and queues the typesetting.
(function () {
  var local = function (family, bold) {
    var f = {'font-family': family, src: "local('" + family + "')"};
    if (bold) f['font-weight'] = 'bold';
    return f;
  };
  window.MathJax = {
    'HTML-CSS': {availableFonts: [], preferredFont: null, webFont: 'STIX-Web', imageFont: null,
                 styles: {'@font-face': local('MathJax_Blank')}},
    NativeMML: {styles: {'@font-face /*1*/': local('MathJax_Caligraphic-WEB'), '@font-face /*2*/': local('MathJax_Caligraphic-WEB', true),
                         '@font-face /*3*/': local('MathJax_AMS-WEB'), '@font-face /*4*/': local('MathJax_Script-WEB'),
                         '@font-face /*5*/': local('MathJax_Fraktur-WEB'), '@font-face /*6*/': local('MathJax_Fraktur-WEB', true)}},
    tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']], processEscapes: true, processEnvironments: true},
    messageStyle: 'none',
    menuSettings: {zoom: 'None'}
  };
  var s = document.createElement('script');
  s.src = new URL('../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe', document.currentScript.src).href;
  document.head.appendChild(s);
})();
"""

class _SharedBytecode:
    "A jinja2 bytecode cache in memory, shared by every jinja2 Environment of one process (checksum-checked by jinja2 itself)."
    def __init__(self): self.code = {}
    def load_bytecode(self, bucket):
        if bucket.key in self.code: bucket.bytecode_from_string(self.code[bucket.key])
    def dump_bytecode(self, bucket): self.code[bucket.key] = bucket.bytecode_to_string()
    def clear(self): self.code.clear()

def mkdocs_build(config:str):
    """`mkdocs build --clean -q -f config`, with nbconvert's templates compiled once: mkdocs-jupyter makes two nbconvert exporters,
    each with a new jinja2 Environment that compiles the same templates again, per notebook (measured: template compilation was a
    quarter of the build)."""
    import jinja2, jinja2.bccache
    class Shared(_SharedBytecode, jinja2.bccache.BytecodeCache): pass
    cache, init = Shared(), jinja2.Environment.__init__
    def __init__(self, *a, **kw):
        kw.setdefault('bytecode_cache', cache); init(self, *a, **kw)
    jinja2.Environment.__init__ = __init__
    from mkdocs.__main__ import cli
    cli.main(['build', '--clean', '-q', '-f', config], standalone_mode=True)

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--mkdocs-build']: return mkdocs_build(argv[1])   # the build step, in its own process
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / '_docs'), help='where the site goes')
    ap.add_argument('--workers', type=int, default=2, help='notebooks processed at a time')
    ap.add_argument('--force', action='store_true', help='process every notebook again')
    a = ap.parse_args(argv)
    t0 = time.time()
    os.chdir(ROOT)
    contents = nbdev_process(a.workers, a.force)
    t1 = time.time()
    nav = write_sources(contents)
    build(Path(a.out).resolve(), nav)
    print(f'docs site: {Path(a.out).resolve()}/index.html ({len(flat(contents))} pages; nbdev processing {t1 - t0:.0f}s, mkdocs {time.time() - t1:.0f}s)')

if __name__ == '__main__': main()
