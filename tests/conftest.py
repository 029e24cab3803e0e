import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

def run_cli(*args, timeout=600):
    "Run the installed `warmstart` console script; (returncode, stdout, stderr)."
    exe = Path(sys.executable).with_name('warmstart')
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return r.returncode, r.stdout, r.stderr

def run_main(*args):
    """Run `warmstart ARGS` in this process (`warmstart_kit.cli.main.main`, from the repository root, as `run_cli` does);
    (exit code, stdout, stderr). Spares each call the seconds a new process spends importing torch and transformers;
    the tests that are about the console script itself or about processes use `run_cli`."""
    import contextlib, io
    from warmstart_kit.cli.main import main
    out, err, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: code = main([str(a) for a in args])
            except SystemExit as e: code = e.code
    finally: os.chdir(cwd)
    return code or 0, out.getvalue(), err.getvalue()

@pytest.fixture
def cli(): return run_main

@pytest.fixture(scope='session')
def smoke_run(tmp_path_factory):
    """One `warmstart study --preset smoke` run folder, shared by the end-to-end and browser tests -- and, under
    pytest-xdist (`make test` runs two workers), by both workers: the first to take the lock runs the study, the other
    waits for it and reads the same folder (the tests only read it)."""
    from filelock import FileLock
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'): shared = shared.parent          # the folder all workers of this session share
    out = shared / 'smoke-study' / 'run'
    with FileLock(str(shared / 'smoke-study.lock')):
        if not (out / 'report.html').exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            code, stdout, err = run_cli('study', '--preset', 'smoke', '--out', out, '--quiet', '--device', 'cpu')
            assert code == 0, err
    return out

LOCAL_HOSTS = {'127.0.0.1', 'localhost', '[::1]', '::1'}

def browser_check(driver)->set:
    """Assert no SEVERE console message and no request (HTTP or WebSocket) left this machine, from the logs of a
    `chrome(performance_log=True)` driver; returns every URL requested (for the test's own checks)."""
    import json
    from urllib.parse import urlparse
    severe = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    assert severe == [], severe
    urls = set()
    for e in driver.get_log('performance'):
        m = json.loads(e['message'])['message']
        if m['method'] == 'Network.requestWillBeSent': urls.add(m['params']['request']['url'])
        elif m['method'] == 'Network.webSocketCreated': urls.add(m['params']['url'])
    outside = sorted(u for u in urls if urlparse(u).scheme not in ('data', 'blob', 'about') and urlparse(u).hostname not in LOCAL_HOSTS)
    assert outside == [], outside
    return urls

def chrome(*extra:str, # more Chromium flags (e.g. '--allow-file-access-from-files')
           performance_log:bool=False, # also record network events (to check that no request leaves the machine)
          ):
    "Headless Debian Chromium through Selenium for the browser tests; skips the test when chromium or chromedriver is missing."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chromium, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (chromium and driver): pytest.skip('Debian chromium/chromium-driver not installed (make browser-deps installs them where it can)')
    o = webdriver.ChromeOptions()
    o.binary_location = chromium
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-size=1400,1000', *extra):
        o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL', **({'performance': 'ALL'} if performance_log else {})})
    return webdriver.Chrome(service=Service(driver), options=o)

# ---------------------------------------------------------------- scheduling on two workers (make test: -n 2 --dist loadgroup)
# Seconds the slowest tests took in `make test` on the 2-core machine (pytest --durations, setup + call; 2026-11-27).
# Only the order depends on them: the longest start first, so the many short tests fill the end of the run instead of
# one worker idling while the other finishes a long one (measured: the last 110 s of the run used 1.3 of 2 cores).
SLOW = {'test_docs_site.py::test_docs_site_in_browser': 176, 'test_wheel.py::': 85, 'test_jupyterlab.py::': 66,
        'test_study_e2e.py::test_smoke_study': 68, 'test_cli.py::test_pretrain_rl_eval_chain': 56, 'test_trl.py::': 50,
        'test_bad_input.py::test_kill_9': 43, 'test_study_e2e.py::test_null_study': 20, 'test_byo.py::': 20,
        'test_rlag.py::test_cli_smoke': 11, 'test_rlp.py::': 10}

def _weight(nodeid:str)->float:
    return max([s for k, s in SLOW.items() if nodeid.split('/')[-1].startswith(k)], default=0)

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests that share a module-scoped fixture form one group (xdist_group: one worker, so the fixture runs once);
    groups and single tests are then ordered longest first (xdist's loadgroup hands them out in this order,
    with --no-loadscope-reorder)."""
    units = {}
    for it in items:
        shared = any(fd.scope == 'module' for fds in it._fixtureinfo.name2fixturedefs.values() for fd in fds)
        key = it.module.__name__ if shared else it.nodeid
        if shared: it.add_marker(pytest.mark.xdist_group(it.module.__name__))
        units.setdefault(key, []).append(it)
    order = sorted(units.values(), key=lambda u: -max(_weight(i.nodeid) for i in u))   # stable: the rest keep their order
    items[:] = [i for u in order for i in u]
