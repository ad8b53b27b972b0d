"""The example notebooks: stored clean, and true.

The notebooks in examples/ are their own source: teachers edit them in JupyterLab and run
scripts/clean_notebooks.py before committing. The stored-form tests catch what such an edit can
break (outputs left in, a lost kernelspec, a missing or duplicated tag). Then each notebook runs
top to bottom in a fresh ``python3`` kernel (cwd examples/, no network) and the numbers its prose
relies on are read back from its outputs, so the course material cannot silently rot. The cells
these tests read are found by their tag (``metadata.tags``, listed in TAGS): JupyterLab keeps a
cell's tags when it is edited, moved or copied, whereas a copied cell gets a new id.
"""

from __future__ import annotations

import ast
import asyncio
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CLEAN_SCRIPT = ROOT / "scripts" / "clean_notebooks.py"
NOTEBOOKS = ("walkthrough.ipynb", "strides_and_padding.ipynb", "pooling_and_activations.ipynb")
# The tags of the cells the tests below read, per notebook; each must be on exactly one cell.
TAGS = {
    "walkthrough.ipynb": (
        "lw:data", "lw:full-mnist", "lw:digit", "lw:default-explorer", "lw:stats", "lw:conv",
        "lw:relu", "lw:pool", "lw:keras-code", "lw:slip-note"),
    "strides_and_padding.ipynb": (
        "lw:formula", "lw:table", "lw:live", "lw:impossible", "lw:fixes"),
    "pooling_and_activations.ipynb": (
        "lw:pool-compare", "lw:pool-explorer", "lw:relu-counts", "lw:relu-fields",
        "lw:relu-explorer", "lw:activations", "lw:saturation"),
}
KNOWN_TAGS = {tag for tags in TAGS.values() for tag in tags}
WIDGET = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def stored(name):
    return nbformat.read(EXAMPLES / name, as_version=4)


# ---- running the notebooks: once per session, all three at once ----

@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """{name: (executed notebook, seconds)}; the three kernels run concurrently (~15 s)."""
    # KERAS_HOME points at an empty folder so load_mnist() takes its offline branch on every
    # machine, even one with MNIST cached; LAYERWIDGET_NO_DOWNLOAD keeps it off the network.
    env = {**os.environ, "LAYERWIDGET_NO_DOWNLOAD": "1",
           "KERAS_HOME": str(tmp_path_factory.mktemp("keras_home"))}

    async def run(name):
        nb = stored(name)
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(EXAMPLES)}})
        await client.async_execute(env=env)
        return nb, time.perf_counter() - start

    async def run_all():
        return await asyncio.gather(*(run(name) for name in NOTEBOOKS))

    return dict(zip(NOTEBOOKS, asyncio.run(run_all()), strict=True))


@pytest.fixture(scope="module")
def walkthrough(executed):
    return executed["walkthrough.ipynb"][0]


@pytest.fixture(scope="module")
def strides(executed):
    return executed["strides_and_padding.ipynb"][0]


@pytest.fixture(scope="module")
def pooling(executed):
    return executed["pooling_and_activations.ipynb"][0]


def tags_of(c) -> list[str]:
    return list(c.get("metadata", {}).get("tags", []))


def tagged(nb, tag) -> list:
    return [c for c in nb.cells if tag in tags_of(c)]


def cell(nb, tag):
    """The one cell of `nb` tagged `tag`."""
    assert tag in KNOWN_TAGS, f"{tag!r} is not listed in TAGS"
    matches = tagged(nb, tag)
    assert len(matches) == 1, f"{len(matches)} cells tagged {tag!r}, expected exactly one"
    return matches[0]


def printed(nb, tag) -> str:
    """What the cell tagged `tag` printed to stdout."""
    return "".join(o.get("text", "") for o in cell(nb, tag).get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def run_clean_script(*args):
    # sys.executable is the venv's python when the suite runs from .venv/bin/pytest.
    return subprocess.run([sys.executable, str(CLEAN_SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def shows_widget(c) -> bool:
    return any(WIDGET in o.get("data", {}) for o in c.get("outputs", []))


def number(pattern, text) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return float(match.group(1))


# ---- stored form: checked without running anything ----

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(name):
    for c in stored(name).cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, (name, c.id)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_names_the_python3_kernel(name):
    # Without it JupyterLab asks which kernel to start before it runs anything.
    assert stored(name).metadata.get("kernelspec") == KERNELSPEC


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_holds_no_absolute_paths(name):
    for c in stored(name).cells:
        for fragment in ("/work", "/home", "/tmp", "C:\\"):
            assert fragment not in c.source, (name, c.id, fragment)


def test_every_example_notebook_is_run_by_these_tests():
    # A notebook added to examples/ and not to NOTEBOOKS and TAGS would never be executed.
    assert sorted(NOTEBOOKS) == sorted(TAGS) == sorted(p.name for p in EXAMPLES.glob("*.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_tags_each_cell_the_tests_read_exactly_once(name):
    nb = stored(name)
    for tag in TAGS[name]:
        count = len(tagged(nb, tag))
        assert count == 1, (
            f"{name}: {count} cells tagged {tag!r}; the tests read that cell, so exactly one "
            "must carry the tag (a copied cell keeps its tags: remove the tag from the copy)")
    # A typo'd or stray lw: tag would otherwise go unnoticed until its cell is looked up.
    stray = {t for c in nb.cells for t in tags_of(c) if t.startswith("lw:")} - set(TAGS[name])
    assert not stray, f"{name}: tags {sorted(stray)} are not in TAGS"


def test_clean_script_check_passes_on_the_stored_notebooks():
    result = run_clean_script("--check", *(EXAMPLES / name for name in NOTEBOOKS))
    assert result.returncode == 0, result.stdout + result.stderr



@pytest.mark.parametrize("name", NOTEBOOKS)
def test_jupyterlab_saving_a_stored_notebook_changes_no_byte(tmp_path, name):
    # The clean layout is the one JupyterLab writes (through jupyter_server's contents manager),
    # so opening and saving a notebook shows no diff until a cell really changes.
    filemanager = pytest.importorskip("jupyter_server.services.contents.filemanager")
    shutil.copyfile(EXAMPLES / name, tmp_path / name)
    contents = filemanager.FileContentsManager(root_dir=str(tmp_path))
    contents.save(contents.get(name), name)
    assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes()

def dirty_like_a_jupyterlab_session(path):
    """Rewrite the notebook at `path` as JupyterLab saves it after Run All and some clicking."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                              "language": "python"}
    nb.metadata.language_info = {
        "name": "python", "version": "3.11.9", "mimetype": "text/x-python",
        "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}}
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {
        "state": {"0123abcd": {"model_name": "LayoutModel", "state": {}}},
        "version_major": 2, "version_minor": 0}}
    count = 0
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        count += 1
        c.execution_count = count
        c.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="digits: (1000, 28, 28)\n"),
            nbformat.v4.new_output("display_data", data={
                WIDGET: {"model_id": "0123abcd", "version_major": 2, "version_minor": 0},
                "text/plain": ["LayerExplorer(...)"]}),
        ]
        c.metadata.execution = {"iopub.execute_input": "2025-01-01T10:00:00.000000Z",
                                "shell.execute_reply": "2025-01-01T10:00:01.000000Z"}
        c.metadata.collapsed = False
        c.metadata.scrolled = True
        c.metadata.jupyter = {"outputs_hidden": True}
    nbformat.write(nb, path)


def test_clean_script_restores_the_stored_bytes_after_a_session(tmp_path):
    # All three notebooks in one run of each command: every start of the script imports
    # nbformat, which takes seconds here (jsonschema builds a grammar on import).
    paths = [tmp_path / name for name in NOTEBOOKS]
    for name, path in zip(NOTEBOOKS, paths, strict=True):
        shutil.copyfile(EXAMPLES / name, path)
        dirty_like_a_jupyterlab_session(path)
        assert path.read_bytes() != (EXAMPLES / name).read_bytes()
    dirty = [path.read_bytes() for path in paths]

    check = run_clean_script("--check", *paths)
    assert check.returncode == 1, check.stdout + check.stderr
    assert all(str(path) in check.stdout for path in paths), check.stdout
    assert [path.read_bytes() for path in paths] == dirty  # --check writes nothing

    assert run_clean_script(*paths).returncode == 0
    for name, path in zip(NOTEBOOKS, paths, strict=True):
        assert path.read_bytes() == (EXAMPLES / name).read_bytes(), name
    # Idempotent: on clean files --check finds nothing the script would change.
    recheck = run_clean_script("--check", *paths)
    assert recheck.returncode == 0, recheck.stdout + recheck.stderr


def test_walkthrough_first_widget_is_the_default_explorer_and_later_cells_leave_it_alone():
    # The browser tests drive the first explorer on the page and expect the default stack.
    nb = stored("walkthrough.ipynb")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(code_cells) if "LayerExplorer(" in c.source)
    assert code_cells[first] is cell(nb, "lw:default-explorer")
    assert code_cells[first].source == "ex = LayerExplorer()\nex"
    for c in code_cells[first + 1:]:
        for node in ast.walk(ast.parse(c.source)):
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                while isinstance(target, (ast.Attribute, ast.Subscript)):
                    target = target.value
                assert not (isinstance(target, ast.Name) and target.id == "ex"), (
                    f"cell {c.id} changes ex: {ast.unparse(node)}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                assert not (isinstance(owner, ast.Name) and owner.id == "ex"), (
                    f"cell {c.id} calls {ast.unparse(node.func)}")


# ---- every notebook runs cleanly ----

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_without_errors_or_warnings(executed, name):
    nb, _ = executed[name]
    for c in nb.cells:
        for out in c.get("outputs", []):
            assert out.output_type != "error", (name, c.id, out.get("evalue"))
            # A student sees stderr as a red box: TensorFlow's chatter must stay silenced.
            assert out.get("name") != "stderr", (name, c.id, out.get("text"))
    # Speed is not asserted here: nbclient's per-cell timeout catches a runaway.


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_displays_a_few_explorers(executed, name):
    nb, _ = executed[name]
    shown = sum(shows_widget(c) for c in nb.cells)
    assert 1 <= shown <= 4, f"{name} displays {shown} widgets"


# ---- walkthrough.ipynb ----

def test_walkthrough_loads_the_embedded_digits(walkthrough):
    text = printed(walkthrough, "lw:data")
    assert "digits: (1000, 28, 28) uint8 pixels 0 to 255" in text
    assert "first labels: [7 2 1 0 4 1 4 9 5 9]" in text


def test_walkthrough_full_mnist_offline_says_what_to_use_instead(walkthrough):
    text = printed(walkthrough, "lw:full-mnist")
    assert "downloads are off" in text
    assert "Offline, use layerwidget.sample_digits()" in text


def test_walkthrough_shows_digit_7_and_its_label(walkthrough):
    lines = printed(walkthrough, "lw:digit").splitlines()
    assert lines[0] == "label: 7 - shape: (28, 28)"
    rows = lines[1:]
    assert len(rows) == 28 and all(len(r) == 28 for r in rows)
    assert sum(r.count("#") for r in rows) > 50  # the stroke of the 7


def test_walkthrough_first_explorer_shows_the_default_stack(walkthrough):
    widgets = [c for c in walkthrough.cells if shows_widget(c)]
    assert widgets[0] is cell(walkthrough, "lw:default-explorer")
    text = printed(walkthrough, "lw:stats")
    assert "label: 7" in text
    assert ("first layer: {'type': 'Conv2D', 'filters': 3, 'kernel_size': 3, 'strides': 1, "
            "'padding': 'same', 'activation': 'linear', 'id': 1}") in text
    rows = [line.split() for line in text.splitlines()[2:]]
    assert [(r[0], " ".join(r[1:5])) for r in rows] == [
        ("input", "(1, 28, 28, 1)"), ("Conv2D", "(1, 28, 28, 3)"),
        ("ReLU", "(1, 28, 28, 3)"), ("MaxPool2D", "(1, 14, 14, 3)")]
    assert float(rows[1][6]) < 0 and float(rows[2][6]) == 0.0  # ReLU's min is 0


def test_walkthrough_conv2d_filters_3_then_5_gives_3_then_5_channels(walkthrough):
    text = printed(walkthrough, "lw:conv")
    assert "Conv2D, 3 filters: (1, 28, 28, 3)" in text
    assert "Conv2D, 5 filters: (1, 28, 28, 5)" in text
    assert "kernel shape: (3, 3, 1, 5)" in text
    assert shows_widget(cell(walkthrough, "lw:conv"))


def test_walkthrough_relu_sends_the_min_to_0_and_keeps_the_max(walkthrough):
    text = printed(walkthrough, "lw:relu")
    assert number(r"before ReLU: min (-?[\d.]+)", text) < 0
    assert number(r"after ReLU:  min (-?[\d.]+)", text) == 0.0
    assert (number(r"before ReLU: .*max (-?[\d.]+)", text)
            == number(r"after ReLU: .*max (-?[\d.]+)", text) > 0)
    assert number(r"negative values before: (\d+)", text) > 0
    assert "- after: 0\n" in text
    assert "positive values unchanged: True" in text
    assert shows_widget(cell(walkthrough, "lw:relu"))


def test_walkthrough_maxpool_2x2_stride_2_takes_28_to_14(walkthrough):
    text = printed(walkthrough, "lw:pool")
    assert "before pooling: (1, 28, 28, 5)" in text
    assert "after pooling:  (1, 14, 14, 5)" in text
    before, after = re.search(r"max before and after pooling: ([\d.]+), ([\d.]+)", text).groups()
    assert before == after
    assert shows_widget(cell(walkthrough, "lw:pool"))
    assert "keras.layers.MaxPool2D(pool_size=2, strides=2" in printed(walkthrough, "lw:keras-code")


def test_walkthrough_corrects_the_classic_pooling_shape_slip():
    note = cell(stored("walkthrough.ipynb"), "lw:slip-note").source
    for fact in ("*before*", "*after*", "(1, 28, 28, 5)", "(1, 14, 14, 5)"):
        assert fact in note


# ---- strides_and_padding.ipynb ----

def out_size(n, k, s, padding):
    """The test's own copy of the formula, so the notebook's is checked too."""
    return (n - k) // s + 1 if padding == "valid" else math.ceil(n / s)


TABLE_ROW = re.compile(r"^(Conv2D|MaxPool2D)\s+(\d+)\s+(\d+|None)\s+(valid|same)\s+(-?\d+)\s+"
                       r"\((\d+), (\d+), 1\)\s+\(1, (\d+), (\d+), 1\)$")


def test_strides_formula_table_matches_keras(strides):
    assert "k=5, s=2, valid: 12" in printed(strides, "lw:formula")
    assert "k=5, s=2, same:  14" in printed(strides, "lw:formula")
    text = printed(strides, "lw:table")
    rows = [m.groups() for m in map(TABLE_ROW.match, text.splitlines()) if m]
    assert len(rows) == 13
    for layer, k, s, padding, formula, sh, sw, kh, kw in rows:
        k, s = int(k), int(k) if s == "None" else int(s)
        expected = out_size(28, k, s, padding)
        assert int(formula) == int(sh) == int(sw) == int(kh) == int(kw) == expected, (
            layer, k, s, padding)
    assert {r[3] for r in rows} == {"valid", "same"}
    assert {r[0] for r in rows} == {"Conv2D", "MaxPool2D"}
    assert any(r[2] not in ("1", "None") for r in rows)  # strides > 1 are covered
    assert "the formula matches Keras in 13 of 13 cases" in text


def test_strides_live_explorer_pools_twice_then_convolves(strides):
    assert "sizes: 28 → 14 → 7 → 5" in printed(strides, "lw:live")
    assert shows_widget(cell(strides, "lw:live"))


def test_strides_kernel_9_after_two_poolings_is_refused_with_the_fix(strides):
    text = printed(strides, "lw:impossible")
    assert "formula for k=9 on 7 pixels, valid: -1" in text
    assert ("LayerSpecError: Conv2D (layer 3).kernel_size=9 is larger than its 7×7 input with "
            "padding='valid'; use padding='same' or a kernel_size of at most 7.") in text
    assert "the explorer still runs: 28 → 14 → 7 → 5" in text
    fixes = printed(strides, "lw:fixes")
    assert "{'padding': 'same'}    sizes: 28 → 14 → 7 → 7" in fixes
    assert "{'kernel_size': 7}     sizes: 28 → 14 → 7 → 1" in fixes


# ---- pooling_and_activations.ipynb ----

def test_pooling_max_and_average_match_numpy(pooling):
    text = printed(pooling, "lw:pool-compare")
    assert "shapes: (1, 28, 28, 3) → (1, 14, 14, 3) and (1, 14, 14, 3)" in text
    assert "MaxPool2D = max of each block:  True" in text
    assert "AvgPool2D = mean of each block: True" in text
    assert "max-pooled ≥ avg-pooled everywhere: True" in text
    before_max = number(r"max:  before ([\d.]+)", text)
    assert number(r"max-pooled ([\d.]+), avg", text) == before_max
    assert number(r"max: .*avg-pooled ([\d.]+)", text) < before_max
    before_mean = number(r"mean: before ([\d.]+)", text)
    assert abs(number(r"mean: .*avg-pooled ([\d.]+)", text) - before_mean) <= 0.01
    assert number(r"mean: .*max-pooled ([\d.]+)", text) > before_mean
    assert shows_widget(cell(pooling, "lw:pool-explorer"))


def relu_counts(pooling):
    text = printed(pooling, "lw:relu-counts")
    counts = {}
    for key, label in (("n", "values per stage"), ("negative", "negative before ReLU"),
                       ("zero", "already 0 before ReLU"), ("zero_after", "0 after ReLU")):
        match = re.search(rf"^{label}:\s+(\d+)(?: \(([\d.]+)%\))?", text, re.M)
        assert match, label
        counts[key] = (int(match.group(1)), match.group(2))
    return text, counts


def test_pooling_relu_zero_fraction_is_printed_consistently(pooling):
    text, counts = relu_counts(pooling)
    n = counts["n"][0]
    assert n == 28 * 28 * 3
    for key in ("negative", "zero", "zero_after"):
        count, percent = counts[key]
        assert percent == f"{100 * count / n:.1f}", key
    # ReLU zeroes exactly the negatives; the zeros it finds stay zeros.
    assert counts["zero_after"][0] == counts["negative"][0] + counts["zero"][0]
    assert counts["negative"][0] > 0
    assert number(r"after ReLU:  min (-?[\d.]+)", text) == 0.0
    assert (number(r"before ReLU: .*max ([\d.]+)", text)
            == number(r"after ReLU: .*max ([\d.]+)", text))
    assert "ReLU equals np.maximum(z, 0): True" in text
    # The plain ReLU variant and activation='relu' report the same fraction of zeros.
    zero_after = counts["zero_after"][1]
    fields, activations = printed(pooling, "lw:relu-fields"), printed(pooling, "lw:activations")
    assert re.search(rf"^\{{\}}\s+min\s+0\.0 .*zeros\s+{zero_after}%", fields, re.M)
    assert re.search(rf"^relu .*zeros\s+{zero_after}%", activations, re.M)
    assert re.search(rf"^linear .*zeros\s+{counts['zero'][1]}%", activations, re.M)


def test_pooling_relu_fields_follow_the_keras_formula(pooling):
    text, _ = relu_counts(pooling)
    z_min = number(r"before ReLU: min (-?[\d.]+)", text)
    knobs = {line.split("}")[0] + "}": line for line in
             printed(pooling, "lw:relu-fields").splitlines() if line.startswith("{")}
    assert len(knobs) == 4
    assert all(line.endswith("formula: True") for line in knobs.values())
    assert number(r"max\s+([\d.]+)", knobs["{'max_value': 100.0}"]) == 100.0
    leaky_min = number(r"min\s+(-?[\d.]+)", knobs["{'negative_slope': 0.1}"])
    assert abs(leaky_min - 0.1 * z_min) <= 0.06
    zeros = {k: number(r"zeros\s+([\d.]+)%", v) for k, v in knobs.items()}
    assert zeros["{'threshold': 50.0}"] > zeros["{}"] > zeros["{'negative_slope': 0.1}"]
    assert shows_widget(cell(pooling, "lw:relu-explorer"))


def test_pooling_conv2d_activations_match_numpy(pooling):
    rows = {line.split()[0]: line for line in printed(pooling, "lw:activations").splitlines()}
    assert set(rows) == {"linear", "relu", "tanh", "sigmoid", "softplus", "elu"}
    assert all(line.endswith("= NumPy: True") for line in rows.values())
    ranges = {name: (number(r"min\s+(-?[\d.]+)", line), number(r"max\s+(-?[\d.]+)", line))
              for name, line in rows.items()}
    assert ranges["tanh"][0] >= -1 and ranges["tanh"][1] <= 1
    assert ranges["sigmoid"][0] >= 0 and ranges["sigmoid"][1] <= 1
    assert ranges["relu"][0] == 0 and ranges["relu"][1] == ranges["linear"][1]
    assert ranges["elu"][0] >= -1


def test_pooling_unit_pixels_keep_tanh_out_of_saturation(pooling):
    text = printed(pooling, "lw:saturation")
    raw = number(r"'raw'.* in ([\d.]+)% of", text)
    unit = number(r"'unit'.* in ([\d.]+)% of", text)
    assert raw > 50 and unit < 5
    assert "input max 255.0" in text and "input max   1.0" in text
    assert shows_widget(cell(pooling, "lw:saturation"))
