"""Python source as the similarity report compares it: a sequence of normalised tokens, each
with the lines it spans, read with the standard `tokenize` module (student code is never run,
imported or compiled).

What a token becomes (its *symbol*):

| token | symbol | why |
|---|---|---|
| keyword (`def`, `for`, `return`, `True`, `None`, ...) | itself | the structure of the code |
| name after a `.` (`np.einsum`, `x.T`, `.reshape`) | itself | an attribute or a library function: renaming one's variables does not change it |
| any other name (variables, functions, parameters, modules, builtins) | `ID` | renaming is the first disguise of a copy |
| number | `NUM` | `0.5` for `1e-3` changes nothing |
| string, f-string, bytes | `STR` | changing a message changes nothing |
| operator, bracket | itself | the structure of the code |
| NEWLINE, INDENT, DEDENT | `NEWLINE`, `INDENT`, `DEDENT` | where statements and blocks end |
| comment, NL (a blank line, a line break inside brackets), ENDMARKER | nothing | layout and comments are not code |
| a statement that is only a string (a docstring) | nothing | docstrings are comments too |
| what tokenize cannot classify (`$`, `?`, a lone quote) | itself | it is there in both copies |

Builtins (`len`, `range`) are names like any other: they can be rebound or aliased, and what a
copy shares with its source is mostly its own variables' structure anyway.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from dataclasses import dataclass

ID, NUM, STR = "ID", "NUM", "STR"
NEWLINE, INDENT, DEDENT = "NEWLINE", "INDENT", "DEDENT"
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER, tokenize.ENCODING}
_NAME, _OP, _NUMBER, _STRING, _ERRORTOKEN = tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING, tokenize.ERRORTOKEN
_NEWLINE, _INDENT, _DEDENT = tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT
_KEYWORDS = frozenset(keyword.kwlist)
# Python 3.12 splits f-strings into several tokens; 3.11 has none of these (one STRING token).
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


class TokenizeFailure(Exception):
    """The source cannot be read as Python tokens; the message says why in one line."""


class TooManyTokens(TokenizeFailure):
    """The source has more tokens than the limit it was read with; the message says so."""


@dataclass(frozen=True)
class CodeTokens:
    """The normalised tokens of some source: `symbols[i]` spans lines `first_lines[i]` to
    `last_lines[i]` (1-based, of the text tokenised, plus the offset it was given)."""

    symbols: tuple[str, ...]
    first_lines: tuple[int, ...]
    last_lines: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.symbols)


def normalised_tokens(source: str, line_offset: int = 0, max_tokens: int | None = None) -> CodeTokens:
    """The normalised tokens of `source` (see the module docstring), with lines shifted by `line_offset`.

    Line ends are `\\n`, `\\r\\n` or `\\r`, as for Python itself (`split_lines` splits the same way).

    Raises:
        TokenizeFailure: `tokenize` gives up (an unterminated triple-quoted string, a bracket
            never closed, a dedent to no outer level); TooManyTokens, one of its kind, when the
            source has more than `max_tokens` tokens.
    """
    limit = max_tokens if max_tokens is not None else float("inf")
    symbols: list[str] = []
    firsts: list[int] = []
    lasts: list[int] = []
    # the current logical line, kept apart until its NEWLINE: dropped if it is only strings (a docstring)
    line_symbols: list[str] = []
    line_firsts: list[int] = []
    line_lasts: list[int] = []
    only_strings = True
    after_dot = False
    fstring_depth = 0
    keywords = _KEYWORDS
    readline = io.StringIO(normalise_line_ends(source)).readline
    try:
        # one pass, the commonest kinds first: this loop is most of the time a class takes
        for kind, text, (first, _), (last, _), _ in tokenize.generate_tokens(readline):
            if fstring_depth:  # inside an f-string (3.12+): one STR for all of it
                if kind == _FSTRING_START:
                    fstring_depth += 1
                elif kind == _FSTRING_END:
                    fstring_depth -= 1
                    line_lasts[-1] = last
                continue
            if kind == _NAME:
                line_symbols.append(text if after_dot or text in keywords else ID)
                after_dot = False
            elif kind == _OP:
                line_symbols.append(text)
                after_dot = text == "."
            elif kind == _NEWLINE:
                if not only_strings:  # a line of strings alone is a docstring: dropped
                    symbols += line_symbols
                    firsts += line_firsts
                    lasts += line_lasts
                    symbols.append(NEWLINE)
                    firsts.append(first)
                    lasts.append(first)
                line_symbols, line_firsts, line_lasts, only_strings = [], [], [], True
                if len(symbols) > limit:
                    raise TooManyTokens(f"more than {max_tokens:,} tokens, far more than any homework")
                continue
            elif kind in _DROPPED:
                continue
            elif kind == _INDENT or kind == _DEDENT:
                symbols.append(INDENT if kind == _INDENT else DEDENT)
                firsts.append(first)
                lasts.append(first)
                continue
            elif kind == _STRING or kind == _FSTRING_START:
                line_symbols.append(STR)
                line_firsts.append(first)
                line_lasts.append(last)
                fstring_depth = 1 if kind == _FSTRING_START else 0
                after_dot = False
                continue  # only_strings unchanged
            elif kind == _NUMBER:
                line_symbols.append(NUM)
                after_dot = False
            elif kind == _ERRORTOKEN and not text.strip():
                continue  # stray whitespace (3.11 reports some of it this way)
            else:  # what tokenize could not classify (`$`, `?`, a lone quote): as it is
                line_symbols.append(text)
                after_dot = False
            line_firsts.append(first)
            line_lasts.append(last)
            only_strings = False
            if len(line_symbols) > limit:
                raise TooManyTokens(f"more than {max_tokens:,} tokens, far more than any homework")
    except tokenize.TokenError as error:
        message, (line, _) = error.args
        raise TokenizeFailure(f"{_lowercase_first(message)} (line {line + line_offset})") from None
    except SyntaxError as error:  # IndentationError, and 3.12's tokenizer errors
        line = f" (line {error.lineno + line_offset})" if error.lineno else ""
        raise TokenizeFailure(f"{_lowercase_first(error.msg)}{line}") from None
    if line_offset:
        firsts = [line + line_offset for line in firsts]
        lasts = [line + line_offset for line in lasts]
    return CodeTokens(tuple(symbols), tuple(firsts), tuple(lasts))


def normalise_line_ends(text: str) -> str:
    """`text` with every line end (`\\r\\n`, `\\r`) made `\\n`, as Python reads source."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as `normalised_tokens` counts them (line 1 is the first item)."""
    lines = normalise_line_ends(text).split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _lowercase_first(text: str) -> str:
    """`Unindent does not match` -> `unindent does not match`; `EOF in ...` stays as it is."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
