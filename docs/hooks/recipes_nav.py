"""MkDocs hook: the recipes in recipes/, listed in the nav and on recipes.md.

``docs/recipes`` is a link to the repository's ``recipes/`` folder, whose
notebooks mkdocs-jupyter renders (without running them). The nav's "Recipes"
section in ``mkdocs.yml`` names only its overview page; this hook appends one
entry per notebook found, titled with the notebook's first ``# `` heading,
and writes the same list, as links, where the overview page says
``<!-- recipe list -->``. A recipe added or renamed needs no edit here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SECTION = "Recipes"
OVERVIEW = "recipes.md"
PLACEHOLDER = "<!-- recipe list -->"


def notebook_title(path: Path) -> str:
    """The first level-1 Markdown heading of a notebook, less a leading
    "Recipe:", else its file name."""
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for line in text.splitlines():
            if line.startswith("# "):
                title = re.sub(r"^Recipe:\s*", "", line[2:].strip())
                return title[:1].upper() + title[1:]
    return path.stem.replace("_", " ")


def notebooks(docs_dir: str) -> list[tuple[str, str]]:
    """(title, path relative to docs/) of each notebook, in file-name order."""
    folder = Path(docs_dir) / "recipes"
    return [
        (notebook_title(path), f"recipes/{path.name}")
        for path in sorted(folder.glob("*.ipynb"))
    ]


def on_config(config, **kwargs):
    entries = [{title: path} for title, path in notebooks(config["docs_dir"])]
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and SECTION in entry:
            pages = entry[SECTION]
            entry[SECTION] = [*(pages if isinstance(pages, list) else [pages])]
            entry[SECTION].extend(entries)
    return config


def on_page_markdown(markdown, page, config, files, **kwargs):
    if page.file.src_uri != OVERVIEW:
        return markdown
    built = {file.src_uri for file in files}  # the notebooks this build renders
    links = [
        f"- [{title}]({path})"
        for title, path in notebooks(config["docs_dir"])
        if path in built
    ]
    return markdown.replace(PLACEHOLDER, "\n".join(links))
