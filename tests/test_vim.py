"""The Vim files: ftdetect and ftplugin (`:make` fills the quickfix list with one entry per error), the
syntax file (against the lexer again, with no errors) and the indent file (it indents as `harmonc fmt` does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from editor_support import (
    CHECKED_NAMES,
    CONSTANTS,
    EXAMPLE_NAMES,
    KEYWORDS,
    SHARPS,
    SHARPS_NAME,
    TOOL_ENV,
    VIM,
    lexed,
    output,
    run,
    source_text,
)
from support import EXAMPLES, require_tool

# ---- Vim -----------------------------------------------------------------------------------------------

VIM_SCRIPT = r"""
set nocompatible
let &runtimepath = $HARMON_VIM . ',' . &runtimepath
filetype plugin indent on
syntax on
let result = {'has_syntax': has('syntax'), 'files': {}, 'indented': {}}
for file in split($HARMON_FILES, "\n")
  execute 'silent edit ' . fnameescape(file)
  let groups = []
  let linked = []
  for lnum in range(1, line('$'))
    let row = []
    let trow = []
    for col in range(1, len(getline(lnum)))
      let id = synID(lnum, col, 1)
      call add(row, synIDattr(id, 'name'))
      call add(trow, synIDattr(synIDtrans(id), 'name'))
    endfor
    call add(groups, row)
    call add(linked, trow)
  endfor
  let result.files[file] = {'filetype': &filetype, 'syntax': get(b:, 'current_syntax', ''),
        \ 'commentstring': &commentstring, 'shiftwidth': &shiftwidth, 'expandtab': &expandtab,
        \ 'groups': groups, 'linked': linked}
  bwipeout!
endfor
for file in split($HARMON_INDENT, "\n")
  execute 'silent edit ' . fnameescape(file)
  silent %s/^\s\+//e
  silent normal! gg=G
  let result.indented[file] = getline(1, '$')
  bwipeout!
endfor
let result.errmsg = v:errmsg
call writefile([json_encode(result)], $HARMON_OUT)
qall!
"""


def vim_links() -> dict[str, str]:
    """The syntax file's groups and the standard group each is linked to."""
    text = (VIM / "syntax" / "harmonlang.vim").read_text(encoding="utf-8")
    return dict(re.findall(r"^hi def link (\w+)\s+(\w+)$", text, re.M))


@pytest.fixture(scope="session")
def vim_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Vim on every example (its syntax groups per byte) and on every example as `harmonc fmt` lays it out
    (indented afresh with `gg=G`)."""
    vim = require_tool("vim")
    work = tmp_path_factory.mktemp("vim")
    formatted, unformatted = [], {}
    for name in EXAMPLE_NAMES:
        result = run([sys.executable, "-m", "harmonlang", "fmt", "-"], input=(EXAMPLES / name).read_text())
        if result.returncode != 0:  # for the indent test to report; the syntax tests need no formatter
            unformatted[name] = output(result)
            continue
        (work / name).write_text(result.stdout, encoding="utf-8")
        formatted.append(str(work / name))
    (work / SHARPS_NAME).write_text(SHARPS, encoding="utf-8")
    checked = [str(EXAMPLES / name) for name in EXAMPLE_NAMES] + [str(work / SHARPS_NAME)]
    env = {
        "HARMON_VIM": str(VIM),
        "HARMON_FILES": "\n".join(checked),
        "HARMON_INDENT": "\n".join(formatted),
        "HARMON_OUT": str(work / "result.json"),
    }
    (work / "run.vim").write_text(VIM_SCRIPT, encoding="utf-8")
    command = [vim, "-u", "NONE", "-U", "NONE", "-i", "NONE", "-N", "-Es", "-S", str(work / "run.vim")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**TOOL_ENV, **env})
    assert result.returncode == 0, f"vim reported errors\n{output(result)}"
    seen = json.loads((work / "result.json").read_text(encoding="utf-8"))
    assert seen["has_syntax"], "this vim has no syntax highlighting (vim-tiny?): install Debian's vim"
    assert seen["errmsg"] == "", seen["errmsg"]
    seen["formatted"] = {path: Path(path).read_text(encoding="utf-8") for path in formatted}
    seen["unformatted"] = unformatted
    seen["checked"] = dict(zip(CHECKED_NAMES, checked, strict=True))
    return seen


def test_vim_files_exist() -> None:
    for part in ("ftdetect", "syntax", "indent", "ftplugin"):
        assert (VIM / part / "harmonlang.vim").is_file()
    assert "*.circle" in (VIM / "ftdetect" / "harmonlang.vim").read_text()


def test_vim_filetype_and_settings(vim_run: dict) -> None:
    """A .circle file is harmonlang, with its syntax, `# %s` comments and two-space indents."""
    for name in EXAMPLE_NAMES:
        seen = vim_run["files"][str(EXAMPLES / name)]
        assert seen["filetype"] == "harmonlang" and seen["syntax"] == "harmonlang", name
        assert seen["commentstring"] == "# %s" and seen["shiftwidth"] == 2 and seen["expandtab"] == 1, name


@pytest.mark.parametrize("name", CHECKED_NAMES)
def test_vim_syntax_agrees_with_the_lexer(name: str, vim_run: dict) -> None:
    """Comments are Comment (and only comments), strings are String, keywords, numbers and the names
    definitions define have groups of their own."""
    seen = vim_run["files"][vim_run["checked"][name]]
    links = vim_links()
    text = source_text(name)
    source = text.split("\n")
    problems: list[str] = []
    comment_bytes: set[tuple[int, int]] = set()

    def group(line: int, column: int) -> str:
        """The syntax group at 0-based `line` and character `column`, linked to its standard group."""
        byte = len(source[line][:column].encode())
        return links.get(seen["groups"][line][byte], seen["groups"][line][byte])

    tokens = lexed(text)
    for index, token in enumerate(tokens):
        line, column = token.line - 1, token.column - 1
        span = range(column, column + len(token.value))
        at = group(line, column)
        if token.type == "COMMENT":
            start = len(source[line][:column].encode())
            comment_bytes.update((line, b) for b in range(start, start + len(token.value.encode())))
            linked = {seen["linked"][line][len(source[line][:c].encode())] for c in span}
            if linked != {"Comment"}:
                problems.append(f"{token.line}: the comment is {linked}, not Comment")
        elif token.type == "STRING" and {group(line, c) for c in (span[0], span[-1])} != {"String"}:
            problems.append(f"{token.line}:{token.column} {token.value} is {at}, not String")
        elif token.type in KEYWORDS and at not in ("Statement", "Structure", "StorageClass", "Include", "Keyword"):
            problems.append(f"{token.line}:{token.column} {token.value} is {at!r}, not a keyword")
        elif token.type in CONSTANTS and at not in ("Number", "Constant", "Label"):
            problems.append(f"{token.line}:{token.column} {token.value} is {at!r}, not a number or constant")
        if token.type in ("THEME", "PROG", "GROOVE", "PART") and tokens[index + 1].type == "NAME":
            named = tokens[index + 1]
            if group(named.line - 1, named.column - 1) != "Function":
                problems.append(f"{named.line}:{named.column} {named.value}, a definition's name, is not Function")
    for number, row in enumerate(seen["linked"]):
        for byte, linked in enumerate(row):
            if linked == "Comment" and (number, byte) not in comment_bytes:
                problems.append(f"{number + 1}: byte {byte + 1} is Comment, which the lexer does not say")
    assert not problems, "\n".join(problems)


def test_vim_music_groups(vim_run: dict) -> None:
    """Inside strings, notes, chords and drum steps have groups of their own."""
    found = {
        group for name in EXAMPLE_NAMES for row in vim_run["files"][str(EXAMPLES / name)]["groups"] for group in row
    }
    assert {"harmonNote", "harmonDuration", "harmonRest", "harmonChord", "harmonStepHit", "harmonStepRest"} <= found
    assert {"harmonComment", "harmonSection", "harmonSetting", "harmonNumber", "harmonPipe"} <= found


def test_vim_indents_as_the_formatter(vim_run: dict) -> None:
    """With its indentation stripped, every example as `harmonc fmt` writes it indents back (`gg=G`) exactly:
    two spaces per brace, continuation lines as the formatter hangs them."""
    assert not vim_run["unformatted"], f"harmonc fmt failed: {vim_run['unformatted']}"
    assert len(vim_run["formatted"]) == len(EXAMPLE_NAMES)
    for path, text in vim_run["formatted"].items():
        assert "\n".join(vim_run["indented"][path]) + "\n" == text, f"{Path(path).name} indents differently"


def test_vim_indent_continuations(tmp_path: Path) -> None:
    """A continued theme: a string lines up under the first line's string, a `|` hangs two levels in."""
    vim = require_tool("vim")
    song = tmp_path / "song.circle"
    lines = [
        'theme long = "a4/4 c5/4 |"',
        '             "g5/4 e5/4"',
        "theme turned = long",
        "    | retrograde",
        "act I {",
        "  step you { thin 0.5 }",
        "  step need {",
        "    bridge { lift 1 }",
        "  }",
        "}",
    ]
    song.write_text("\n".join(line.lstrip() for line in lines) + "\n", encoding="utf-8")
    script = tmp_path / "indent.vim"
    script.write_text(
        "set nocompatible\nlet &runtimepath = $HARMON_VIM . ',' . &runtimepath\nfiletype plugin indent on\n"
        f"edit {song}\nsilent normal! gg=G\nsilent write\nqall!\n",
        encoding="utf-8",
    )
    command = [vim, "-u", "NONE", "-U", "NONE", "-i", "NONE", "-N", "-Es", "-S", str(script)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**TOOL_ENV, "HARMON_VIM": str(VIM)}
    )
    assert result.returncode == 0, output(result)
    assert song.read_text(encoding="utf-8").split("\n")[:-1] == lines


MAKE_SCRIPT = r"""
set nocompatible
let &runtimepath = $HARMON_VIM . ',' . &runtimepath
filetype plugin indent on
execute 'silent edit ' . fnameescape($HARMON_FILE)
silent make!
let entries = map(getqflist(), {_, e -> {'valid': e.valid, 'file': fnamemodify(bufname(e.bufnr), ':p'),
      \ 'lnum': e.lnum, 'col': e.col, 'type': e.type, 'text': e.text}})
call writefile([json_encode({'entries': entries, 'errmsg': v:errmsg})], $HARMON_OUT)
qall!
"""


def test_vim_make_lists_each_error_once(tmp_path: Path) -> None:
    """`:make` runs `harmonc check` on a file (a name with a space and a `%` too) and the quickfix list holds one
    valid entry per error, at its line and column: none for the source lines and hints printed under it."""
    vim = require_tool("vim")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "harmonc").exists():
        bin_dir = Path(require_tool("harmonc")).parent
    folder = tmp_path / "my songs"
    folder.mkdir()
    song = folder / "broken 100%.circle"
    song.write_text(
        'song "Broken" { key A minor; tempoo 120 }\ntheme hero = "a4/4 x4/4"\npart lead : protagonist plays herro\n',
        encoding="utf-8",
    )
    env = {**TOOL_ENV, "PATH": f"{bin_dir}{os.pathsep}{TOOL_ENV.get('PATH', '')}"}
    checked = subprocess.run(
        [str(bin_dir / "harmonc"), "check", song.name], cwd=folder, capture_output=True, text=True, env=env, timeout=120
    )
    expected = re.findall(r"^.+?:(\d+):(\d+): (error|warning): (.*)$", checked.stdout + checked.stderr, re.M)
    assert len(expected) == 3, output(checked)
    script = tmp_path / "make.vim"
    script.write_text(MAKE_SCRIPT, encoding="utf-8")
    env |= {"HARMON_VIM": str(VIM), "HARMON_FILE": str(song), "HARMON_OUT": str(tmp_path / "make.json")}
    command = [vim, "-u", "NONE", "-U", "NONE", "-i", "NONE", "-N", "-Es", "-S", str(script)]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, output(result)
    seen = json.loads((tmp_path / "make.json").read_text(encoding="utf-8"))
    assert seen["errmsg"] == "", seen["errmsg"]
    entries = seen["entries"]
    assert [(e["valid"], e["file"], e["lnum"], e["col"], e["type"], e["text"]) for e in entries] == [
        (1, str(song), int(line), int(col), kind[0], message) for line, col, kind, message in expected
    ]
