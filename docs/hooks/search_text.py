"""Search results show readable text: the TeX of each formula becomes plain text.

MkDocs' search index holds each page's text with the formulas as their TeX
source (`\\(32 \\cdot F + F\\)`), which the search dropdown would show as is.
After the build, every formula of `search/search_index.json` is rewritten as
the text a reader would read aloud: `32 · F + F`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SYMBOLS = {
    r"\cdot": "·",
    r"\times": "×",
    r"\dots": "…",
    r"\ldots": "…",
    r"\cdots": "…",
    r"\sum": "Σ",
    r"\in": "∈",
    r"\le": "≤",
    r"\leq": "≤",
    r"\ge": "≥",
    r"\geq": "≥",
    r"\ne": "≠",
    r"\approx": "≈",
    r"\to": "→",
    r"\rightarrow": "→",
    r"\infty": "∞",
    r"\sigma": "σ",
    r"\alpha": "α",
    r"\lambda": "λ",
    r"\max": "max",
    r"\min": "min",
}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ"}
MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
# A brace group without nested braces: applied repeatedly, innermost first.
GROUP = r"\{([^{}]*)\}"


def tex_to_text(tex: str) -> str:
    """Plain text for the TeX of one formula."""
    text = tex.replace("{,}", ",")
    text = re.sub(r"\\(begin|end)\{[a-z*]+\}", " ", text)
    for _ in range(6):  # nested groups, innermost first
        previous = text
        text = re.sub(r"\\mathbb" + GROUP, lambda m: BLACKBOARD.get(m[1], m[1]), text)
        text = re.sub(r"\\[dt]?frac" + GROUP + GROUP, r"(\1)/(\2)", text)
        text = re.sub(r"\\(?:underbrace|overbrace)" + GROUP + r"_" + GROUP, r"\1", text)
        text = re.sub(
            r"\\(?:text|operatorname|mathrm|mathbf|mathit|textbf|boldsymbol)" + GROUP,
            r"\1",
            text,
        )
        text = re.sub(r"_" + GROUP, r"<sub>\1</sub>", text)
        text = re.sub(r"\^" + GROUP, r"<sup>\1</sup>", text)
        text = re.sub(GROUP, r"\1", text)
        if text == previous:
            break
    text = re.sub(r"_([A-Za-z0-9])", r"<sub>\1</sub>", text)
    text = re.sub(r"\^([A-Za-z0-9])", r"<sup>\1</sup>", text)
    text = re.sub(r"\((\w+)\)/\(([\w ]+)\)", r"\1/(\2)", text)
    text = re.sub(r"\(([\w ]+)\)/\((\w+)\)", r"(\1)/\2", text)
    text = re.sub(r"\\(left|right|[Bb]ig{1,2}[lr]?)\b\s*", "", text)
    text = text.replace("\\\\", " ").replace("&", " ")
    text = re.sub(r"\\[,;:! ]|\\q?quad\b", " ", text)
    text = re.sub(r"\\[A-Za-z]+", lambda m: SYMBOLS.get(m[0], m[0][1:]), text)
    return re.sub(r"\s+", " ", text).strip()


CODE = re.compile(r"(<pre>.*?</pre>|<code>.*?</code>)", re.DOTALL)


def readable(text: str) -> str:
    """The text with each formula outside code as plain text."""
    parts = CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts lie outside code
        parts[i] = MATH.sub(
            lambda m: tex_to_text(m[1] if m[1] is not None else m[2]), parts[i]
        )
    return "".join(parts)


def on_post_build(config, **kwargs) -> None:
    index_file = Path(config["site_dir"]) / "search" / "search_index.json"
    if not index_file.is_file():
        return
    index = json.loads(index_file.read_text(encoding="utf-8"))
    for doc in index["docs"]:
        doc["title"] = readable(doc["title"])
        doc["text"] = readable(doc["text"])
    index_file.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
