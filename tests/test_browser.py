"A real browser (headless Debian Chromium via Selenium) opens the saved report and an interactive chart page."

def _driver():
    from conftest import chrome
    return chrome('--allow-file-access-from-files')

def _errors(d): return [e for e in d.get_log('browser') if e['level'] == 'SEVERE']

def test_report_and_chart_render(smoke_run):
    from selenium.webdriver.support.ui import WebDriverWait
    d = _driver()
    try:
        d.get((smoke_run / 'report.html').as_uri())
        WebDriverWait(d, 20).until(lambda d: d.execute_script("return document.readyState") == 'complete')
        imgs = d.execute_script("return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
        assert len(imgs) >= 6 and all(ok and w > 100 for _, ok, w in imgs), imgs
        assert 'verdict' in d.find_element('tag name', 'table').text
        wide = d.execute_script("return Array.from(document.querySelectorAll('table')).map(t => [t.innerText.slice(0, 40), "
                                "Math.round(t.getBoundingClientRect().width), Math.round(t.parentElement.getBoundingClientRect().width)])"
                                ".filter(([_, w, pw]) => w > pw + 1)")
        assert wide == [], wide          # every table fits its column (the per-run table had been 1,398 px in an 1,100 px column)
        assert _errors(d) == []
        d.get((smoke_run / 'charts' / 'passk.html').as_uri())
        WebDriverWait(d, 30).until(lambda d: d.execute_script(
            "const e = document.querySelector('svg.marks, canvas.marks, .vega-embed canvas, .vega-embed svg'); return !!e"))
        n = d.execute_script("return document.querySelectorAll('svg .mark-line path, svg .mark-symbol path, canvas').length")
        assert n > 0
        assert _errors(d) == []
    finally:
        d.quit()
