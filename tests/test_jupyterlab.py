"""Live exploration in a real JupyterLab: headless Chromium opens the explorers notebook, runs it, watches the live
monitor redraw during a tiny GRPO run, then uses every explorer (slider, model / role / arm / run pickers) and checks
the rendered Vega chart changed; no console errors and no request leaves localhost (altair's charts are drawn by
JupyterLab's built-in Vega renderer: nothing comes from a CDN)."""
import json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / 'nbs' / 'api' / 'views' / '02_explorers.ipynb'
EXPLORERS = ['PassKExplorer', 'PhaseExplorer', 'SparsityExplorer', 'DecompositionExplorer', 'PhaseDiagramExplorer',
             'CeilingExplorer', 'RunExplorer', 'DecompositionStepsExplorer', 'LiveMonitor']
SHOTS = os.environ.get('WS_LAB_SHOTS')   # a folder: save screenshots there (for looking at them)

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _driver():
    from conftest import chrome
    return chrome(performance_log=True)

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "JupyterLab on a random localhost port, token off, with its own config, data, runtime, settings and workspace dirs."
    if not (shutil.which('chromium') and shutil.which('chromedriver')): pytest.skip('Debian chromium/chromium-driver not installed (make browser-deps)')
    d = tmp_path_factory.mktemp('lab')
    work = d / 'work'; work.mkdir()
    nb = json.loads(NB.read_text())
    nb['cells'] = [c for c in nb['cells'] if 'nbdev_export' not in ''.join(c['source'])]   # a copy: nothing exported, the source untouched
    (work / 'explorers.ipynb').write_text(json.dumps(nb))
    settings = d / 'settings'
    # every cell stays in the DOM (JupyterLab's windowing would detach off-screen cells)
    (settings / '@jupyterlab' / 'notebook-extension').mkdir(parents=True)
    (settings / '@jupyterlab' / 'notebook-extension' / 'tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))
    (settings / '@jupyterlab' / 'apputils-extension').mkdir(parents=True)
    (settings / '@jupyterlab' / 'apputils-extension' / 'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false',
            'checkForUpdates': False}))
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(d / 'config'), 'JUPYTER_RUNTIME_DIR': str(d / 'runtime'), 'JUPYTER_DATA_DIR': str(d / 'data'),
           'JUPYTERLAB_SETTINGS_DIR': str(settings), 'JUPYTERLAB_WORKSPACES_DIR': str(d / 'workspaces'), 'IPYTHONDIR': str(d / 'ipython'),
           'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1'}
    port = _free_port()
    log = open(d / 'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ServerApp.port_retries=0',
                             '--ServerApp.ip=127.0.0.1', '--IdentityProvider.token=', '--ServerApp.password=', f'--ServerApp.root_dir={work}',
                             '--ServerApp.allow_root=True', '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None',
                                     '--LabApp.extension_manager=readonly',
                             '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{url}/api/status', timeout=2); break
            except OSError:
                if proc.poll() is not None: raise RuntimeError(f'jupyter lab exited:\n{(d / "lab.log").read_text()[-3000:]}')
                time.sleep(0.5)
        else: raise RuntimeError(f'jupyter lab did not start:\n{(d / "lab.log").read_text()[-3000:]}')
        yield url, d
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        log.close()

JS_NB = "const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"

def _wait(d, cond, timeout, what, poll=0.3):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = cond()
        if v: return v
        time.sleep(poll)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')

def _errors_in_cells(d):
    return d.execute_script(JS_NB + """
        const errs = [];
        for (const c of nb.content.widgets) {
          if (c.model.type !== 'code') continue;
          for (let i = 0; i < c.model.outputs.length; i++) {
            const o = c.model.outputs.get(i).toJSON();
            if (o.output_type === 'error') errs.push(o.ename + ': ' + o.evalue + '\\n' + c.model.sharedModel.getSource().slice(0, 300));
          }
        }
        return errs;""")

def _sig(d, cls):
    "The explorer's rendered chart: its SVG markup (None until Vega has drawn it)."
    return d.execute_script("""
        const box = document.querySelector('.ws-' + arguments[0]);
        if (!box) return null;
        const svg = box.querySelector('.ws-chart svg.marks');
        if (!svg || !svg.querySelector('.mark-line, .mark-symbol, .mark-rect, .mark-text, .mark-area, .mark-rule, .mark-tick')) return null;
        return svg.outerHTML;""", cls)

def _ctl(d, cls, name):
    el = d.execute_script("return document.querySelector('.ws-' + arguments[0] + ' .ws-ctl-' + arguments[1])", cls, name)
    assert el is not None, f'{cls}: no control {name}'
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    return el

def _select(d, cls, name, texts=None, toggle=None):
    "Pick options of a Dropdown (`texts`: one label) or a SelectMultiple (`toggle`: click these labels)."
    from selenium.webdriver.support.ui import Select
    s = Select(_ctl(d, cls, name).find_element('tag name', 'select'))
    labels = [o.text.replace('\xa0', ' ') for o in s.options]   # ipywidgets writes spaces of option labels as no-break spaces
    if texts is not None: s.select_by_index(labels.index(texts))
    for t in toggle or []:
        i = labels.index(t)
        if s.options[i].is_selected(): s.deselect_by_index(i)
        else: s.select_by_index(i)

def _slide(d, cls, name, key='ARROW_LEFT', times=1, handle=0):
    "Move a slider's handle with the keyboard, as a user would after clicking it."
    from selenium.webdriver.common.keys import Keys
    h = _ctl(d, cls, name).find_elements('css selector', '.noUi-handle')[handle]
    h.click()
    for _ in range(times): h.send_keys(getattr(Keys, key))

def _changes(d, cls, act, what, timeout=30):
    before = _wait(d, lambda: _sig(d, cls), 30, f'{cls} chart drawn')
    act()
    _wait(d, lambda: (s := _sig(d, cls)) is not None and s != before, timeout, f'{cls} chart to change after {what}')

def _shot(d, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True); d.save_screenshot(str(Path(SHOTS) / f'{name}.png'))

def test_explorers_live_in_jupyterlab(lab):
    url, tmp = lab
    d = _driver()
    try:
        t0 = time.time()
        d.get(f'{url}/lab/tree/explorers.ipynb')
        _wait(d, lambda: d.execute_script(JS_NB + """return !!(nb && nb.context && nb.context.path === 'explorers.ipynb'
               && nb.sessionContext.session && nb.sessionContext.session.kernel && nb.sessionContext.session.kernel.status === 'idle')"""),
              120, 'the notebook to open with an idle kernel')
        # record every state of the live monitor (status line and number of points drawn) while the notebook runs
        d.execute_script("""
            window.__ws = [];
            new MutationObserver(() => {
              const m = document.querySelector('.ws-LiveMonitor');
              if (!m) return;
              const st = m.querySelector('.ws-status'), pts = m.querySelectorAll('.ws-chart svg.marks .mark-symbol path').length;
              const s = (st ? st.textContent : '') + '|' + pts;
              if (window.__ws[window.__ws.length - 1] !== s) window.__ws.push(s);
            }).observe(document.body, {subtree: true, childList: true, characterData: true});""")
        d.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        def done():
            errs = _errors_in_cells(d)
            assert not errs, 'a cell failed:\n' + '\n'.join(errs)
            return d.execute_script(JS_NB + """
                const cells = nb.content.widgets.filter(c => c.model.type === 'code');
                return nb.sessionContext.session.kernel.status === 'idle' && cells.every(c => c.model.executionCount !== null);""")
        _wait(d, done, 400, 'every cell to run', poll=1)
        t_run = time.time() - t0
        _shot(d, 'lab-after-run')

        # the live monitor redrew while GRPO trained: a status line and more points after each of the 3 steps
        states = d.execute_script('return window.__ws')
        drawn = {}   # step shown in the status line -> most points drawn while it was shown
        for st in states:
            text, pts = st.rsplit('|', 1)
            if text.startswith('step '): drawn[int(text.split(' ')[1])] = max(drawn.get(int(text.split(' ')[1]), 0), int(pts))
        assert sorted(drawn) == [0, 1, 2], states
        assert 0 < drawn[0] < drawn[1] < drawn[2], states

        for cls in EXPLORERS:   # every explorer is displayed and drawn by JupyterLab's Vega renderer, as SVG
            _wait(d, lambda: _sig(d, cls), 30, f'{cls} chart drawn')

        _changes(d, 'PassKExplorer', lambda: _select(d, 'PassKExplorer', 'models', toggle=['base']), 'picking a model')
        _changes(d, 'PassKExplorer', lambda: _slide(d, 'PassKExplorer', 'k-range', 'ARROW_LEFT', 2, handle=1), 'moving the k range')
        _changes(d, 'PhaseExplorer', lambda: _select(d, 'PhaseExplorer', 'roles', toggle=['exec']), 'picking a role')
        tokens = d.execute_script("return document.querySelector('.ws-PhaseExplorer').innerText")
        _changes(d, 'PhaseExplorer', lambda: _slide(d, 'PhaseExplorer', 'step', 'ARROW_LEFT', 2), 'moving the step slider')
        assert 'no stored completions' in d.execute_script("return document.querySelector('.ws-PhaseExplorer').innerText") != tokens
        _changes(d, 'SparsityExplorer', lambda: _slide(d, 'SparsityExplorer', 'tolerance', 'ARROW_RIGHT', 3), 'moving the tolerance')
        _changes(d, 'SparsityExplorer', lambda: _select(d, 'SparsityExplorer', 'layer', texts='1'), 'picking a layer')
        _changes(d, 'DecompositionExplorer', lambda: _select(d, 'DecompositionExplorer', 'group', texts='dose 0.1, seed 0, difficulty default'),
                 'picking a group')
        _changes(d, 'DecompositionExplorer', lambda: _select(d, 'DecompositionExplorer', 'models', toggle=['distill']), 'picking a model')
        _changes(d, 'DecompositionExplorer', lambda: _select(d, 'DecompositionExplorer', 'view', texts='behaviours'), 'the behaviours view')
        _changes(d, 'PhaseDiagramExplorer', lambda: _select(d, 'PhaseDiagramExplorer', 'arm', texts='distill'), 'picking an arm')
        _changes(d, 'PhaseDiagramExplorer', lambda: _select(d, 'PhaseDiagramExplorer', 'change', texts='Δ pass@k_max'), 'picking Δpass@k_max')
        _changes(d, 'CeilingExplorer', lambda: _slide(d, 'CeilingExplorer', 'base-k', 'ARROW_RIGHT', 2), 'moving the k slider')
        _changes(d, 'RunExplorer', lambda: _select(d, 'RunExplorer', 'runs', toggle=['arm=rl dose=1.0 seed=0 difficulty=default']), 'picking a run')
        _changes(d, 'RunExplorer', lambda: _slide(d, 'RunExplorer', 'smoothing', 'ARROW_RIGHT', 3), 'smoothing')
        _changes(d, 'DecompositionStepsExplorer', lambda: _select(d, 'DecompositionStepsExplorer', 'run', texts='dose 1.0, seed 0, difficulty default, arm rl'),
                 'picking a run')
        _changes(d, 'DecompositionStepsExplorer', lambda: _slide(d, 'DecompositionStepsExplorer', 'steps', 'ARROW_LEFT', 5, handle=1), 'moving the step range')
        _changes(d, 'LiveMonitor', lambda: _select(d, 'LiveMonitor', 'metrics', toggle=['accuracy']), 'picking a metric')
        _shot(d, 'lab-after-use')
        print(f'\nnotebook ran in {t_run:.0f}s; explorers used in {time.time() - t0 - t_run:.0f}s')

        # no console errors, and every request went to this machine
        from conftest import browser_check
        urls = browser_check(d)
        assert any('/api/kernels/' in u for u in urls)   # the log did capture the page's traffic
    finally:
        d.quit()
