"""The explorer stays readable in JupyterLab's light and dark themes, measured in the real DOM.

Colours come from getComputedStyle (so CSS variables, inline SVG styles and alpha are all
resolved by the browser); contrast is WCAG 2's ratio, with translucent colours composited
over what is behind them first.
"""

from __future__ import annotations

import json

from labpage import ARTIFACTS_DIR, LabPage, kernel_exec

NOTEBOOK = "walkthrough.ipynb"
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
MIN_CONTRAST = 4.5  # WCAG 2 AA, normal-size text

_CHANGE_THEME_JS = """
async (name) => {
  await window.jupyterapp.commands.execute('apputils:change-theme', {theme: name});
}
"""

# The theme manager sets these once the theme's CSS is loaded.
_THEME_APPLIED_JS = """
(name) => document.body.dataset.jpThemeName === name
  && getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim() !== ''
"""

_MEASURE_JS = """
() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]*)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (fg, bg) => {  // fg composited over an opaque bg
    const a = fg[3];
    return [0, 1, 2].map((i) => fg[i] * a + bg[i] * (1 - a)).concat([1]);
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const css = (c) => `rgb(${c.slice(0, 3).map(Math.round).join(', ')})`;
  // What the browser paints behind el: its own and its ancestors' backgrounds, composited
  // over an opaque white page.
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((bg, layer) => over(layer, bg), [255, 255, 255, 1]);
  };
  const resolve = (value) => {  // a CSS colour expression -> rgb(a) as computed here
    const probe = document.createElement('div');
    probe.style.backgroundColor = value;
    document.body.appendChild(probe);
    const c = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return c;
  };
  const textContrast = (el, colour) => {
    const bg = backdrop(el);
    const fg = over(parse(colour || getComputedStyle(el).color), bg);
    return {fg: css(fg), bg: css(bg), ratio: contrast(fg, bg)};
  };

  const panel = document.querySelector('.layerwidget-panel');
  const root = panel.closest('.widget-hbox');
  const notebook = panel.closest('.jp-Notebook') || document.body;
  const figures = [...root.querySelectorAll('.layerwidget-stage')];
  const heading = figures[1].querySelector('text.mainheading');
  const plotBg = figures[1].querySelector('rect.plotarea_background');

  // Every kind of text the panel shows, with the contrast of its first visible instance.
  const kinds = {
    'panel title': '.lw-title', 'legend': 'legend', 'field label': '.lw-field label, label',
    'number input': 'input[type="number"]', 'select': 'select', 'button': 'button:not(:disabled)',
    'status list': '.lw-stages li', 'timing': '.lw-timing', 'label': '.lw-label',
  };
  const panelTexts = {};
  for (const [kind, selector] of Object.entries(kinds)) {
    const el = [...panel.querySelectorAll(selector)].find((e) => e.getClientRects().length);
    if (el) panelTexts[kind] = textContrast(el);
  }
  const panelFg = over(parse(getComputedStyle(panel).color), parse(getComputedStyle(panel).backgroundColor));
  const panelBgColour = parse(getComputedStyle(panel).backgroundColor);
  const notebookBg = backdrop(notebook);
  const headingFill = parse(getComputedStyle(heading).fill);
  return {
    theme: document.body.dataset.jpThemeName,
    layoutColor1: resolve('var(--jp-layout-color1)'),
    panelBackground: getComputedStyle(panel).backgroundColor,
    panelBackgroundLuminance: luminance(panelBgColour),
    panelText: {fg: css(panelFg), bg: css(panelBgColour), ratio: contrast(panelFg, panelBgColour)},
    panelTexts,
    notebookBackground: css(notebookBg),
    title: {
      text: heading.textContent,
      vsBackdrop: textContrast(figures[1].querySelector('svg'), getComputedStyle(heading).fill),
      vsNotebook: {fg: css(over(headingFill, notebookBg)), bg: css(notebookBg),
                   ratio: contrast(over(headingFill, notebookBg), notebookBg)},
    },
    plotAreaBackground: plotBg ? getComputedStyle(plotBg).fill : null,
    // A tile number sits on the map itself, light or dark: its outline is its background.
    tileNumber: (() => {
      const t = figures[1].querySelector('text.label');
      if (!t) return null;
      const edge = parse(getComputedStyle(t).stroke);
      const fill = over(parse(getComputedStyle(t).fill), edge);
      return {text: t.textContent, fg: css(fill), bg: css(edge), ratio: contrast(fill, edge)};
    })(),
    figureBackdrop: css(backdrop(figures[1])),
    // The colour legend's numbers, the focus view's title and a printed kernel weight: SVG
    // text, read against the notebook behind the figures.
    svgTexts: Object.fromEntries([
      ['legend tick', Array.from(figures[1].querySelectorAll('g.curve text.curve_label'))
        .find((t) => /[0-9][.][0-9][0-9]$/.test(t.textContent))],
      ['legend label', figures[1].querySelector('.ColorBar .axislabel')],
      ['focus title', root.querySelector('.layerwidget-focus text.mainheading')],
    ].filter(([, el]) => el).map(([kind, el]) => {
      const fill = over(parse(getComputedStyle(el).fill), notebookBg);
      return [kind, {fg: css(fill), bg: css(notebookBg), ratio: contrast(fill, notebookBg)}];
    })),
  };
}
"""


def set_theme(lab: LabPage, name: str) -> None:
    lab.page.evaluate(_CHANGE_THEME_JS, name)
    lab.page.wait_for_function(_THEME_APPLIED_JS, arg=name, timeout=30_000)
    # Two frames: styles recomputed and painted before anything is measured or captured.
    lab.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def check_readable(lab: LabPage, theme: str, screenshot: str) -> dict:
    set_theme(lab, theme)
    lab.explorer().scroll_into_view_if_needed()
    lab.wait_for_stable_paint()
    lab.screenshot(screenshot)
    m = lab.page.evaluate(_MEASURE_JS)
    assert m["theme"] == theme
    # The panel is painted with the theme's own surface colour...
    assert m["panelBackground"] == m["layoutColor1"], m
    # ...its text, every kind of it, reads against what is behind it...
    assert m["panelText"]["ratio"] >= MIN_CONTRAST, m["panelText"]
    low = {k: v for k, v in m["panelTexts"].items() if v["ratio"] < MIN_CONTRAST}
    assert not low, f"{theme}: panel text below {MIN_CONTRAST}:1: {low}"
    # ...and so does the figure title bqplot draws in SVG.
    assert "Conv2D" in m["title"]["text"]
    assert m["title"]["vsBackdrop"]["ratio"] >= MIN_CONTRAST, m["title"]
    assert m["title"]["vsNotebook"]["ratio"] >= MIN_CONTRAST, m["title"]
    assert set(m["svgTexts"]) == {"legend tick", "legend label", "focus title"}, m["svgTexts"]
    assert m["tileNumber"] and m["tileNumber"]["text"] == "0", m["tileNumber"]
    assert m["tileNumber"]["ratio"] >= MIN_CONTRAST, f"{theme}: tile number {m['tileNumber']}"
    low = {k: v for k, v in m["svgTexts"].items() if v["ratio"] < MIN_CONTRAST}
    assert not low, f"{theme}: legend or focus text below {MIN_CONTRAST}:1: {low}"
    return m


def test_light_and_dark_themes_keep_panel_and_titles_readable(lab_page):
    lab = lab_page(NOTEBOOK)
    lab.run_explorer()
    lab.heatmap_href(3)  # every stage has painted
    kernel_exec(lab, "ex.focus, ex.unit = (1, 0), (10, 12)")  # the focus view too
    lab.page.locator(".layerwidget-focus text.mainheading").first.wait_for(
        state="attached", timeout=30_000)
    measured = {}
    try:
        measured[LIGHT] = check_readable(lab, LIGHT, "theme_light")
        measured[DARK] = check_readable(lab, DARK, "theme_dark")
        assert measured[DARK]["panelBackgroundLuminance"] < 0.2, measured[DARK]
        assert measured[LIGHT]["panelBackgroundLuminance"] > 0.8, measured[LIGHT]
    finally:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS_DIR / "theme_contrast.json").write_text(json.dumps(measured, indent=1))
        # The theme is a user setting of the shared server: leave it as the other tests expect.
        if not lab.page.is_closed():
            set_theme(lab, LIGHT)
    lab.assert_no_console_errors()
