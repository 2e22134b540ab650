"""Nothing leaves the machine, in a real browser (issue 13): the app started as a user starts it (`runform app`),
sessions and a patient with hostile titles, clip names, names and goals (made by the real pipeline from the real
clip), every page opened in headless Debian Chromium. Every request the page makes must go to the app itself, the
hostile text must be on the page as text, and no element may point at the hostile address."""
from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVIL = "198.51.100.7"
TITLE = f"Baseline ![x](http://{EVIL}/t.png)"
CLIP = f"![c](http://{EVIL}/c.png).mp4"
TAG = f'<img src="http://{EVIL}/h.png">'


@pytest.fixture(scope="module")
def hostile_data(app_server, real_clip):
    """A finished session, a failed one and a patient, all with hostile text, in the running app's data dir."""
    from analyzer.pipeline.offline import AnalyzeOptions
    from analyzer.plan import PlanInputs
    from analyzer.records import add_patient, store_app_session
    from analyzer.records.store import _DBS
    from analyzer.records.sessions import SessionStore
    from analyzer.pipeline.stored import analyze_stored

    url, data = app_server
    old = os.environ["RUNFORM_DATA_DIR"]
    os.environ["RUNFORM_DATA_DIR"] = str(data)
    try:
        store = SessionStore()
        s = store.create(title=TITLE)
        s.add_clip(CLIP, real_clip)
        analyze_stored(s, AnalyzeOptions(render_video=False))
        bad = store.create(title=f"Retest {TAG}")
        bad.add_clip("rear.mp4", b"not a video")
        bad.status, bad.error = "failed", f"“{CLIP}” is not a video we can read."
        bad.save()
        add_patient("P-13", display_name=f"Jane ![n](http://{EVIL}/n.png)")
        store_app_session("P-13", s, notes=f"note ![m](http://{EVIL}/m.png)",
                          inputs=PlanInputs("knee", 2, None, 20, f"goal ![g](http://{EVIL}/g.png)"))
    finally:
        os.environ["RUNFORM_DATA_DIR"] = old
        for db in list(_DBS.values()):
            db.close()
        _DBS.clear()
    return url, s.id


def test_every_page_with_hostile_text_stays_on_this_machine(hostile_data, browser):
    url, sid = hostile_data
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    visits = [(f"{url}/results?session={sid}", "Key measurements"), (f"{url}/exports?session={sid}", "Exports"),
              (f"{url}/patients", "Patients"), (f"{url}/analyse", "New analysis"), (f"{url}/about", "About")]
    texts = []
    for target, marker in visits:
        page.goto(target)
        page.get_by_text(marker).first.wait_for(timeout=90_000)
        page.wait_for_timeout(2500)  # let every element (images, plan, charts) render and fetch what it would
        # the page's text nodes, those of tabs not shown too (word joiners dropped: they only stop autolinks)
        texts.append(page.evaluate("() => document.body.textContent").replace("\u2060", ""))
        for sel in (f'img[src*="{EVIL}"]', f'a[href*="{EVIL}"]', f'[src*="{EVIL}"]'):
            found = page.locator(sel)
            assert found.count() == 0, (target, sel, [found.nth(i).evaluate("e => e.parentElement.outerHTML")
                                                      for i in range(found.count())])
    outside = [u for u in requests if not u.startswith((url, "data:", "blob:"))]
    assert outside == [], outside
    assert not any(EVIL in u for u in requests)
    shown = "\n".join(texts)
    for literal in (TITLE, CLIP, "Retest <img", f"goal ![g](http://{EVIL}/g.png)"):
        assert literal in shown, literal  # shown as the text it is
