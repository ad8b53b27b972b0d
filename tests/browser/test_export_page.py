"""The exported page in Chromium, opened from file:// with every network request refused.

No Jupyter server: the page must work on its own, as a student opens it from a course site.
"""

from __future__ import annotations

from contextlib import contextmanager

from labpage import ARTIFACTS_DIR

from layerwidget.export import export_html

TWO_POOLS_THEN_VALID_CONV = [
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "valid"},
]


@contextmanager
def offline_page(browser):
    """A new page that can load only file: and data: URLs, its errors and requests recorded."""
    page = browser.new_page()
    errors, requests = [], []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith(("file:", "data:")) else route.abort())
    browser.set_offline(True)
    try:
        yield page, errors, requests
    finally:
        browser.set_offline(False)  # the context is shared with the other browser tests
        page.close()


def expect(target):
    # Imported here, not at the top: without Playwright the conftest's gate must skip (or, in
    # CI, fail) these tests, which a failed module import would pre-empt.
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def stage(page, i):
    return page.locator(f"figure[data-stage='{i}']")


def test_exported_page_switches_among_precomputed_views_offline(browser, tmp_path):
    path = export_html(tmp_path / "explorer.html").path
    with offline_page(browser) as (page, errors, requests):
        page.goto(path.as_uri())
        expect(page.locator("figure[data-stage]")).to_have_count(4)
        expect(stage(page, 0).locator("figcaption")).to_contain_text("input (1, 28, 28, 1)")
        expect(stage(page, 0).locator("figcaption")).to_contain_text("label 7")
        expect(stage(page, 1).locator("figcaption")).to_contain_text("1. Conv2D (1, 28, 28, 3)")
        expect(stage(page, 3).locator("figcaption")).to_contain_text(
            "3. MaxPool2D (1, 14, 14, 3)")
        expect(page.get_by_role("alert")).to_be_hidden()
        expect(page.locator("legend")).to_have_text(
            ["input", "1. Conv2D", "2. ReLU", "3. MaxPool2D"])
        conv_img = stage(page, 1).locator("img")
        first_src = conv_img.get_attribute("src")
        input_src = stage(page, 0).locator("img").get_attribute("src")
        assert first_src.startswith("data:image/png;base64,")
        # Every picture decoded: a broken data URL would leave naturalWidth at 0.
        assert page.eval_on_selector_all(
            "figure img", "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
        # Each stage's legend reads its min and max, as its caption does; the focus shows the
        # first Conv2D's channel 0 with the kernel of filter 0 printed.
        for i in range(4):
            caption = stage(page, i).locator("figcaption").text_content()
            ticks = stage(page, i).locator(".lw-legend-ticks span").all_text_contents()
            assert f"min {ticks[0]}" in caption and f"max {ticks[-1]}" in caption
        expect(page.locator("figure.lw-focus table.lw-kernel td")).to_have_count(9)
        assert page.eval_on_selector(
            "figure img", "i => getComputedStyle(i).imageRendering") == "pixelated"

        page.get_by_label("filters", exact=True).select_option(label="8")
        expect(stage(page, 1).locator("figcaption")).to_contain_text("1. Conv2D (1, 28, 28, 8)")
        expect(stage(page, 3).locator("figcaption")).to_contain_text("(1, 14, 14, 8)")
        assert conv_img.get_attribute("src") != first_src
        assert stage(page, 0).locator("img").get_attribute("src") == input_src

        page.get_by_label("kernel_size", exact=True).select_option(label="5")
        page.get_by_label("strides", exact=True).select_option(label="2")
        expect(stage(page, 1).locator("figcaption")).to_contain_text("1. Conv2D (1, 14, 14, 8)")
        expect(stage(page, 3).locator("figcaption")).to_contain_text("(1, 7, 7, 8)")
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS_DIR / "export_page.png"), full_page=True)

        # The reader's dark theme: dark page, and the transparent gutters take its colour.
        page.emulate_media(color_scheme="dark")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
            "rgb(17, 17, 17)"
        page.screenshot(path=str(ARTIFACTS_DIR / "export_page_dark.png"), full_page=True)
        page.emulate_media(color_scheme="light")

        assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert errors == []


def test_exported_page_shows_the_message_of_an_invalid_combination(browser, tmp_path):
    path = export_html(tmp_path / "bad.html", layers=TWO_POOLS_THEN_VALID_CONV,
                       vary={"2.kernel_size": [3, 9]}).path
    with offline_page(browser) as (page, errors, requests):
        page.goto(path.as_uri())
        conv = stage(page, 3).locator("figcaption")
        expect(conv).to_contain_text("3. Conv2D (1, 5, 5, 4)")
        alert = page.get_by_role("alert")
        expect(alert).to_be_hidden()

        page.get_by_label("kernel_size", exact=True).select_option(label="9")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("kernel_size=9 is larger than its 7×7 input with "
                                      "padding='valid'; use padding='same'")
        expect(conv).to_contain_text("(1, 5, 5, 4)")  # as in the widget, the last maps stay
        page.screenshot(path=str(ARTIFACTS_DIR / "export_page_error.png"), full_page=True)

        page.get_by_label("kernel_size", exact=True).select_option(label="3")
        expect(alert).to_be_hidden()
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert errors == []
