"""Text people typed (or that came from file names) inside Markdown: shown literally, never as markup.

One function for every Markdown writer in the product (the app's `app.theme.md`, the plan's Markdown in
`analyzer.plan.render`): a session title such as `![x](host/p.png)` must not become an image the browser fetches,
nor a bare URL a link.
"""
from __future__ import annotations

import re

#: Characters that start Markdown markup: links and images, emphasis, code, HTML and autolinks, headings, tables,
#: strike-through, maths, Streamlit's :color[...] / :material/...: directives.
MD_ACTIVE = frozenset("\\`*_{}[]()<>#!|~$:=^+")
WORD_JOINER = "\u2060"
#: What GFM turns into links even in plain text (it matches them in the parsed text, after escapes are removed):
#: URL schemes, "www.", e-mail addresses. An invisible word joiner breaks each of them.
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=ftp)(?=:)|(?<=mailto)(?=:)|(?<=xmpp)(?=:)"
                       r"|(?<=www)(?=\.)|(?<=@)")


def markdown_literal(s) -> str:
    """s for a Markdown document: every markup character backslash-escaped, autolink triggers broken by an
    invisible word joiner, line breaks made spaces (no headings, lists or code blocks from a second line)."""
    text = _AUTOLINK.sub(WORD_JOINER, " ".join(str(s).splitlines()))
    return "".join("\\" + c if c in MD_ACTIVE else c for c in text)
