"""benchmarks/floor.py answers a seed edit with exactly the pictures the explorer paints.

The benchmark's floor case is only a fair floor if it carries the same bytes the explorer
sends for the same edit, and no more than the stages that changed.
"""

import importlib.util
from pathlib import Path

from layerwidget import LayerExplorer

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "floor.py"
_spec = importlib.util.spec_from_file_location("bench_floor", _PATH)
floor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(floor)


def test_floor_answers_each_seed_with_the_explorers_pictures():
    widget = floor.floor_widget()
    sent = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))
    reference = LayerExplorer(layers=floor.STACK)
    try:
        for seq, seed in enumerate([2, 1, 3, 0], start=1):
            widget._edit(widget, {"kind": "edit", "state": {"seed": seed, "edit_seq": seq}}, [])
            content, buffers = sent[-1]
            assert content["kind"] == "layerwidget-batch" and content["ack"] == seq
            # The input does not change with the seed; every layer's stage does.
            assert content["stages"] == [1, 2, 3]
            reference.seed = seed
            expected = [bytes(v._image.image.value) for v in reference._stages.views]
            assert [bytes(b) for b in buffers] == [expected[i] for i in content["stages"]]
            assert all(b.startswith(b"data:image/png;base64,") for b in buffers)
        # The figures are the explorer's sizes, each picture inside its figure.
        for fig, view in zip(widget.figures, reference._stages.views, strict=True):
            assert f"{fig['fig_w']:g}px" == view.figure.layout.width
            assert f"{fig['fig_h']:g}px" == view.figure.layout.height
            assert 0 <= fig["x"] and fig["x"] + fig["width"] <= fig["fig_w"] + 1e-6
        # Anything but an edit is ignored.
        widget._edit(widget, {"kind": "other"}, [])
        assert len(sent) == 4
    finally:
        reference.close()
        widget.close()
