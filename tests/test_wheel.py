"""The pip-installed package: sdist and wheel built from the working tree (offline, `python -m build --no-isolation`,
the wheel built from the sdist), the wheel's contents checked, the wheel installed (not editable) into a fresh virtual
environment outside the repository, then `import warmstart_kit`, `warmstart --help` and a smoke study run from another
directory. The fresh environment reuses .venv's installed dependencies through a .pth file that names .venv's
site-packages: Python adds that directory to sys.path without processing the .pth files inside it, so .venv's
editable install of warmstart_kit is not picked up (checked: the package imports from the fresh environment)."""
import fnmatch, os, shutil, subprocess, sys, sysconfig, tarfile, time, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
# what the wheel must carry, as (pattern in the wheel, pattern of the repository files it comes from)
DATA = [('warmstart_kit/data/tasks.json', 'data/tasks.json'), ('warmstart_kit/data/eval/*.jsonl', 'data/eval/*.jsonl'),
        ('warmstart_kit/data/base/*/model.safetensors', 'data/base/'), ('warmstart_kit/templates/report.html', 'warmstart_kit/templates/report.html')]
UNWANTED = ('*.ipynb', '*/__pycache__/*', '*.pyc', '*/.ipynb_checkpoints/*', 'nbs/*', '*/nbs/*', '_proc/*', '_docs/*',
            'tests/*', '*/.pytest_cache/*', '*/.hypothesis/*', '*.egg-info/*', 'runs/*', '*/runs/*', '.venv/*')

def _run(cmd, timeout=600, **kw):
    t0 = time.time()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    assert r.returncode == 0, f'{cmd} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r, time.time() - t0

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "sdist and wheel of a copy of the working tree (tracked and untracked, not ignored, files): nothing is written into the repo."
    pytest.importorskip('build', reason='the `build` package is not installed: run `make docs-deps` (make test does)')
    d = tmp_path_factory.mktemp('wheel')
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split('\0')
    src = d / 'src'
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT / f, src / f)
    _, secs = _run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', d / 'dist', src], timeout=600)
    print(f'\nsdist + wheel built in {secs:.0f}s')
    (whl,), (sdist,) = sorted((d / 'dist').glob('*.whl')), sorted((d / 'dist').glob('*.tar.gz'))
    return d, whl, sdist

def test_wheel_and_sdist_contents(dist):
    d, whl, sdist = dist
    names = zipfile.ZipFile(whl).namelist()
    for inside, _ in DATA: assert fnmatch.filter(names, inside), f'wheel lacks {inside}'
    shipped = {str(p.relative_to(ROOT / 'data')) for p in (ROOT / 'data').rglob('*') if p.is_file()}   # every file of data/, whatever its kind
    in_wheel = {n[len('warmstart_kit/data/'):] for n in names if n.startswith('warmstart_kit/data/')}
    assert shipped <= in_wheel, f'wheel lacks data files {sorted(shipped - in_wheel)[:10]}'
    ckpts = {Path(n).parent for n in names if n.startswith('warmstart_kit/data/base/') and n.endswith('model.safetensors')}
    assert len(ckpts) >= 1 and all(f'{c}/config.json' in names for c in map(str, ckpts)), ckpts   # whole checkpoints
    bad = [n for n in names if any(fnmatch.fnmatch(n, u) for u in UNWANTED)]
    assert bad == [], f'the wheel carries files it should not: {bad[:20]}'
    assert any(n.endswith('entry_points.txt') for n in names)
    with tarfile.open(sdist) as t: snames = [m.name.split('/', 1)[1] for m in t.getmembers() if '/' in m.name]
    for must in ('setup.py', 'settings.ini', 'LICENSE', 'README.md', 'pyproject.toml', 'data/tasks.json', 'warmstart_kit/templates/report.html'):
        assert must in snames, f'sdist lacks {must}'
    # an sdist may carry egg-info and the tests (setuptools adds tests/test*.py; downstream packagers run them), never the rest
    bad = [n for n in snames if any(fnmatch.fnmatch(n, u) for u in UNWANTED if u not in ('*.egg-info/*', 'tests/*'))]
    assert bad == [], f'the sdist carries files it should not: {bad[:20]}'
    print(f'wheel: {len(names)} files, {whl.stat().st_size / 1e6:.1f} MB; sdist {sdist.stat().st_size / 1e6:.1f} MB')

@pytest.fixture(scope='module')
def venv(dist):
    "A fresh venv outside the repo with the wheel installed (no deps: they come from .venv's site-packages via a .pth file)."
    d, whl, _ = dist
    v = d / 'venv'
    _run([sys.executable, '-m', 'venv', '--without-pip', v])
    py = v / 'bin' / 'python'
    site = Path(subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], capture_output=True, text=True,
                               check=True).stdout.strip())
    (site / 'project_venv_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    _, secs = _run([sys.executable, '-m', 'pip', '--python', py, 'install', '--no-deps', '--no-index', '--no-compile', '-q', whl])
    print(f'\nwheel installed in {secs:.0f}s')
    elsewhere = d / 'elsewhere'; elsewhere.mkdir()
    env = {k: v_ for k, v_ in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    env.update(PATH=f'{v / "bin"}{os.pathsep}{env.get("PATH", "")}', TOKENIZERS_PARALLELISM='false')
    return v, elsewhere, env

def test_installed_package_runs(venv):
    v, cwd, env = venv
    py, exe = v / 'bin' / 'python', v / 'bin' / 'warmstart'
    code = ("import sys, warmstart_kit, warmstart_kit.core.files as c; import importlib.metadata as md; from packaging.requirements import Requirement\n"
            "print(warmstart_kit.__file__); print(c.data_dir()); print(md.version('warmstart_kit'))\n"
            "bad = []\n"
            "for r in map(Requirement, md.requires('warmstart_kit') or []):\n"
            "    if r.marker and not r.marker.evaluate({'extra': ''}): continue\n"
            "    try: have = md.version(r.name)\n"
            "    except md.PackageNotFoundError: bad.append(f'{r} (missing)'); continue\n"
            "    if not r.specifier.contains(have, prereleases=True): bad.append(f'{r} (have {have})')\n"
            "print('unmet:', bad)")
    r, _ = _run([py, '-c', code], cwd=cwd, env=env)
    pkg, data, version, unmet = r.stdout.strip().splitlines()
    assert Path(pkg).resolve().is_relative_to(v.resolve()), f'warmstart_kit imported from {pkg}, not the fresh venv'
    assert Path(data).resolve().is_relative_to(v.resolve()) and (Path(data) / 'tasks.json').is_file(), data
    assert unmet == 'unmet: []', unmet                  # the requirement floors hold for the versions in use
    r, _ = _run([exe, '--help'], cwd=cwd, env=env)
    assert 'study' in r.stdout and 'usage' in r.stdout.lower()
    out = cwd / 'smoke'
    r, secs = _run([exe, 'study', '--preset', 'smoke', '--out', out, '--quiet', '--device', 'cpu'], cwd=cwd, env=env, timeout=900)
    assert (out / 'report.html').is_file() and (out / 'summary.parquet').is_file(), sorted(p.name for p in out.iterdir())
    assert 'verdict' in (out / 'report.html').read_text().lower()
    print(f'installed `warmstart study --preset smoke` ran in {secs:.0f}s')
