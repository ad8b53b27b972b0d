"""Store notebooks clean: no outputs, no execution counts, no view state.

    python scripts/clean_notebooks.py                  # clean examples/*.ipynb in place
    python scripts/clean_notebooks.py --check          # change nothing; exit 1 if one is not clean
    python scripts/clean_notebooks.py some.ipynb ...   # or name the notebooks

The example notebooks are edited in JupyterLab, which saves what a session left behind along
with the cells: outputs (widget views that are dead without their kernel), execution counts,
the widget state, run timings, collapsed and scrolled flags, the running kernel's display name
and Python version. None of that is course material, and all of it makes noisy diffs, so run
this before committing. It keeps everything a teacher writes: sources, cell ids, tags (the test
suite finds the cells it checks by their "lw:..." tags), attachments, other metadata.

The file is written as JupyterLab writes it (nbformat's JSON layout: indent 1, sorted keys,
a final newline), so saving a clean notebook in JupyterLab without running it changes no byte,
and cleaning a clean notebook changes nothing. ``--check`` lists the notebooks this script
would change and exits 1; the test suite runs it on examples/.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Without a kernelspec JupyterLab asks which kernel to start; nbclient and the browser tests
# start "python3". JupyterLab saves the running kernel's own spec, whose display name varies
# with the ipykernel version ("Python 3 (ipykernel)"), so it is reset rather than kept.
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
# Of language_info only the name says something about the notebook; the rest (Python version,
# mimetype, lexer) describes the machine that last ran it.
LANGUAGE_INFO = {"name": "python"}

# Notebook metadata written by a session: the widget manager's state and VS Code's interpreter.
SESSION_NOTEBOOK_KEYS = ("widgets", "vscode")
# Cell metadata written by a session: view state and run timings (JupyterLab's "record
# timing" setting writes "execution"; the classic ExecuteTime extension "ExecuteTime").
SESSION_CELL_KEYS = ("collapsed", "scrolled", "execution", "ExecuteTime")


class NotebookFileError(ValueError):
    """A file given to the script is not a notebook nbformat can read and validate."""


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of `nb` with outputs, execution counts and session metadata removed.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A version 4 notebook, as ``nbformat.reads(text, as_version=4)`` returns it.

    Returns
    -------
    nbformat.NotebookNode
        The cleaned copy; `nb` itself is not changed. Sources, cell ids, tags, attachments and
        any metadata not listed in this module are kept.
    """
    nb = copy.deepcopy(nb)
    for key in SESSION_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata["kernelspec"] = nbformat.from_dict(KERNELSPEC)
    nb.metadata["language_info"] = nbformat.from_dict(LANGUAGE_INFO)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in SESSION_CELL_KEYS:
            cell.metadata.pop(key, None)
        # With the outputs gone, "outputs_hidden" hides nothing; "source_hidden" is the
        # teacher's choice and stays.
        view = cell.metadata.get("jupyter")
        if view is not None:
            view.pop("outputs_hidden", None)
            if not view:
                del cell.metadata["jupyter"]
    return nb


def cleaned_text(text: str, origin: str = "<string>") -> str:
    """The clean form of a notebook file's contents, laid out as JupyterLab saves it.

    Parameters
    ----------
    text : str
        The contents of an ``.ipynb`` file.
    origin : str, optional
        What to call the file in error messages (default ``"<string>"``).

    Returns
    -------
    str
        nbformat's JSON of the cleaned notebook, ending in a newline. Equal to `text` exactly
        when the notebook was already clean.

    Raises
    ------
    NotebookFileError
        When `text` is not JSON or not a valid version 4 notebook.
    """
    errors: dict = {}
    try:
        nb = nbformat.reads(text, as_version=4, capture_validation_error=errors)
    except Exception as err:  # nbformat raises several types for unreadable files
        raise NotebookFileError(
            f"{origin} is not a notebook nbformat can read ({err}); "
            "open it in JupyterLab and save it, or restore it from git") from err
    if "ValidationError" in errors:
        raise NotebookFileError(
            f"{origin} is not a valid notebook ({errors['ValidationError'].message}); "
            "open it in JupyterLab and save it, or restore it from git")
    out = nbformat.writes(clean(nb))
    return out if out.endswith("\n") else out + "\n"


def main(argv: list[str] | None = None) -> int:
    """Clean the notebooks named on the command line (default: examples/*.ipynb).

    Returns 0 when every notebook is (now) clean, 1 with ``--check`` when some are not, 2 when
    a file is not a readable notebook.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="notebooks to clean (default: every .ipynb in examples/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list the notebooks that are not clean and exit 1")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(EXAMPLES.glob("*.ipynb"))

    unclean, unreadable = [], []
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8")
            clean_text = cleaned_text(text, origin=str(path))
        except (OSError, UnicodeDecodeError, NotebookFileError) as err:
            print(f"error: {err}", file=sys.stderr)
            unreadable.append(path)
            continue
        if clean_text == text:
            continue
        unclean.append(path)
        if not args.check:
            path.write_text(clean_text, encoding="utf-8", newline="\n")
            print(f"cleaned {path}")

    if unreadable:
        return 2
    if args.check and unclean:
        print("not clean (outputs, execution counts, session metadata or layout):")
        for path in unclean:
            print(f"  {path}")
        print("run: python scripts/clean_notebooks.py " + " ".join(map(str, unclean)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
