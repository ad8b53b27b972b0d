"""The panel's source never turns model data into markup or code."""

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[1] / "js"


def test_js_has_no_html_injection_or_eval():
    for path in JS.glob("*.js"):
        source = path.read_text("utf-8")
        for pattern in (r"\.innerHTML\b", r"\.outerHTML\b", r"insertAdjacentHTML", r"\beval\s*\(",
                        r"new\s+Function\b", r"document\.write"):
            assert not re.search(pattern, source), f"{path.name} uses {pattern}"


def test_css_is_scoped_under_the_widget_root():
    css = (JS / "widget.css").read_text("utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    for selector_group in re.findall(r"([^{}]+)\{", css):
        for selector in selector_group.split(","):
            assert selector.strip().startswith(".layerwidget-panel"), selector
