"""Student text made safe for each medium a report is written in: one function per medium.

Student text is whatever the student controls: what their code printed, the type names and
messages of the exceptions it raised (which the grader quotes in check messages and notes),
file and folder names (the submission, a notebook's cells, a class folder's students), the
names of the functions and modules it defined or imported. Every writer in `grader/report/`
passes such text through the function for its medium, never an ad-hoc replace:

- `plain_text`: terminals, JUnit XML, results.json. No control character survives but newline
  and tab: ESC (terminal escape sequences), carriage return (which overwrites a line), the C1
  controls (`\\x9b` is a one-byte CSI), DEL, and the Unicode format characters that reorder or
  hide text (bidi overrides such as U+202E, zero-width marks), and lone surrogates (which no
  file can encode). Each is shown as its escape (`\\x1b`, `\\u202e`), so the reader sees that
  it was there. `\\r\\n` and a lone `\\r` are line ends. `plain_line` is the same for a name
  shown on one line (a title, a table cell): its line ends are shown as escapes too.
- `xml_text`: `plain_text`, then without the two characters XML 1.0 cannot hold beyond those
  (U+FFFE, U+FFFF), so that the document is well-formed whatever the student raised.
- `code_span` and `fenced_block`: Markdown. Student text is shown as code, so it can never
  become a heading, a score line, a table row, an HTML comment or a link of ours: a code span
  (one line) or a fenced block delimited by more backticks than the text's longest run of them.
- `csv_cell`: a text cell that a spreadsheet would evaluate as a formula (it starts with `=`,
  `+`, `-`, `@`, a tab or a carriage return, or their full-width forms) gets a leading `'`.
  Numbers the grader writes itself are not text cells and are never prefixed; a student named
  `-1` is text, and is.
- `url_path`: one path segment of a relative link (a student's folder in summary.html),
  percent-encoded, so that no name can become a scheme (`javascript:`), a query, a fragment or
  a second segment.

HTML is escaped by Jinja2's autoescaping (grader/report/html.py); its links use `url_path`.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Unicode format characters that change how the text around them is displayed.
_INVISIBLE_FORMATTING = {
    "\u061c",  # Arabic letter mark
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width space, (non-)joiner, LRM, RLM
    "\u2028", "\u2029",  # line and paragraph separators
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\ufeff",  # zero-width no-break space (BOM)
}
_NOT_XML = re.compile("[\ufffe\uffff]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


# The unsafe characters, as one regular expression: Unicode's control characters (category Cc,
# U+0000-U+001F and U+007F-U+009F) but newline and tab, the surrogates (Cs, U+D800-U+DFFF) and
# _INVISIBLE_FORMATTING. One pass in C over a page of student code, not a call per character
# (tests/test_output_escaping.py checks it against unicodedata's categories).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(_INVISIBLE_FORMATTING)) + "]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain_text(text: str) -> str:
    """`text` with line ends made `\\n` and every other control or bidi character shown as its escape."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(lambda match: _escape(match.group()), text)


def plain_line(text: str) -> str:
    """`plain_text(text)` on one line: a name (a file, a student) whose line ends and tabs are shown as escapes."""
    return plain_text(text).replace("\n", "\\n").replace("\t", "\\t")


def xml_text(text: str) -> str:
    """`plain_text(text)` that XML 1.0 can hold: U+FFFE and U+FFFF shown as escapes too."""
    return _NOT_XML.sub(lambda match: _escape(match.group()), plain_text(text))


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


def code_span(text: str) -> str:
    """`text` as one Markdown code span, on one line (a line end is shown as ␤)."""
    text = plain_text(text).replace("\n", "␤")
    ticks = "`" * (_longest_backtick_run(text) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or text.strip(" ") == "" else text
    return f"{ticks}{padded}{ticks}"


def fenced_block(text: str, indent: str = "") -> list[str]:
    """The lines of a Markdown fenced code block holding `text`, each prefixed by `indent` (the
    content column of the list item it belongs to, if any): the fence is longer than any run of
    backticks in `text`, so no line of `text` can close it."""
    text = plain_text(text)
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return [f"{indent}{fence}text", *(f"{indent}{line}" for line in text.split("\n")), f"{indent}{fence}"]


def csv_cell(text: str) -> str:
    """A CSV text cell that no spreadsheet evaluates (prefixed with `'` when it starts like a
    formula) and no terminal obeys (`plain_text`: no control character but newline and tab)."""
    text = plain_text(str(text))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def url_path(segment: str) -> str:
    """`segment` as one relative path segment of a URL (`./` first, every reserved character encoded)."""
    return "./" + quote(str(segment), safe="")
