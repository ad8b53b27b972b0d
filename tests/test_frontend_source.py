"""The front end's source (js/): no markup or code made from data, scoped CSS, bundles that load.

The panel (widget.js) and the exported page (export.js) share js/dom.js and js/widget.css; the
package joins each entry with what it imports (layerwidget._assets), so the checks below run on
every file in js/ and on the joined bundles as the browser receives them.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from layerwidget._assets import bundle_css, bundle_js

JS = Path(__file__).resolve().parents[1] / "js"
ENTRIES = ("widget.js", "export.js")
UNSAFE = (r"\.innerHTML\b", r"\.outerHTML\b", r"insertAdjacentHTML", r"\beval\s*\(",
          r"new\s+Function\b", r"document\.write", r"setTimeout\(\s*[\"'`]")


def test_js_has_no_html_injection_or_eval():
    sources = {p.name: p.read_text("utf-8") for p in JS.glob("*.js")}
    assert set(ENTRIES) <= set(sources) and "dom.js" in sources
    for name, source in sources.items():
        for pattern in UNSAFE:
            assert not re.search(pattern, source), f"{name} uses {pattern}"


def _rules(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r'@import\s+"[^"]+";', "", css)
    css = re.sub(r"@media[^{]*\{", "", css)  # the rules inside a media query are checked too
    return [s.strip() for group in re.findall(r"([^{}]+)\{", css) for s in group.split(",")]


def test_panel_css_is_scoped_under_the_widget_root():
    # The panel's rules, the stage figures' (class layerwidget-stage), and the rules that hide
    # an explorer's HTML snapshot and loading note in an output area that shows the live panel.
    roots = (".layerwidget-panel", ".layerwidget-stage",
             ".jp-OutputArea:has(.layerwidget-panel) .layerwidget-snapshot",
             ".jp-OutputArea:has(.layerwidget-panel) .layerwidget-loading")
    for name in ("widget.css", "draw.css", "train.css"):
        if not (JS / name).exists():
            continue
        for selector in _rules((JS / name).read_text("utf-8")):
            assert selector.startswith(roots), (name, selector)


def test_page_css_is_scoped_under_the_page_root_or_only_defines_theme_variables():
    css = (JS / "export.css").read_text("utf-8")
    for selector in _rules(css):
        assert selector.startswith(".layerwidget-page") or selector == ":root", selector
    for block in re.findall(r":root\s*\{([^}]*)\}", css):
        for declaration in filter(None, (d.strip() for d in block.split(";"))):
            assert declaration.startswith(("--jp-", "color-scheme")), declaration


def test_bundles_inline_each_shared_module_once_and_keep_no_imports():
    for entry in ENTRIES:
        code = bundle_js(entry)
        assert "import {" not in code and code.count("/* ---- dom.js ---- */") == 1
        assert "function h(" in code and "export function" not in code
    assert ".layerwidget-panel" in bundle_css("export.css")
    assert "</script" not in bundle_js("export.js")  # it is inlined into a <script> element


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js checks the bundles' syntax")
@pytest.mark.parametrize("entry", ENTRIES)
def test_each_bundle_parses_as_one_es_module(entry, tmp_path):
    path = tmp_path / f"{entry}.mjs"
    path.write_text(bundle_js(entry), "utf-8")
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
