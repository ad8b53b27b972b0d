"""The front-end files of ``js/``, joined into the one module (and one style sheet) a page loads.

The panel (an anywidget) and the exported HTML page share code: ``js/dom.js`` and friends are ES
modules that ``js/widget.js`` and ``js/export.js`` import by relative path. Neither host can fetch
a second file (anywidget loads one module from a string; the export page loads nothing), so the
imports are resolved here: each imported module is inlined once, before its importer, with its
``export`` keywords dropped. That is the whole "bundler": ~30 lines, no npm needed to install the
package, and a test checks every bundle parses as one module.
"""

from __future__ import annotations

import functools
import pathlib
import re

__all__ = ["asset_path", "bundle_css", "bundle_js"]

_HERE = pathlib.Path(__file__).parent
_IMPORT = re.compile(r'^import\s*\{[^}]*\}\s*from\s*"\./([\w.-]+\.js)";\s*$', re.M)
_EXPORT = re.compile(r"^export\s+(?=(?:async\s+)?function|const|let|class)", re.M)
_CSS_IMPORT = re.compile(r'^@import\s+"\./([\w.-]+\.css)";\s*$', re.M)


def asset_path(name: str) -> pathlib.Path:
    """A front-end file: packed into ``static/`` in a wheel, read from ``js/`` in a checkout."""
    packaged = _HERE / "static" / name
    return packaged if packaged.exists() else _HERE.parents[1] / "js" / name


def _inline(name: str, pattern: re.Pattern, seen: set[str], strip_exports: bool) -> str:
    if name in seen:
        return ""
    seen.add(name)
    source = asset_path(name).read_text("utf-8")
    parts = []
    for dependency in pattern.findall(source):
        parts.append(_inline(dependency, pattern, seen, strip_exports=True))
    body = pattern.sub("", source)
    if strip_exports:
        body = _EXPORT.sub("", body)
    parts.append(f"/* ---- {name} ---- */\n{body.strip()}\n")
    return "\n".join(p for p in parts if p)


@functools.cache
def bundle_js(entry: str) -> str:
    """``js/<entry>`` with the modules it imports inlined, as one ES module's source."""
    return _inline(entry, _IMPORT, set(), strip_exports=False)


@functools.cache
def bundle_css(entry: str) -> str:
    """``js/<entry>`` with the style sheets it ``@import``s inlined."""
    return _inline(entry, _CSS_IMPORT, set(), strip_exports=False)
