"""Token limit: refuse a document with more than ``max_tokens`` lexical tokens
(docs/router.md §6.2 Limits).

graphql-core's ``parse(max_tokens=...)`` would stop too, but its pure-Python lexer costs tens of
microseconds per token, so reaching the limit takes longer than a whole refusal may. So the count
comes first, in C: ``str.split`` over a prefix when the text has no strings or comments (the
common flood, ``id id id ...``), else one compiled regular expression; both stop as soon as the
limit is passed, so a megabyte is refused after scanning a few kilobytes. A comment counts as a
token here (graphql-core skips comments without counting them, so a comment flood would
otherwise cost the parser as much as a token flood).

The count stops early on a character no token can start with: the parser rejects the document
at that character, after fewer tokens than the limit. A match is never less than one real
token, so a document the parser accepts is refused only if it really has too many tokens.
"""

from __future__ import annotations

import re

__all__ = ["exceeds_token_limit", "is_token_limit_error"]

_TOKENS = re.compile(
    r"([\s,\ufeff]+)"  # group 1: white space and commas, skipped
    r"|#[^\n\r]*"  # comment
    r'|"""(?:[^"\\]++|\\.|"(?!""))*+"""'  # block string (possessive: no backtracking)
    r'|"(?:[^"\\\n\r]++|\\.)*+"'  # string
    r"|[_A-Za-z][_0-9A-Za-z]*"  # name
    r"|-?[0-9][0-9.eE+-]*"  # number (an over-long match only lowers the count)
    r"|\.\.\.|[!$&()\[\]{}:=@|]"  # punctuators
    r"|(.)",  # group 2: no token starts here, the parser will stop at it
    re.DOTALL,
)
_SKIP, _STOP = 1, 2

# graphql-core's message when parse(max_tokens=...) gives up.
_PARSER_MESSAGE = "Document contains more than"


def exceeds_token_limit(query: str, max_tokens: int) -> bool:
    if len(query) <= max_tokens:  # every token is at least one character
        return False
    if _words_exceed(query, max_tokens):
        return True
    counted = 0
    for match in _TOKENS.finditer(query):
        group = match.lastindex
        if group is None:
            counted += 1
            if counted > max_tokens:
                return True
        elif group == _STOP:
            return False
    return False


def _words_exceed(query: str, max_tokens: int) -> bool:
    """The common flood (``id id id ...``) without the regular expression: in text without
    strings or comments every run of characters between white space and commas holds at least
    one token (or a character the parser rejects), so counting runs with ``str.split`` in C
    gives a lower bound, over a prefix just long enough to pass the limit."""
    head = query[: 8 * (max_tokens + 1)]
    if '"' in head or "#" in head:
        return False
    return len(head.replace(",", " ").split(None, max_tokens)) > max_tokens


def is_token_limit_error(message: str) -> bool:
    return _PARSER_MESSAGE in message
