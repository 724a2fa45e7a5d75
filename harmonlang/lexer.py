"""The lexer: Lark's contextual lexing with one shared scanner.

Lark's contextual lexer compiles a scanner regex for every parser state
(about fifty for this grammar), which dominates a cold start. This lexer
compiles one scanner over all terminals; when what it finds is not acceptable
in the current parser state (a keyword where a plain name is wanted, say) it
tries the acceptable terminals one by one, in Lark's own priority order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

from lark.exceptions import UnexpectedCharacters
from lark.lexer import BasicLexer, ContextualLexer, LexerState, Token


class SharedScannerLexer(ContextualLexer):
    def __init__(self, conf: Any, states: dict[int, Collection[str]], always_accept: Collection[str] = ()) -> None:
        self.root_lexer = BasicLexer(conf)
        extra = set(conf.ignore) | set(always_accept)
        self.accepts = {state: frozenset(accepted) | extra for state, accepted in states.items()}
        self.patterns: dict[str, re.Pattern[str]] = {}

    def _pattern(self, name: str) -> re.Pattern[str]:
        if name not in self.patterns:
            terminal = self.root_lexer.terminals_by_name[name]
            self.patterns[name] = re.compile(terminal.pattern.to_regexp(), self.root_lexer.g_regex_flags)
        return self.patterns[name]

    def _contextual_match(self, text: str, pos: int, accepts: frozenset[str]) -> tuple[str, str] | None:
        for terminal in self.root_lexer.terminals:
            if terminal.name in accepts:
                match = self._pattern(terminal.name).match(text, pos)
                if match:
                    return match.group(0), terminal.name
        return None

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        root = self.root_lexer
        scanner = root.scanner  # builds the one shared regex on first use
        text_slice = lexer_state.text  # a lark TextSlice
        text = text_slice.text
        line_ctr = lexer_state.line_ctr
        while line_ctr.char_pos < text_slice.end:
            accepts = self.accepts[parser_state.position]
            found = scanner.match(text_slice, line_ctr.char_pos)
            if found is not None:
                value, kind = found
                if kind in root.callback and kind not in root.ignore_types:
                    probe = Token(kind, value)
                    kind = root.callback[kind](probe).type  # keyword or plain name
                if kind not in accepts:
                    found = self._contextual_match(text, line_ctr.char_pos, accepts) or (value, kind)
                else:
                    found = (value, kind)
            if found is None:
                found = self._contextual_match(text, line_ctr.char_pos, accepts)
            if found is None:
                allowed = {a for a in accepts if a in root.terminals_by_name and a not in root.ignore_types}
                raise UnexpectedCharacters(
                    text,
                    line_ctr.char_pos,
                    line_ctr.line,
                    line_ctr.column,
                    allowed=allowed,
                    token_history=lexer_state.last_token and [lexer_state.last_token],
                    state=parser_state,
                    terminals_by_name=root.terminals_by_name,
                )
            value, kind = found
            token = Token(kind, value, line_ctr.char_pos, line_ctr.line, line_ctr.column)
            line_ctr.feed(value, kind in root.newline_types)
            token.end_line, token.end_column, token.end_pos = line_ctr.line, line_ctr.column, line_ctr.char_pos
            if kind in root.ignore_types:
                continue
            lexer_state.last_token = token
            yield token
