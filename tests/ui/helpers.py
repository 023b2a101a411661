"""Reading HTML responses the way a user does."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "option"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "option") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(response) -> str:
    """The visible text of an HTML response (no scripts, styles or select options), with
    whitespace collapsed: what a user reads."""
    return fragment_text(response.content.decode())


def element_html(response, testid: str) -> str:
    """The opening tag of the element with ``data-testid=testid`` up to the next such tag."""
    content = response.content.decode()
    match = re.search(rf'<[^>]*data-testid="{re.escape(testid)}"', content)
    assert match, f"no element with data-testid={testid!r}"
    return content[match.start() :]


def fragment_text(html: str) -> str:
    """``page_text`` for a piece of HTML."""
    parser = _TextExtractor()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
