import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

def run_cli(*args, timeout=600):
    "Run the installed `warmstart` console script; (returncode, stdout, stderr)."
    exe = Path(sys.executable).with_name('warmstart')
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return r.returncode, r.stdout, r.stderr

@pytest.fixture
def cli(): return run_cli

@pytest.fixture(scope='session')
def smoke_run(tmp_path_factory):
    "One `warmstart study --preset smoke` run folder, shared by the end-to-end and browser tests."
    out = tmp_path_factory.mktemp('study') / 'run'
    code, stdout, err = run_cli('study', '--preset', 'smoke', '--out', out, '--quiet', '--device', 'cpu')
    assert code == 0, err
    return out
