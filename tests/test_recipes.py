"""The recipe notebooks in recipes/: stored clean, and each runs top to bottom.

Default tier (reads the JSON only): every stored notebook is free of error
outputs, stderr outputs, TensorFlow log lines, ``\\r`` progress bars and
machine-specific absolute paths.

Slow tier: each notebook runs in its own Jupyter kernel with
``KERASBIG_QUICK=1`` in the kernel's environment (the recipes lower epochs and
data sizes with it; 30-90 s each on 2 cores), its own asserts included, and
must print no error and no TensorFlow noise beyond ``KNOWN_NOISE``.

To re-execute the notebooks and store their outputs (quick setting), run
``python tests/test_recipes.py [NAME ...]`` from the repository root.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

RECIPES_DIR = Path(__file__).resolve().parents[1] / "recipes"
RECIPES = sorted(RECIPES_DIR.glob("*.ipynb"))

# Lines TensorFlow writes while the recipes run that kerasbig does not silence
# yet. Each is matched alone on its line, may appear when the notebooks run
# (stripped from the stored copies by ``store``), and fails nothing; anything
# else that looks like TensorFlow/absl logging fails the slow test.
KNOWN_NOISE = re.compile(
    # TF's oneDNN kernels on a CPU without AVX-512, once per process and dtype,
    # at the first bool/int64 op (masking, padding masks).
    r"[IWE]\d{4} [\d:. ]+\d+ util\.cc:\d+\] oneDNN supports DT_\w+ only on "
    r"platforms with AVX-512\..*"
    # tf.saved_model.save logs at INFO, which TensorFlow shows in interactive
    # sessions (IPython): printed by est.export(format="tf_saved_model").
    r"|INFO:tensorflow:Assets written to: .*"
    # tf.function's frequent-retracing detector counts traces by the traced
    # Python function's code object, so every new Keras model's first
    # train/predict call counts towards one shared tally (CV folds, searches).
    r"|WARNING:tensorflow:\d+ out of the last \d+ calls to <function "
    r".*triggered tf\.function retracing\..*"
    # tf.distribute logs at INFO whenever a MirroredStrategy is made or reduces
    # (distribution="data_parallel" on TensorFlow), shown in IPython as above.
    r"|INFO:tensorflow:Using MirroredStrategy with devices .*"
    r"|INFO:tensorflow:Reduce to .* then broadcast to .*"
    # tf.data's C++ logs when kerasbig feeds a MirroredStrategy from a generator.
    r"|I\d{4} [\d:. ]+\d+ generator_dataset_op\.cc:\d+\] Memory patch applied.*"
    r"|W\d{4} [\d:. ]+\d+ dataset\.cc:\d+\] Input of GeneratorDatasetOp::Dataset "
    r"will not be optimized.*"
    # est.export(format="litert"): the TFLite converter's C++ logs (the
    # SavedModel it reads back from a temporary folder, MLIR passes).
    r"|[IW]\d{4} [\d:. ]+\d+ (?:tf_tfl_flatbuffer_helpers|reader|loader"
    r"|mlir_graph_optimization_pass|dump_mlir_util)\.cc:\d+\] .*"
    # est.export(format="onnx") on TensorFlow: tf2onnx runs grappler.
    r"|I\d{4} [\d:. ]+\d+ (?:devices|single_machine)\.cc:\d+\] .*"
    # The LiteRT / tf.lite interpreter, when it runs a model.
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    # Dask's nanny, at LocalCluster.close(): it gives a worker process 4 s to
    # exit before killing it, and a process that has imported TensorFlow and
    # trained a few models takes ~1.5 s to tear down when idle, more when busy.
    r"|[\d-]+ [\d:,]+ - distributed\.nanny - WARNING - Worker process still "
    r"alive after [\d.]+ seconds, killing"
)

NOISE = re.compile(
    r"^(?:[IWEF]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]"  # absl/C++ log lines
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|(?:INFO|WARNING|ERROR|CRITICAL):(?:tensorflow|absl|jax|keras)\b)",
    re.MULTILINE,
)

# A path that names this machine: a home, temporary or install folder, or a
# Windows drive. The recipes print names relative to their working folders.
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.])(?:/(?:home|root|tmp|work|usr|var|opt|private|Users|mnt|srv)/"
    r"|[A-Za-z]:\\\\?[\w])"
)


def _ids(paths):
    return [p.stem for p in paths]


def _code_outputs(notebook):
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                yield index, output


def _texts(output) -> list[str]:
    """The text of an output a reader sees (streams, plain text, HTML, tracebacks)."""
    texts = []
    if "text" in output:
        texts.append(output["text"])
    data = output.get("data", {})
    for kind in ("text/plain", "text/html", "text/markdown"):
        if kind in data:
            value = data[kind]
            texts.append("".join(value) if isinstance(value, list) else value)
    texts.extend(output.get("traceback", []))
    return texts


def problems(notebook, *, stored: bool) -> list[str]:
    """What is wrong with a notebook's outputs.

    ``stored``: the copy kept in the repository, where even known noise and any
    stderr output are problems; otherwise, a fresh run, where stderr and
    ``KNOWN_NOISE`` lines are allowed.
    """
    found = []
    for index, output in _code_outputs(notebook):
        where = f"cell {index}"
        if output.output_type == "error":
            found.append(f"{where}: {output.ename}: {output.evalue}")
        if stored and output.output_type == "stream" and output.name == "stderr":
            found.append(f"{where}: stderr output: {output.text[:300]!r}")
        for text in _texts(output):
            if "\r" in text and output.output_type == "stream":
                found.append(f"{where}: a carriage return (progress bar?)")
            for line in text.splitlines():
                if NOISE.match(line) and (stored or not KNOWN_NOISE.fullmatch(line)):
                    found.append(f"{where}: TensorFlow noise: {line[:300]!r}")
            if stored and (match := ABSOLUTE_PATH.search(text)):
                start = max(match.start() - 60, 0)
                found.append(
                    f"{where}: an absolute path: {text[start : match.end() + 60]!r}"
                )
    return found


def execute(path: Path, timeout: int = 900, allow_errors: bool = False):
    """Run the notebook at ``path`` in a fresh kernel with ``KERASBIG_QUICK=1``
    (in its folder); return the executed notebook and the wall time.

    A failing cell raises ``nbclient.exceptions.CellExecutionError`` unless
    ``allow_errors`` (then the error is an output, and the next cells run)."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    saved = os.environ.get("KERASBIG_QUICK")
    os.environ["KERASBIG_QUICK"] = "1"  # the kernel inherits the environment
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        if saved is None:
            del os.environ["KERASBIG_QUICK"]
        else:
            os.environ["KERASBIG_QUICK"] = saved
    return notebook, time.perf_counter() - start


def strip_known_noise(notebook) -> None:
    """Remove ``KNOWN_NOISE`` lines from stream outputs (and streams left empty)."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream":
                lines = [
                    line
                    for line in output.text.splitlines(keepends=True)
                    if not KNOWN_NOISE.fullmatch(line.strip())
                ]
                if not "".join(lines).strip():
                    continue
                output.text = "".join(lines)
            kept.append(output)
        cell.outputs = kept


def _requirement_missing(path: Path) -> str | None:
    """Why a recipe cannot run here (data it needs is not installed), or None."""
    if "fortunes" in path.read_text(encoding="utf-8"):
        try:
            from kerasbig.datasets.fortunes import load_fortunes

            load_fortunes(["computers"])
        except FileNotFoundError as err:
            return str(err)
    return None


@pytest.mark.parametrize("path", RECIPES, ids=_ids(RECIPES))
def test_stored_notebook_is_clean(path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    found = problems(notebook, stored=True)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", RECIPES, ids=_ids(RECIPES))
def test_the_recipe_says_what_it_teaches(path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        "a recipe opens with a markdown cell whose first line is its '# ' title"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", RECIPES, ids=_ids(RECIPES))
def test_recipe_executes(path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    missing = _requirement_missing(path)
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI lacks the data for {path.name}: {missing}")
        pytest.skip(missing)
    notebook, _ = execute(path)
    found = problems(notebook, stored=False)
    assert not found, "\n".join(found)
    printed = "".join(
        output.get("text", "")
        for _, output in _code_outputs(notebook)
        if output.output_type == "stream"
    )
    assert printed.strip(), "the recipe printed nothing"


def store(names: list[str]) -> int:
    """Execute the named recipes (all without names) and store their outputs."""
    import nbformat

    paths = [p for p in RECIPES if not names or p.stem in names or p.name in names]
    failed = 0
    for path in paths:
        notebook, wall_s = execute(path, allow_errors=True)
        strip_known_noise(notebook)
        found = problems(notebook, stored=True)
        if found:
            failed += 1
            print(f"{path.name}: NOT stored ({wall_s:.0f} s):", *found, sep="\n  ")
            continue
        nbformat.write(notebook, path)
        print(f"{path.name}: stored ({wall_s:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(store(sys.argv[1:]))
