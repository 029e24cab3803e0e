"""The docs site without Quarto (`make docs` -> tools/docs_site.py: nbdev's notebook processing, then mkdocs +
mkdocs-jupyter), navigated in headless Chromium over a localhost HTTP server: the sidebar lists every notebook in
nbdev's order, every page loads with its images, charts and math and without console errors or requests off this
machine, and every exported name has its show_doc entry (heading and docstring) on its module's page.
Also: every exported function and class has a one-line docstring and documented parameters (fastcore.docments)."""
import dataclasses, functools, http.server, importlib, inspect, io, os, re, subprocess, sys, threading, time, tokenize
from pathlib import Path
from urllib.parse import urlparse
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = os.environ.get('WS_DOCS_SHOTS')   # a folder: save a screenshot of every page there (for looking at them)

def _exported():
    "{module name: [(exported name, object)]} for every module in _modidx.py, from its __all__."
    from warmstart_kit._modidx import d
    out = {}
    for mod in sorted(d['syms']):
        m = importlib.import_module(mod)
        out[mod] = [(n, getattr(m, n)) for n in getattr(m, '__all__', [])]
    return out

def _page_of(mod):
    "The page nbdev's _modidx.py gives for a module's names."
    from warmstart_kit._modidx import d
    return next(iter(d['syms'][mod].values()))[0].split('#')[0]

def _own(obj, mod): return (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, '__module__', None) == mod

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "Build the site (`make docs`'s no-Quarto path) into a temporary folder and serve it on localhost."
    for m in ('mkdocs', 'mkdocs_jupyter', 'material', 'jupyter_server_mathjax'):
        try: importlib.import_module(m)
        except ImportError: pytest.fail(f'{m} is not installed: run `make docs-deps` (make test does)')
    out = tmp_path_factory.mktemp('docs') / 'site'
    t0 = time.time()
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'docs_site.py'), '--out', str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(f'\ndocs built in {time.time() - t0:.0f}s')
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = functools.partial(Quiet, directory=str(out))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}', out
    srv.shutdown()

def _driver():
    from conftest import chrome
    return chrome(performance_log=True)

def _norm(s): return re.sub(r'\s+', ' ', re.sub(r'[`*_\\]', '', s)).strip()

MATH_AS_TEX = """const a = document.querySelector('article').cloneNode(true);
a.querySelectorAll('.MathJax_Preview, .MathJax, .MathJax_Display').forEach(e => e.remove());
a.querySelectorAll('script[type^="math/tex"]').forEach(s => s.replaceWith(s.type.includes('display') ? `$$${s.textContent}$$` : `$${s.textContent}$`));
return a.textContent;"""   # MathJax 2 keeps each formula's source in a script element beside its output

def test_docs_site_in_browser(site):
    from selenium.webdriver.support.ui import WebDriverWait
    sys.path.insert(0, str(ROOT / 'tools')); import docs_site
    url, out = site
    order = docs_site.flat(docs_site.sidebar())       # nbs/sidebar.yml, in layer order (the build checks it lists every notebook)
    want = [docs_site.page_name(n).replace('.ipynb', '.html') for n in order]
    exported = _exported()
    d = _driver()
    try:
        t0 = time.time()
        d.get(url + '/index.html')
        WebDriverWait(d, 30).until(lambda d: d.execute_script("return document.readyState") == 'complete')
        links = d.execute_script("""return Array.from(document.querySelectorAll('nav.md-nav--primary a.md-nav__link[href]'))
                                      .map(a => [a.textContent.trim(), a.href]).filter(([t, h]) => !h.includes('#'))""")    # pages, not their sections
        pages = [urlparse(h).path.lstrip('/') for _, h in links if urlparse(h).path.endswith('.html')]
        pages = list(dict.fromkeys('index.html' if p == '' else p for p in pages))
        assert pages == want, (pages, want)          # the sidebar: every notebook, in the sidebar's (layer) order
        titles = {t for t, _ in links}
        assert {'CLI: warmstart', 'Bring your own samples: warmstart passk --samples FILE'} <= titles, sorted(titles)   # titles with code were cut ('CLI:')
        cli = next(h for t, h in links if t == 'CLI: warmstart'); d.get(cli)
        WebDriverWait(d, 30).until(lambda d: d.execute_script("return document.readyState") == 'complete')
        assert 'The command line:' in d.execute_script("return document.querySelector('article').innerText")   # the page keeps its description
        d.get(url + '/index.html')
        assert 'warmstart' in d.execute_script("return document.querySelector('article').innerText").lower()   # the index page is nbs/index.ipynb
        by_page = {}
        for mod, names in exported.items(): by_page.setdefault(_page_of(mod), []).append((mod, names))
        missing, no_doc, charts = [], [], 0
        for title, href in links:                     # follow every sidebar link
            page = urlparse(href).path.lstrip('/') or 'index.html'
            d.get(href)
            WebDriverWait(d, 30).until(lambda d: d.execute_script("return document.readyState") == 'complete')
            WebDriverWait(d, 60).until(lambda d: d.execute_script(   # the local MathJax loaded and typeset the page
                "return !!(window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running)"))
            assert d.execute_script("return document.querySelector('article h1') !== null"), f'{page}: no title'
            imgs = d.execute_script("return Array.from(document.images).map(i => [i.currentSrc.slice(0, 60), i.complete, i.naturalWidth])")
            assert all(ok and w > 0 for _, ok, w in imgs), (page, imgs)      # images (and charts saved as images) load
            svgs = d.execute_script("""return Array.from(document.querySelectorAll('.jp-RenderedSVG svg, .jp-RenderedSVG img, .jp-RenderedImage img'))
                                         .map(e => e.getBoundingClientRect().width)""")
            assert all(w > 50 for w in svgs), (page, svgs)      # charts: SVG outputs (nbconvert shows them as data-URI images) and PNGs
            charts += len(svgs)
            raw = d.execute_script("return document.querySelector('article').innerText")
            assert 'Math Processing Error' not in raw, page
            assert '{target=' not in raw, page      # nbdev's Quarto-only link attributes had shown as text (446 times on 32 pages)
            text = _norm(raw)
            tex = _norm(d.execute_script(MATH_AS_TEX))        # the same, with each typeset formula as its TeX source
            ids = set(d.execute_script("return Array.from(document.querySelectorAll('article [id]')).map(e => e.id)"))
            for mod, names in by_page.get(page, []):
                for name, obj in names:
                    if not _own(obj, mod):
                        if _norm(name) not in text: missing.append(f'{mod}.{name}')   # an exported constant: named on its page
                        continue
                    if name.lower() not in ids: missing.append(f'{mod}.{name}'); continue   # show_doc's heading
                    doc = inspect.getdoc(obj)
                    if doc and _norm(doc.splitlines()[0])[:60] not in (tex if '$' in doc else text):
                        no_doc.append(f'{mod}.{name}: {doc.splitlines()[0][:60]!r}')
            if SHOTS:
                Path(SHOTS).mkdir(parents=True, exist_ok=True); d.save_screenshot(str(Path(SHOTS) / page.replace('/', '__').replace('.html', '.png')))
        assert missing == [], f'exported names without their show_doc entry on their page: {missing}'
        assert no_doc == [], f'docstrings not shown: {no_doc}'
        assert charts >= 5, charts
        d.get(url + '/explanations/methods.html')     # math is typeset by the local MathJax
        WebDriverWait(d, 30).until(lambda d: d.execute_script("return document.querySelectorAll('.MathJax, .MathJax_Display').length > 20"))
        assert '$$' not in d.execute_script("return document.querySelector('article').innerText")
        print(f'{len(links)} pages, {sum(len(n) for n in exported.values())} exported names, {charts} charts checked in {time.time() - t0:.0f}s')
        from conftest import browser_check
        urls = browser_check(d)                       # no console errors, nothing fetched from outside this machine
        assert any('mathjax' in u.lower() for u in urls)
    finally:
        d.quit()

def _is_namedtuple(obj)->bool: return inspect.isclass(obj) and issubclass(obj, tuple) and hasattr(obj, '_fields')

def _namedtuple_docs(cls)->dict:
    "{field: its trailing `# comment` or None} of a typing.NamedTuple class, read from its source as docments reads a dataclass."
    src = inspect.getsource(cls); lines = src.splitlines(); docs = dict.fromkeys(cls._fields)
    for tk in tokenize.generate_tokens(io.StringIO(src).readline):
        m = re.match(r'\s*(\w+)\s*:', lines[tk.start[0] - 1]) if tk.type == tokenize.COMMENT else None
        if m and m.group(1) in docs: docs[m.group(1)] = tk.string.lstrip('#').strip() or None
    return docs

def docs_violators()->list:
    "Exported functions and classes without a one-line docstring, or with parameters that have no documentation."
    from fastcore.docments import docments
    bad = []
    for mod, names in _exported().items():
        for name, obj in names:
            if not _own(obj, mod): continue
            doc = (inspect.getdoc(obj) or '').strip()
            if not doc: bad.append(f'{mod}.{name}: no docstring')
            elif '\n' in doc: bad.append(f'{mod}.{name}: docstring is not one line')
            if _is_namedtuple(obj): params = {f: {'docment': d} for f, d in _namedtuple_docs(obj).items()}   # docments reads dataclasses only
            else:
                try: params = docments(obj, full=True)
                except Exception as e: bad.append(f'{mod}.{name}: docments failed ({type(e).__name__})'); continue
            target = obj.__init__ if inspect.isclass(obj) and not dataclasses.is_dataclass(obj) and not _is_namedtuple(obj) else obj   # what docments reads
            try: kinds = {p.name: p.kind for p in inspect.signature(target).parameters.values()}
            except (ValueError, TypeError): kinds = {'args': inspect.Parameter.VAR_POSITIONAL, 'kwargs': inspect.Parameter.VAR_KEYWORD}   # e.g. exceptions
            undoc = [p for p, v in params.items() if p not in ('self', 'cls', 'return') and not v.get('docment')
                     and kinds.get(p) not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
            if undoc: bad.append(f'{mod}.{name}: undocumented parameter(s) {", ".join(undoc)}')
    return bad

def test_exported_names_are_documented():
    bad = docs_violators()
    assert bad == [], f'{len(bad)} exported functions/classes lack a one-line docstring or parameter docs:\n' + '\n'.join(bad)

if __name__ == '__main__':   # python tests/test_docs_site.py: print the violators
    print('\n'.join(docs_violators()))
