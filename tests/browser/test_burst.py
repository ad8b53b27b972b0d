"""A burst of edits from the real panel: the last edit wins and no older result follows a newer."""

import json

from labpage import ARTIFACTS_DIR

BURST_JS = """
async ([count, gap]) => {
  const panel = document.querySelector('.layerwidget-panel');
  const status = panel.querySelector('.lw-stages');
  const seen = [];
  const record = () => {
    const li = status.querySelector("li[data-stage='1']");
    const m = li && li.textContent.match(/\\(1, 28, 28, (\\d+)\\)/);
    if (m && Number(m[1]) !== seen[seen.length - 1]) seen.push(Number(m[1]));
  };
  const observer = new MutationObserver(record);
  observer.observe(status, {childList: true, subtree: true, characterData: true});
  window.__burstSeen = seen;
  const input = panel.querySelector("fieldset[data-layer='0'] input[data-field='filters']");
  for (let n = 1; n <= count; n++) {
    input.value = String(n);
    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
    await new Promise((resolve) => setTimeout(resolve, gap));
  }
  return true;
}
"""


def test_burst_of_50_edits_ends_with_the_last_and_never_goes_back(lab_page):
    lab = lab_page("walkthrough.ipynb")
    lab.run_explorer()
    page = lab.page
    page.wait_for_function(
        "() => document.querySelector(\".layerwidget-panel .lw-stages li[data-stage='1']\")",
        timeout=60_000)

    page.evaluate(BURST_JS, [50, 18])  # 50 edits in under a second
    page.wait_for_function(
        """() => {
            const li = document.querySelector(".layerwidget-panel .lw-stages li[data-stage='1']");
            return li && li.textContent.includes('(1, 28, 28, 50)');
        }""", polling="raf", timeout=60_000)
    page.wait_for_timeout(500)  # a late, older answer would show up here
    seen = page.evaluate("() => window.__burstSeen")
    assert seen[-1] == 50
    assert seen == sorted(seen), f"an older result was shown after a newer one: {seen}"
    conv_title = lab.explorer().locator(".layerwidget-stage").nth(1).inner_text()
    assert "(1, 28, 28, 50)" in conv_title
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "burst_seen.json").write_text(json.dumps(seen))
    lab.screenshot("burst_final")
    lab.assert_no_console_errors()
