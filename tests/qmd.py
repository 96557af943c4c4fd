"""Run a Quarto document's Python the way Quarto's Jupyter engine does, without Quarto.

Cells (```{python} ... ```) and inline expressions (`{python} expr`) are executed in document
order in a fresh Jupyter kernel (nbclient), from the project root (``execute-dir: project``).
Used by tests/test_pages.py; also handy from the shell: ``python tests/qmd.py index.qmd``.
"""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = re.compile(r"^\{\{< include (\S+) >\}\}[ \t]*$", re.M)
CHUNK = re.compile(r"^```\{python\}[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
INLINE = re.compile(r"`\{python\}\s+([^`]+?)`")


@dataclass
class Piece:
    kind: str  # "cell" or "inline"
    source: str
    options: dict = field(default_factory=dict)


def expand_includes(text: str, base: Path) -> str:
    """Replace each ``{{< include FILE >}}`` line by FILE's text (relative to ``base``), as Quarto does."""
    return INCLUDE.sub(lambda m: expand_includes((base / m.group(1)).read_text(encoding="utf-8"),
                                                 (base / m.group(1)).parent), text)


def parse_qmd(text: str, base: Path | None = None) -> tuple[dict, list[Piece]]:
    """Front matter and the executable pieces of a .qmd, in document order (includes expanded)."""
    if base is not None:
        text = expand_includes(text, base)
    front = {}
    body = text
    if text.startswith("---\n"):
        end = text.index("\n---", 4)
        front = yaml.safe_load(text[4:end]) or {}
        body = text[end + 4:]
    pieces: list[Piece] = []
    pos = 0
    for m in CHUNK.finditer(body):
        pieces += [Piece("inline", e.strip()) for e in INLINE.findall(body[pos:m.start()])]
        src = m.group(1)
        opts = {}
        code = []
        for line in src.splitlines():
            if line.startswith("#|"):
                opts.update(yaml.safe_load(line[2:].strip()) or {})
            else:
                code.append(line)
        pieces.append(Piece("cell", "\n".join(code).strip("\n"), opts))
        pos = m.end()
    pieces += [Piece("inline", e.strip()) for e in INLINE.findall(body[pos:])]
    return front, pieces


@dataclass
class PageRun:
    path: Path
    front: dict
    pieces: list[Piece]
    outputs: list[list[dict]]  # one list of outputs per piece

    def images(self) -> list[tuple[Piece, bytes]]:
        out = []
        for piece, outs in zip(self.pieces, self.outputs, strict=True):
            for o in outs:
                if "image/png" in o.get("data", {}):
                    out.append((piece, base64.b64decode(o["data"]["image/png"])))
        return out

    def svgs(self) -> list[tuple[Piece, str]]:
        return [(piece, "".join(o["data"]["image/svg+xml"])) for piece, outs in zip(self.pieces, self.outputs,
                                                                                    strict=True)
                for o in outs if "image/svg+xml" in o.get("data", {})]

    def html(self) -> list[tuple[Piece, str]]:
        """Tables: ``text/html`` outputs and raw-HTML Markdown blocks (how the site shows tables)."""
        out = []
        for piece, outs in zip(self.pieces, self.outputs, strict=True):
            for o in outs:
                data = o.get("data", {})
                if "text/html" in data:
                    out.append((piece, "".join(data["text/html"])))
                elif "text/markdown" in data and "```{=html}" in "".join(data["text/markdown"]):
                    out.append((piece, "".join(data["text/markdown"])))
        return out

    def markdown(self) -> str:
        """Everything the page's cells print for Quarto to read as Markdown (``output: asis``)."""
        return "".join("".join(o.get("text", "")) for outs in self.outputs for o in outs
                       if o.get("output_type") == "stream" and o.get("name") == "stdout")

    def inline_values(self) -> list[str]:
        vals = []
        for piece, outs in zip(self.pieces, self.outputs, strict=True):
            if piece.kind == "inline":
                text = [o["data"].get("text/plain", "") for o in outs if o.get("output_type") == "execute_result"]
                vals.append("".join(text))
        return vals


def run_page(path, timeout: int = 600, root: Path | None = None) -> PageRun:
    """Execute every piece of ``path`` from the project folder ``root`` (default: this repository);
    raises nbclient's CellExecutionError on any error."""
    path = Path(path)
    front, pieces = parse_qmd(path.read_text(encoding="utf-8"), path.parent)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(p.source if p.kind == "cell" else f"str({p.source})") for p in pieces]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(root or ROOT)}}).execute()
    return PageRun(path, front, pieces, [c.get("outputs", []) for c in nb.cells])


def run_pages(paths, root: Path | None = None, timeout: int = 600) -> list[PageRun]:
    """Execute several pages one after another in one kernel (a fast smoke run: each page still
    sets its own names first, as every page here does); one :class:`PageRun` per page."""
    parsed = []
    for path in map(Path, paths):
        front, pieces = parse_qmd(path.read_text(encoding="utf-8"), path.parent)
        parsed.append((path, front, pieces))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(p.source if p.kind == "cell" else f"str({p.source})")
                for _, _, pieces in parsed for p in pieces]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(root or ROOT)}}).execute()
    outputs = [c.get("outputs", []) for c in nb.cells]
    runs, at = [], 0
    for path, front, pieces in parsed:
        runs.append(PageRun(path, front, pieces, outputs[at:at + len(pieces)]))
        at += len(pieces)
    return runs


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        run = run_page(arg)
        print(arg, "ok:", len(run.pieces), "pieces,", len(run.svgs()), "figures,", len(run.html()), "tables")
