"""The wheel carries the front end and the digits, and works without the source tree."""

import subprocess
import sys
import zipfile

import pytest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, request):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(request.config.rootpath)],
        check=True,
    )
    (path,) = out.glob("layerwidget-*.whl")
    return path


def test_wheel_contains_js_css_digits_and_attribution(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("layerwidget/static/widget.js", "layerwidget/static/widget.css",
                 "layerwidget/static/dom.js", "layerwidget/static/export.js",
                 "layerwidget/static/export.css", "layerwidget/export/__main__.py",
                 "layerwidget/data/mnist_sample.npz", "layerwidget/data/MNIST-LICENSE.md",
                 "layerwidget/__init__.py"):
        assert name in names
    assert not any(n.startswith(("tests/", "js/")) for n in names)


def test_installed_wheel_loads_its_own_front_end(wheel, tmp_path):
    # Unpacked on its own path, the package must find static/ next to panel.py and not js/.
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "import layerwidget, layerwidget.panel as p;"
        f"assert layerwidget.__file__.startswith({str(tmp_path)!r}), layerwidget.__file__;"
        "esm = p.ControlPanel._esm;"
        "assert 'export default' in esm and 'function h(' in esm;"
        "import layerwidget._assets as a;"
        "assert a.asset_path('export.js').parent.name == 'static';"
        "print(len(layerwidget.sample_digits()[0]))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                            env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1000"
