"A real browser (headless Debian Chromium via Selenium) opens the saved report and an interactive chart page."
import shutil
import pytest

def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chromium, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (chromium and driver):
        pytest.skip('Debian chromium/chromium-driver not installed (make test installs them with apt-get when it can)')
    o = webdriver.ChromeOptions()
    o.binary_location = chromium
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'):
        o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service(driver), options=o)

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
        assert _errors(d) == []
        d.get((smoke_run / 'charts' / 'passk.html').as_uri())
        WebDriverWait(d, 30).until(lambda d: d.execute_script(
            "const e = document.querySelector('svg.marks, canvas.marks, .vega-embed canvas, .vega-embed svg'); return !!e"))
        n = d.execute_script("return document.querySelectorAll('svg .mark-line path, svg .mark-symbol path, canvas').length")
        assert n > 0
        assert _errors(d) == []
    finally:
        d.quit()
