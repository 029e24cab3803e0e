"The saved default-study result (data/results/default_study.json) against the README that quotes it and the rules that judged it."
import importlib.util, json, math
from pathlib import Path
import pytest
from warmstart_kit.analysis.verdicts import judge
from warmstart_kit.studies.warmstart import WARMSTART_RULES, results_markdown

ROOT = Path(__file__).resolve().parents[1]
RES = json.loads((ROOT / 'data' / 'results' / 'default_study.json').read_text())
RULE = {r.finding: r for r in WARMSTART_RULES.values()}

def _rows(key): return {r['tested_on'].split(',')[0]: r for r in RES['verdicts'] if r['finding'] == WARMSTART_RULES[key].finding}

def test_readme_quotes_the_saved_result():
    "README.md's default-study section is the saved file rendered, and README.md is nbs/index.ipynb rendered (make readme)."
    md = results_markdown(RES)
    assert md.strip() in (ROOT / 'README.md').read_text()
    nb = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())
    outs = [''.join(o['data']['text/markdown']) for c in nb['cells'] if c['cell_type'] == 'code' for o in c['outputs'] if 'text/markdown' in o.get('data', {})]
    assert outs == [md], 'nbs/index.ipynb holds a stale rendering: run make results (or re-execute nbs/index.ipynb and make readme)'
    spec = importlib.util.spec_from_file_location('readme_tool', ROOT / 'tools' / 'readme.py'); mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.readme() == (ROOT / 'README.md').read_text(), 'README.md differs from nbs/index.ipynb: run make readme'

@pytest.mark.parametrize('row', RES['verdicts'], ids=lambda r: f"{r['finding'][:30]} @ {r['tested_on']}")
def test_saved_verdicts_follow_the_rules(row):
    "Every saved verdict is what its rule gives on the saved interval (untestable rows carry their reason)."
    nan = lambda x: math.nan if x is None else x
    assert judge(RULE[row['finding']], nan(row['lo']), nan(row['hi']), testable=row['note'] == '') == row['verdict']
    assert row['test'] == f"{RULE[row['finding']].test} {RULE[row['finding']].threshold:g}"

def test_the_readme_sentences_hold_on_the_saved_result():
    "The README's sentence 'In words: ...' checked against the file: sharpening where a dose was planted, selection over refinement, the rest open."
    sharp = _rows('sharpens')
    for r in RES['per_dose']:
        v = sharp[f"dose {r['dose']:g}"]
        assert abs((r['rl pass@1'] - r['base pass@1']) - v['measured']) < 1e-9       # the table's two columns and the verdict's Δ agree
        if r['dose'] > 0:
            assert v['verdict'] == 'reproduced' and r['selection'] > 0.8 * v['measured'] and abs(r['refinement']) < 0.2 * v['measured']
        else:
            assert v['verdict'] != 'reproduced' and r['rl pass@kmax'] < r['base pass@kmax']     # dose 0: no sharpening, a narrower boundary
    for key in ('no_expansion', 'crossover', 'subset'):
        assert {r['verdict'] for r in _rows(key).values()} <= {'inconclusive', 'not testable here'}, key
    assert _rows('no_expansion')['dose 0.6']['verdict'] == 'not testable here'             # dose 0.6 sits at the ceiling

def test_the_cot_sentence_holds_on_the_saved_result():
    "The README's CoT-pass@k sentence: dose 0's pass@32 is mostly bare answers, RL keeps CoT-pass@32, no dose's ΔCoT-pass@32 is reproduced."
    words = (ROOT / 'README.md').read_text().split('In words:')[1].split('\n\n')[0]
    d0 = next(r for r in RES['per_dose'] if r['dose'] == 0)
    cot = _rows('cot_expands')
    best = max(cot.values(), key=lambda r: r['measured'])
    quoted = [f"{d0['base pass@kmax']:.3f} is {d0['base cot_pass@kmax']:.3f} in CoT-pass@32",
              f"({d0['base cot_pass@kmax']:.3f} → {d0['rl cot_pass@kmax']:.3f})",
              f"largest at {best['tested_on'].split(',')[0]}: {best['measured']:+.3f} [{best['lo']:+.3f}, {best['hi']:+.3f}]".replace('-', '−'),
              best['verdict']]
    for q in quoted: assert q in ' '.join(words.split()), q
    assert d0['base cot_pass@kmax'] < 0.5 * d0['base pass@kmax'] and abs(d0['rl cot_pass@kmax'] - d0['base cot_pass@kmax']) < 1e-9
    assert all(r['verdict'] != 'reproduced' for r in cot.values())

def test_the_full_study_sentence_holds_on_its_saved_result():
    "The README's full-study paragraph against data/results/full_study.json (and the three-seed run it compares with)."
    full = json.loads((ROOT / 'data' / 'results' / 'full_study.json').read_text())
    text = ' '.join((ROOT / 'README.md').read_text().split('The `full` preset')[1].split('\n\n')[0].split())
    assert f"{full['provenance']['wall_time_min']} minutes" in text and full['seeds'] == [0, 1, 2, 3, 4] and 'five seeds' in text
    V = {(v['finding'], v['tested_on'].split(',')[0]): v for v in full['verdicts']}
    sharp = [float(v['tested_on'].split(',')[0].split()[1]) for v in full['verdicts']
             if v['finding'] == WARMSTART_RULES['sharpens'].finding and v['verdict'] == 'reproduced']
    assert sharp == [0.03, 0.15, 0.6]
    edge = sorted((r for r in full['runs'] if r['arm'] == 'rl' and r['difficulty'] == 'band:edge' and r['dose'] == 0.6), key=lambda r: r['seed'])
    up = [r for r in edge if r['dk_lo'] > 0]
    assert [r['seed'] for r in up] == [1, 2, 3] and all(r['refinement'] > r['selection'] for r in up)
    assert all(abs(r['d1']) < 0.01 and r['dk'] <= 0 for r in edge if r not in up)            # the other two gained nothing
    assert f"(+{up[0]['dk']:.3f}, +{up[1]['dk']:.3f} and +{up[2]['dk']:.3f})" in text
    out = [r for r in full['runs'] if r['arm'] == 'rl' and r['difficulty'] == 'band:out']
    assert max(abs(r['d1']) for r in out) <= 0.0105
    bd = {(r['difficulty'], r['dose'], r['arm']): r for r in full['by_difficulty']}
    assert all(bd['band:out', d, 'distill']['pass@kmax'] > bd['band:out', d, 'base']['pass@kmax'] + 0.2 for d in (0.03, 0.15, 0.6))
    cot = V[WARMSTART_RULES['cot_expands'].finding, 'dose 0.15']
    assert cot['verdict'] == 'reproduced' and f"(+{cot['measured']:.3f} [+{cot['lo']:.3f}, +{cot['hi']:.3f}], reproduced)" in text
    cl = next(v for v in full['verdicts'] if v['finding'] == WARMSTART_RULES['ceiling_law'].finding)
    assert cl['verdict'] == 'inconclusive' and f"(+{cl['measured']:.3f} [{cl['lo']:+.3f}, {cl['hi']:+.3f}])".replace('-', '−') in text
    assert all(r['mae_ceiling'] < r['mae_trivial'] for r in full['ceiling_oos'])           # "wins on every held-out seed"
    pp = next(v for v in full['verdicts'] if v['finding'] == WARMSTART_RULES['perplexity'].finding)
    assert pp['verdict'] == 'reproduced' and f"ratio {pp['measured']:.3f}" in text
    f3 = json.loads((ROOT / 'data' / 'results' / 'full_study_3seeds.json').read_text())
    p3 = next(v for v in f3['verdicts'] if v['finding'] == pp['finding'])
    assert p3['verdict'] == 'not reproduced' and f"run's {p3['measured']:.3f}" in text

def test_the_long_rl_sentence_holds_on_its_saved_result():
    "The README's long-RL sentence against data/results/long_rl.json: every base gains at k_max, and the pooled verdict."
    res = json.loads((ROOT / 'data' / 'results' / 'long_rl.json').read_text())
    text = ' '.join((ROOT / 'README.md').read_text().split('Run ten times longer')[1].split('\n\n')[0].split())
    t = {(r['seed'], r['model']): r for r in res['long_rl']}
    gained = [s for s in range(5) if t[s, 'rl_long']['pass@32'] > t[s, 'base']['pass@32']]
    assert gained == [0, 1, 2, 3] and 'four of the five dose-0.6 bases' in text and res['seeds'] == [0, 1, 2, 3, 4]
    v = next(v for v in res['verdicts'] if v['finding'] == WARMSTART_RULES['long_expands'].finding)
    assert v['verdict'] == 'reproduced' and f"(+{v['measured']:.3f} [+{v['lo']:.3f}, +{v['hi']:.3f}]" in text and '400 steps' in v['tested_on']
    s0 = next(r for r in res['runs'] if r['arm'] == 'rl' and r['seed'] == 0)
    assert s0['dk_lo'] < 0 < s0['dk_hi']                       # the plateau-stopped arm did not move seed 0's pass@32

def test_the_rerun_sentence_holds_on_its_saved_results():
    "The README's sentence on a fresh make demo elsewhere: the bases exact, 31 of 156 numbers off, every verdict the same (both files saved)."
    import importlib.util
    spec = importlib.util.spec_from_file_location('results_tool', ROOT / 'tools' / 'results.py'); tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    old, new = (json.loads((ROOT / 'data' / 'results' / f).read_text()) for f in ('default_study.json', 'default_study_rerun.json'))
    a, b = tool._numbers(old), tool._numbers(new)
    diff = [k for k in a if not tool._same(a[k], b.get(k), 1e-9)]
    text = ' '.join((ROOT / 'README.md').read_text().split('checks a `make demo` run against it')[1].split('\n\n')[0].split())
    assert (len(diff), len(a)) == (31, 156) and '31 of 156 numbers differed' in text
    assert not any(k.endswith(': verdict') for k in diff) and not any(': base ' in k for k in diff)
    assert new['provenance']['cpu_kernels'] in text
    pd_ = lambda res, d: next(r for r in res['per_dose'] if r['dose'] == d)['rl pass@1']
    assert f"dose 0.15 RL pass@1 {pd_(new, 0.15):.3f} against the saved {pd_(old, 0.15):.3f}" in text
    assert f"dose 0.6 {pd_(new, 0.6):.3f} against {pd_(old, 0.6):.3f}" in text
