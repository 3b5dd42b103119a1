"""Find the fenced code blocks of the documentation pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
OPENING_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)(?P<options>.*)$")


@dataclass(frozen=True)
class CodeBlock:
    page: Path
    line: int
    language: str
    options: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(DOCS)}:{self.line}"

    @property
    def executed(self) -> bool:
        """Whether markdown-exec runs the block when the site is built."""
        return re.search(r'\bexec="(on|1|true|yes)"', self.options) is not None


def code_blocks(language: str | None = None) -> list[CodeBlock]:
    """Every fenced block of every page, optionally of one language only."""
    blocks = []
    for page in sorted(DOCS.rglob("*.md")):
        lines = page.read_text().splitlines()
        index = 0
        while index < len(lines):
            opening = OPENING_FENCE.match(lines[index])
            if opening is None:
                index += 1
                continue
            indent = opening["indent"]
            body = []
            index += 1
            while lines[index].strip() != "```":
                body.append(lines[index].removeprefix(indent))
                index += 1
            block = CodeBlock(
                page=page,
                line=index - len(body),
                language=opening["lang"],
                options=opening["options"].strip(),
                code="\n".join(body) + "\n",
            )
            if language is None or block.language == language:
                blocks.append(block)
            index += 1
    return blocks
