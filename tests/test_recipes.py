"""Every recipe notebook runs from top to bottom (its own asserts included).

Slow tier: each notebook runs in its own Jupyter kernel, which imports
TensorFlow and trains for real (tune_a_network_on_digits alone takes 30-45 s
on 2 cores). What the recipes use is tested piece by piece in the default tier.
"""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = pytest.mark.slow

RECIPES = sorted((Path(__file__).parents[1] / "recipes").glob("*.ipynb"))


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_executes(path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.strip(), "the recipe printed nothing"
