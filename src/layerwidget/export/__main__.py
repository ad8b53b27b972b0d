"""``python -m layerwidget.export``: write an export page from the command line.

Mistakes are reported in one line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import LayerWidgetError
from ..options import PIXEL_SCALES
from . import export_html

__all__ = ["main"]


class _UsageError(Exception):
    """A command-line mistake argparse found; main() reports it in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage block and exit itself
        raise _UsageError(f"{message} (see --help)")


def _scalar(text: str) -> Any:
    """A --vary value: int, else float, else None for 'None', else the text itself."""
    text = text.strip()
    if text in ("None", "none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_vary(items: list[str] | None) -> dict | None:
    if not items:
        return None
    vary = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise _UsageError(f"--vary {item!r} needs the form key=v1,v2,… (e.g. filters=3,5,8)")
        if key in vary:
            raise _UsageError(f"--vary names {key!r} twice; give all its values at once, "
                              f"e.g. {key}=3,5")
        vary[key] = [_scalar(v) for v in values.split(",")] if values.strip() else []
    return vary


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m layerwidget.export",
        description="Write a self-contained HTML page with a layer stack's feature maps for a "
                    "grid of parameter values; it opens offline, with no kernel.")
    parser.add_argument("out", help="the .html file to write")
    parser.add_argument("--layers", metavar="JSON",
                        help='the stack as JSON, e.g. \'[{"type": "Conv2D", "filters": 5}]\' '
                             "(default: Conv2D → ReLU → MaxPool2D)")
    parser.add_argument("--vary", action="append", metavar="KEY=V1,V2",
                        help="values to precompute for one parameter; repeat for more "
                             "(default: filters=3,5,8 kernel_size=3,5 strides=1,2)")
    parser.add_argument("--no-vary", action="store_true", help="a single view, nothing varied")
    parser.add_argument("--image-index", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    parser.add_argument("--pixel-scale", choices=PIXEL_SCALES, default="raw")
    parser.add_argument("--title", metavar="T")
    parser.add_argument("--max-bytes", type=int, default=5_000_000, metavar="N")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0, or 2 after a one-line error)."""
    prog = "layerwidget.export"
    try:
        args = _parser().parse_args(argv)
        layers = None
        if args.layers is not None:
            try:
                layers = json.loads(args.layers)
            except json.JSONDecodeError as exc:
                raise _UsageError(f"--layers is not valid JSON ({exc}); e.g. "
                                  '\'[{"type": "Conv2D", "filters": 5}]\'') from None
        vary = {} if args.no_vary else _parse_vary(args.vary)
        report = export_html(args.out, layers=layers, image_index=args.image_index,
                             seed=args.seed, pixel_scale=args.pixel_scale, vary=vary,
                             title=args.title, max_bytes=args.max_bytes)
    except (_UsageError, LayerWidgetError, ValueError, TypeError, OSError) as exc:
        message = " ".join(str(exc).split())
        sys.stderr.write(f"{prog}: error: {message}\n")
        return 2
    invalid = f", {report.invalid_combinations} invalid" if report.invalid_combinations else ""
    sys.stdout.write(f"{report.path}: {report.bytes:,} bytes, {report.combinations} "
                     f"combination{'s' if report.combinations != 1 else ''}{invalid}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
