"""Every ```python block in docs/*.md runs (issue 13).

The blocks of one page run in order, in one namespace, in one fresh Python
process started in a temporary directory: as a reader pastes them into one
session. (A fresh process, because some pages must set the machine up before
TensorFlow starts, as a reader would, e.g. split the CPU into logical
devices.) A block is only compiled when it needs what this machine lacks: a
``# needs: ...`` comment in its first lines (``# needs: gpu``, ``# needs: tpu``,
``# needs: several hosts``, ...), or an ``<!-- needs: ... -->`` line right
before its fence (invisible in the site). ``needs: jax`` or ``needs:
tensorflow`` runs when that is the Keras backend. A page whose text holds
``<!-- test: slow -->`` runs in the slow tier.

A page logs no ``tf.function retracing`` warning: kerasbig's fits are meant
not to retrace. TensorFlow counts the first trace of every new model's step
against one key (the code of Keras's step function) and warns when 5 of the
last 10 calls traced, so a page that builds several models side by side on
purpose says so: ``<!-- test: retracing allowed: why -->``.

TensorFlow's start-up lines are not checked here: a page that imports keras
before kerasbig gets them, as a user's script would; tests/test_cli.py checks
the commands that promise a quiet start.

``python tests/test_docs_examples.py docs/PAGE.md`` runs one page as the test
does; tracebacks name the page and its line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<code>.*?)^(?P=indent)```", re.M | re.S
)
NEEDS = re.compile(r"^#\s*needs:\s*(.+)$", re.M)
NEEDS_BEFORE = re.compile(r"<!--\s*needs:\s*(.+?)\s*-->\s*$")
SLOW = "<!-- test: slow -->"
RETRACING_ALLOWED = "<!-- test: retracing allowed"  # then ": why -->"


@dataclass
class Block:
    page: Path
    line: int  # of the block's first line of code in the page
    code: str  # dedented
    needs: str | None

    def runs_on(self, backend: str) -> bool:
        return self.needs is None or self.needs.strip() == backend


def blocks(page: Path) -> list[Block]:
    """The page's python blocks, in order."""
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        code = textwrap.dedent(match.group("code"))
        needs = NEEDS.search("\n".join(code.splitlines()[:3]))
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        needs = needs or NEEDS_BEFORE.search(before)
        line = text.count("\n", 0, match.start("code")) + 1
        found.append(Block(page, line, code, needs and needs.group(1)))
    return found


def run_page(page: Path) -> None:
    """Run the page's blocks in this process (the test's subprocess)."""
    # A fresh __main__ module, as a pasted script has: functions the page
    # defines can then be found by name (pickle, est.save).
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    namespace = main.__dict__
    backend = None
    for block in blocks(page):
        # Padded so that tracebacks give the page's own line numbers.
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        if block.needs is not None and backend is None:
            import keras  # only now: the page's own imports come first

            backend = keras.backend.backend()
        if block.runs_on(backend):
            exec(code, namespace)


def _pages():
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        if FENCE.search(text):
            marks = [pytest.mark.slow] if SLOW in text else []
            yield pytest.param(page, id=page.stem, marks=marks)


@pytest.mark.parametrize("page", list(_pages()))
def test_page_examples_run(page, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KERASBIG_TF_STARTUP_LOGS"}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run(
        [sys.executable, __file__, str(page)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    retraced = [line for line in done.stderr.splitlines() if "retracing" in line]
    assert not retraced or RETRACING_ALLOWED in page.read_text(), retraced


@pytest.mark.slow
def test_the_site_builds_strict(tmp_path):
    """``mkdocs build --strict``: broken links, missing pages or API names fail."""
    for module in (
        "mkdocs",
        "material",
        "mkdocstrings_handlers.python",
        "mkdocs_jupyter",
    ):
        pytest.importorskip(module, reason='the docs extra: pip install -e ".[docs]"')
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
        cwd=DOCS.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    assert (tmp_path / "api" / "estimators" / "index.html").exists()


def test_every_block_at_least_compiles():
    failures, compiled = [], 0
    for page in sorted(DOCS.glob("*.md")):
        for block in blocks(page):
            try:
                compile(block.code, f"{page.name}:{block.line}", "exec")
                compiled += 1
            except SyntaxError as error:
                failures.append(f"{page.name}:{block.line}: {error}")
    assert failures == []
    assert compiled > 0  # the extractor found the pages' blocks


def test_the_extractor_reads_needs_indentation_and_lines(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "text\n```python\nx = 1\n```\n\n```python\n# needs: gpu\nrun_on_gpu()\n```\n"
        "1. a list item:\n\n   ```python\n   y = 2\n   ```\n"
        "<!-- needs: several hosts -->\n```python\njoin()\n```\n"
    )
    first, second, third, fourth = blocks(page)
    assert (first.line, first.needs, first.runs_on("tensorflow")) == (3, None, True)
    assert (second.line, second.needs, second.runs_on("tensorflow")) == (
        7,
        "gpu",
        False,
    )
    assert (third.line, third.code) == (13, "y = 2\n")
    assert fourth.needs == "several hosts" and not fourth.runs_on("jax")
    assert Block(page, 1, "", "jax").runs_on("jax")


def test_a_failing_block_names_the_page_and_line(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# A page\n\n```python\nx = 1\n\nraise RuntimeError(x)\n```\n")
    with pytest.raises(RuntimeError) as error:
        run_page(page)
    frame = error.traceback[-1]
    assert (Path(frame.path), frame.lineno + 1) == (page, 6)


if __name__ == "__main__":
    run_page(Path(sys.argv[1]).resolve())
