from configparser import ConfigParser
import setuptools, shlex

# note: all settings are in settings.ini; edit there, not here
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

licenses = {
    'apache2': ('Apache Software License 2.0','OSI Approved :: Apache Software License'),
}
statuses = [ '1 - Planning', '2 - Pre-Alpha', '3 - Alpha',
    '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
lic = licenses.get(cfg['license'].lower(), (cfg['license'], None))
min_python = cfg['min_python']

setuptools.setup(
    **setup_cfg,
    name = cfg['lib_name'],
    license = lic[0],
    classifiers = [
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]] + (['License :: ' + lic[1] ] if lic[1] else []),
    url = cfg['git_url'],
    packages = setuptools.find_packages(include=[cfg['lib_name'], cfg['lib_name']+'.*']) + [cfg['lib_name']+'.data'],
    # the top-level data/ folder (task specs, fixed eval sets, shipped base checkpoints) travels
    # inside wheels as warmstart_kit/data; warmstart_kit.core.data_dir() finds it either way
    package_dir = {cfg['lib_name']+'.data': 'data'},
    package_data = {cfg['lib_name']: ['templates/*.html'],
                    cfg['lib_name']+'.data': ['*.json', '*.jsonl', '**/*.json', '**/*.jsonl', '**/*.safetensors', '**/*.md', '**/*.parquet']},
    include_package_data = True,
    install_requires = requirements,
    # trl: the TRL engine (`warmstart rl --engine trl`, warmstart_kit.trl_engine), pinned to the TRL its mapping was written and
    # tested against; it imports datasets and accelerate itself (TRL requires both; listed so the engine's own imports are declared).
    # bench: the peer of benchmarks/run.py's GRPO rows (TRL's GRPOTrainer); pinned to the version the benchmarks were run with
    extras_require={ 'dev': dev_requirements,
                     'trl': ['trl==1.16.0', 'datasets>=4.7.0', 'accelerate>=1.10.1'],
                     'bench': ['trl==1.16.0'] },
    dependency_links = cfg.get('dep_links','').split(),
    python_requires  = '>=' + cfg['min_python'],
    long_description = open('README.md', encoding='utf-8').read(),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts','').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
)
