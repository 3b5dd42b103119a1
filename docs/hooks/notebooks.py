"""A Jupyter notebook for every theory page and guide, generated from its Markdown.

Registered in `mkdocs.yml` under `hooks:`. For each page under `theory/` and
`guides/` the build

- writes `<page>.ipynb` next to the page's `index.html` (nbformat 4), made by
  jupytext from the page's own Markdown: the prose becomes Markdown cells, the
  snippets the site executes (`exec="on"`) become code cells, every other code
  block stays Markdown (shell commands are shown, not run);
- puts a "Download this page as a notebook" link and an "Open in Colab" link under
  the page's title. Colab opens the copy committed under `notebooks/`, which
  `python docs/hooks/notebooks.py` regenerates (tests/test_notebooks.py fails when
  it is out of date).

The first cell installs keras-nin when it cannot be imported (Colab, a bare
Jupyter); in a checkout it does nothing.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"
SECTIONS = ("theory/", "guides/")
REPOSITORY = "keras-nin/keras-nin"
SITE_URL = "https://keras-nin.github.io/keras-nin/"
COLAB = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/"

INSTALL_CELL = """\
# Installs keras-nin (with TensorFlow) when it is not importable, e.g. on Colab.
# In a checkout of keras-nin, or where it is installed, this cell does nothing.
try:
    import keras_nin  # noqa: F401
except ImportError:
    %pip install --quiet "keras-nin[tensorflow]"
"""

# Code fences, admonitions (!!! / ??? / ???+) and content tabs (=== "Title").
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)(?P<options>.*)$")
BLOCK_HEADER = re.compile(
    r'^(?P<indent>\s*)(?:(?:!!!|\?\?\?\+?)\s+(?P<kind>[\w-]+)|===)(?:\s+"(?P<title>[^"]*)")?\s*$'
)
SNIPPET = re.compile(r'^(?P<indent>\s*)--8<--\s+"(?P<path>[^"]+)"\s*$')
# Relative Markdown links and images: [text](target) where target is not a URL.
LINK = re.compile(r"(\]\()(?![a-z]+:|#|/)(?P<target>[^)\s]+)(\))")


def is_notebook_page(src_uri: str) -> bool:
    """Whether the page (path relative to docs/) gets a notebook."""
    return src_uri.startswith(SECTIONS) and src_uri.endswith(".md")


def notebook_pages() -> list[str]:
    """Every page that gets a notebook, as paths relative to docs/."""
    return sorted(
        path.relative_to(DOCS).as_posix()
        for section in SECTIONS
        for path in (DOCS / section).glob("*.md")
    )


def notebook_name(src_uri: str) -> str:
    """`theory/cost.md` -> `theory/cost.ipynb` (under notebooks/ and in Colab)."""
    return src_uri.removesuffix(".md") + ".ipynb"


def page_url(src_uri: str, site_url: str = SITE_URL) -> str:
    """The page's published address (directory URLs)."""
    path = src_uri.removesuffix(".md")
    path = "" if path == "index" else path.removesuffix("/index") + "/"
    return site_url.rstrip("/") + "/" + path


def _absolute(target: str, src_uri: str, site_url: str) -> str:
    """A page-relative link as an absolute address of the published site."""
    path, _, anchor = target.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(src_uri), path))
    url = (
        page_url(resolved, site_url)
        if resolved.endswith(".md")
        else (site_url.rstrip("/") + "/" + resolved)
    )
    return url + ("#" + anchor if anchor else "")


def _html_cell(code: str) -> str:
    """A snippet whose printed output the site shows as HTML (an SVG figure)."""
    return (
        "# On the site this cell's printed output is drawn as a figure; here too.\n"
        "import contextlib\nimport io\n\nfrom IPython.display import HTML, display\n\n"
        "_printed = io.StringIO()\nwith contextlib.redirect_stdout(_printed):\n"
        + textwrap.indent(code, "    ")
        + "display(HTML(_printed.getvalue()))\n"
    )


def _plain_markdown(markdown: str, src_uri: str, site_url: str) -> str:
    """The page in jupytext's Markdown notebook format.

    Admonitions and tabs become a bold title and their body (dedented, so that
    a solution's code is a code cell too); executed Python blocks become code
    cells; other code blocks are wrapped in `<!-- #region -->` so that they stay
    Markdown; explorable figures become a link to the page.
    """
    lines = markdown.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        header = BLOCK_HEADER.match(line)
        snippet = SNIPPET.match(line)
        fence = FENCE.match(line)
        if header:
            title = header["title"] or (header["kind"] or "").capitalize()
            out += [f"**{title}**", ""]
            # The body: the following blank or more-indented lines, dedented.
            indent = len(header["indent"]) + 4
            body = []
            index += 1
            while index < len(lines) and (
                not lines[index].strip() or lines[index].startswith(" " * indent)
            ):
                body.append(lines[index][indent:])
                index += 1
            lines[index:index] = body  # processed again: it may hold fences
            continue
        if snippet:
            included = (ROOT / snippet["path"]).read_text().splitlines()
            lines[index : index + 1] = included
            continue
        if fence:
            body = []
            index += 1
            while lines[index].strip() != "```":
                body.append(lines[index].removeprefix(fence["indent"]))
                index += 1
            index += 1
            code = "\n".join(body) + "\n"
            executed = re.search(r'\bexec="(on|1|true|yes)"', fence["options"])
            if fence["lang"] == "python" and executed:
                if re.search(r'\bhtml="(on|1|true|yes)"', fence["options"]):
                    code = _html_cell(code)
                out += ["```python", *code.rstrip("\n").splitlines(), "```"]
            else:
                out += ["<!-- #region -->", f"```{fence['lang']}", *body, "```"]
                out += ["<!-- #endregion -->"]
            continue
        if line.lstrip().startswith('<figure class="nin-explorable"'):
            # The figure needs the page's scripts: its plain-text fallback and
            # a link to the page stand in for it.
            words = ""
            while "</figure>" not in lines[index]:
                found = re.search(r"<noscript><p>(.*?)</p></noscript>", lines[index])
                words = found[1] if found else words
                index += 1
            index += 1
            words = html.unescape(re.sub(r"<[^>]+>", "", words)).strip()
            words = words.removeprefix("This figure needs JavaScript.").strip()
            out.append(
                "**Explorable figure**: try it on "
                f"[the page on the site]({page_url(src_uri, site_url)}). {words}"
            )
            continue
        if re.match(r"\s*<script\b.*</script>\s*$", line):
            index += 1
            continue
        out.append(
            LINK.sub(
                lambda m: m[1] + _absolute(m["target"], src_uri, site_url) + m[3], line
            )
        )
        index += 1
    return "\n".join(out) + "\n"


def to_notebook(
    markdown: str, src_uri: str, site_url: str = SITE_URL
) -> nbformat.NotebookNode:
    """The notebook of one page (nbformat 4), from its Markdown source."""
    notebook = jupytext.reads(_plain_markdown(markdown, src_uri, site_url), fmt="md")
    url = page_url(src_uri, site_url)
    source = (
        f"*Generated from [{url}]({url}) of the keras-nin documentation. "
        "Run the cells from the top.*"
    )
    notebook.cells[:0] = [
        nbformat.v4.new_code_cell(INSTALL_CELL.rstrip("\n")),
        nbformat.v4.new_markdown_cell(source),
    ]
    notebook.metadata = nbformat.from_dict(
        {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        }
    )
    # Stable ids, so that the committed copies change only with the pages.
    slug = re.sub(r"\W+", "-", src_uri.removesuffix(".md"))
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{slug}-{number}"
        cell.metadata = nbformat.from_dict({})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    nbformat.validate(notebook)
    return notebook


def notebook_text(src_uri: str, site_url: str = SITE_URL) -> str:
    """The notebook of a page of docs/, as the text of an .ipynb file."""
    notebook = to_notebook((DOCS / src_uri).read_text(), src_uri, site_url)
    return nbformat.writes(notebook) + "\n"


# ---------------------------------------------------------------------------
# MkDocs hooks.
# ---------------------------------------------------------------------------


def on_page_content(html_content, page, config, files):
    """The two links under the page's title."""
    src_uri = page.file.src_uri
    if not is_notebook_page(src_uri):
        return html_content
    filename = posixpath.basename(notebook_name(src_uri))
    links = (
        '<p class="nin-notebook-links">'
        f'<a href="{filename}" download>Download this page as a notebook</a>'
        " · "
        f'<a href="{COLAB}{notebook_name(src_uri)}">Open in Colab</a>'
        "</p>"
    )
    end = html_content.find("</h1>")
    if end < 0:
        return links + html_content
    end += len("</h1>")
    return html_content[:end] + links + html_content[end:]


def on_post_build(config):
    """Write each page's notebook next to its index.html."""
    site_dir = Path(config["site_dir"])
    for src_uri in notebook_pages():
        name = posixpath.basename(notebook_name(src_uri))
        dest = site_dir / src_uri.removesuffix(".md") / name
        if not config["use_directory_urls"]:
            dest = site_dir / posixpath.dirname(src_uri) / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(notebook_text(src_uri))


if __name__ == "__main__":
    # python docs/hooks/notebooks.py: refresh the copies under notebooks/.
    for src_uri in notebook_pages():
        target = NOTEBOOKS / notebook_name(src_uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notebook_text(src_uri))
        print(target.relative_to(ROOT), file=sys.stderr)
