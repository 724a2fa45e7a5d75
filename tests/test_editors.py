"""Editor support in editors/: the VS Code extension and the Vim files.

VS Code: the TextMate grammar's scope snapshots of every example (vscode-tmgrammar-snap; committed under
editors/vscode/test/snapshots/, rewritten by `pytest --update-goldens tests/test_editors.py`), the grammar's
scopes checked against the compiler's own lexer, the .vsix that vsce builds, package.json's contributions,
the extension's commands and language-server start (run against a stand-in `vscode` module) and the snippets
(expanded, they compile and are formatted). Vim: ftdetect and ftplugin (`:make` fills the quickfix list with
one entry per error), the syntax file (against the lexer again, with no errors) and the indent file (it
indents as `harmonc fmt` does).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_tool
from lark import Token
from support import EXAMPLES

from harmonlang.parser import grammar_parser

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
VIM = ROOT / "editors" / "vim"
SNAPSHOTS = VSCODE / "test" / "snapshots"
PACKAGE_JSON = VSCODE / "package.json"
PACKAGE = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*.circle"))
# `#` starts a comment only after whitespace, `;` or a bracket: elsewhere it is a sharp, in strings and out.
SHARPS_NAME = "sharps.test.circle"
SHARPS = (
    'song "Sharps" { key F# minor; tempo 96 }  # F# is a pitch\n'
    'theme hero = "f#4/8 a4/8 c#5/4 | f#5/2"  # notes\n'
    "theme mirror = hero | invert f#4  # the pivot, f#4\n"
    "part lead : protagonist plays (hero | transpose -12) on s1 #1: a comment\n"
    "scene IIa.search.1a { lift +1; meter 7/8 }\n"
)
CHECKED_NAMES = [*EXAMPLE_NAMES, SHARPS_NAME]


def source_text(name: str) -> str:
    return SHARPS if name == SHARPS_NAME else (EXAMPLES / name).read_text(encoding="utf-8")


REGENERATE = "regenerate with `pytest --update-goldens tests/test_editors.py`"
# Debian bookworm's nodejs, which .ci/run installs when a machine has no npm.
DEBIAN_NODE = "18.19.0"
# Quiet, colourless tools.
TOOL_ENV = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "npm_config_update_notifier": "false"}

KEYWORDS = {
    "IMPORT", "SONG", "THEME", "PROG", "GROOVE", "PART", "PLAYS", "ON", "GENRE", "DEVICE", "CIRCLE",
    "_ACT", "_STEP", "_SEQUENCE", "_SCENE", "_PHRASE", "CHORUS", "BRIDGE", "TRANSITION",
}  # fmt: skip
CONSTANTS = {"NUMBER", "FRACTION", "RATIO", "RANGE", "SCENE_LOCAL", "PITCHNAME"}


def run(command: list[str], cwd: Path = ROOT, timeout: float = 600, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=TOOL_ENV, check=False, **kwargs
    )


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def lexed(text: str) -> list[Token]:
    """The compiler's own tokens for `text`, comments included, whitespace and newlines left out."""
    return [
        token
        for token in grammar_parser().lex(text, dont_ignore=True)
        if not token.type.startswith("__") and token.type not in ("_NL", "_CONTINUE")
    ]


# ---- VS Code: the tools ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """`npm ci` in editors/vscode, once per session: the pinned vsce, vscode-tmgrammar-test and language client."""
    npm = require_tool("npm")
    require_tool("node")
    result = run([npm, "ci", "--no-audit", "--no-fund"], cwd=VSCODE, timeout=900)
    assert result.returncode == 0, f"npm ci failed in editors/vscode\n{output(result)}"
    return VSCODE / "node_modules"


def tmgrammar_snap(modules: Path, cases: list[Path], *options: str) -> subprocess.CompletedProcess:
    """vscode-tmgrammar-snap on `cases`, with the grammar that package.json contributes. It writes `CASE.snap` where
    there is none, and otherwise compares the case's scopes with its `.snap`."""
    tool = modules / "vscode-tmgrammar-test" / "dist" / "snapshot.js"
    return run([require_tool("node"), str(tool), "--config", str(PACKAGE_JSON), *options, *map(str, cases)])


Scoped = list[tuple[int, int, tuple[str, ...]]]  # (start, end, scopes) for each token of a line


def parse_snap(text: str) -> list[tuple[str, Scoped]]:
    """A .snap file: each source line (`>line`) and its tokens (`#   ^^^ scope scope`, columns as in the line)."""
    lines: list[tuple[str, Scoped]] = []
    for raw in text.split("\n"):
        if raw.startswith(">"):
            lines.append((raw[1:], []))
        elif raw.startswith("#") and lines:
            match = re.fullmatch(r"#( *)(\^+) (.*)", raw)
            assert match, f"not a scope line: {raw!r}"
            start = len(match.group(1))
            lines[-1][1].append((start, start + len(match.group(2)), tuple(match.group(3).split())))
    return lines


def scopes_at(lines: list[tuple[str, Scoped]], line: int, column: int) -> tuple[str, ...]:
    """The scopes at 0-based `line` and `column`."""
    for start, end, scopes in lines[line][1]:
        if start <= column < end:
            return scopes
    raise AssertionError(f"no token at line {line + 1}, column {column + 1}")


def has_scope(scopes: tuple[str, ...], *prefixes: str) -> bool:
    return any(scope.startswith(prefix) for scope in scopes for prefix in prefixes)


@pytest.fixture(scope="session")
def example_scopes(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """The grammar's scopes for every example as it is now: fresh snapshots in a temporary folder."""
    work = tmp_path_factory.mktemp("tm-scopes")
    for name in CHECKED_NAMES:
        (work / name).write_text(source_text(name), encoding="utf-8")
    result = tmgrammar_snap(node_modules, [work / name for name in CHECKED_NAMES])
    assert result.returncode == 0, output(result)
    return {name: parse_snap((work / f"{name}.snap").read_text(encoding="utf-8")) for name in CHECKED_NAMES}


# ---- VS Code: the grammar --------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_grammar_snapshot(name: str, node_modules: Path, tmp_path: Path, update_goldens: bool) -> None:
    """The scopes of every token of every example are those in its committed snapshot."""
    example = EXAMPLES / name
    copy, snap = SNAPSHOTS / name, SNAPSHOTS / f"{name}.snap"
    if update_goldens:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(example, copy)
        snap.unlink(missing_ok=True)
        result = tmgrammar_snap(node_modules, [copy])  # with no .snap, the tool writes it
        assert result.returncode == 0 and snap.exists(), output(result)
    assert snap.exists(), f"editors/vscode/test/snapshots/{name}.snap is missing; {REGENERATE}"
    # The current example next to the committed snapshot: a changed example or grammar fails here.
    shutil.copyfile(example, tmp_path / name)
    shutil.copyfile(snap, tmp_path / f"{name}.snap")
    result = tmgrammar_snap(node_modules, [tmp_path / name])
    assert result.returncode == 0, f"examples/{name} no longer scopes as its snapshot; {REGENERATE}\n{output(result)}"
    # `npm run test:grammar` runs on the copies next to the snapshots: they must be the examples themselves.
    assert copy.read_bytes() == example.read_bytes(), f"editors/vscode/test/snapshots/{name} is stale; {REGENERATE}"


def test_snapshots_are_only_the_examples(update_goldens: bool) -> None:
    """No snapshot (or copy) is left over from an example that is gone."""
    wanted = {*EXAMPLE_NAMES, *(f"{name}.snap" for name in EXAMPLE_NAMES)}
    strays = sorted(p.name for p in SNAPSHOTS.iterdir() if p.name not in wanted)
    if update_goldens:
        for stray in strays:
            (SNAPSHOTS / stray).unlink()
        strays = []
    assert not strays, f"snapshots of no example in editors/vscode/test/snapshots: {strays}; {REGENERATE}"


def test_npm_grammar_script(node_modules: Path) -> None:
    """`npm run test:grammar`, as the extension's README says, passes on the committed snapshots."""
    result = run([require_tool("npm"), "run", "--silent", "test:grammar"], cwd=VSCODE)
    assert result.returncode == 0, output(result)
    assert result.stdout.count("run successfully") == len(EXAMPLE_NAMES), output(result)


@pytest.mark.parametrize("name", CHECKED_NAMES)
def test_grammar_agrees_with_the_lexer(name: str, example_scopes: dict[str, list]) -> None:
    """Every token of every example (and of a line-up of sharps) is scoped as what the compiler's lexer says it
    is: comments, strings, keywords, numbers, pipes, braces, defined names; nothing else is a comment."""
    lines = example_scopes[name]
    tokens = lexed(source_text(name))
    problems: list[str] = []
    comment_columns: set[tuple[int, int]] = set()

    def expect(token: Token, ok: bool, what: str) -> None:
        if not ok:
            scopes = scopes_at(lines, token.line - 1, token.column - 1)
            problems.append(f"{token.line}:{token.column} {token.value!r} ({token.type}) is not {what}: {scopes}")

    for index, token in enumerate(tokens):
        line, column = token.line - 1, token.column - 1
        at = scopes_at(lines, line, column)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.type == "COMMENT":
            columns = range(column, column + len(token.value))
            comment_columns.update((line, c) for c in columns)
            inside = all(has_scope(scopes_at(lines, line, c), "comment.line.number-sign") for c in columns)
            expect(token, inside, "a comment throughout")
        elif token.type == "STRING":
            columns = range(column, column + len(token.value))
            expect(
                token, all(has_scope(scopes_at(lines, line, c), "string.quoted.double") for c in columns), "a string"
            )
        elif token.type in KEYWORDS:
            expect(token, has_scope(at, "keyword.", "storage.type."), "a keyword")
        elif token.type in CONSTANTS:
            expect(token, has_scope(at, "constant."), "a constant")
        elif token.type == "VBAR":
            expect(token, has_scope(at, "keyword.operator.pipe"), "a pipe")
        elif token.type in ("LBRACE", "RBRACE"):
            expect(token, has_scope(at, "punctuation.section.block"), "a brace")
        elif token.type == "NAME":
            expect(token, not has_scope(at, "comment", "string", "keyword.control", "storage.type"), "a plain name")
        # what a definition defines is named as such
        if following is not None and following.type == "NAME" and token.type in ("THEME", "PROG", "GROOVE", "PART"):
            named = scopes_at(lines, following.line - 1, following.column - 1)
            kind = "entity.name.variable.part" if token.type == "PART" else "entity.name.type."
            expect(following, has_scope(named, kind), "a defined name")
    for number, (_, scoped) in enumerate(lines):
        for start, end, scopes in scoped:
            stray = [c for c in range(start, end) if (number, c) not in comment_columns]
            if has_scope(scopes, "comment") and stray:
                problems.append(f"{number + 1}:{stray[0] + 1} is scoped as a comment, which the lexer does not say")
    assert not problems, "\n".join(problems)


def music_strings(tokens: list[Token]) -> Iterator[tuple[str, Token]]:
    """Each string of music, with its kind: a theme's notes, a prog's chords, a groove's drum steps."""
    depth, groove_depth = 0, None
    for index, token in enumerate(tokens):
        if token.type == "LBRACE":
            depth += 1
            if groove_depth is None and index >= 3 and tokens[index - 3].type == "GROOVE":
                groove_depth = depth
        elif token.type == "RBRACE":
            if depth == groove_depth:
                groove_depth = None
            depth -= 1
        elif token.type == "STRING":
            if index >= 3 and tokens[index - 3].type == "THEME":
                yield "notes", token
            elif index >= 3 and tokens[index - 3].type == "PROG":
                yield "chords", token
            elif groove_depth is not None and tokens[index - 1].type == "NAME":
                before = tokens[index - 2]  # the voice's name starts a statement
                if before.line < token.line or before.type in ("LBRACE", "SEMICOLON"):
                    yield "steps", token


MUSIC_SCOPES = {"notes": "constant.other.note", "chords": "constant.other.chord", "steps": "constant.character.step"}


@pytest.mark.parametrize("name", CHECKED_NAMES)
def test_music_inside_strings_is_scoped(name: str, example_scopes: dict[str, list]) -> None:
    """Inside the strings of music, notes, chords and drum steps have scopes of their own, and no example is
    left all plain: it shows comments, keywords and strings (when it has them) with their scopes."""
    lines = example_scopes[name]
    tokens = lexed(source_text(name))
    for kind, token in music_strings(tokens):
        inner = [scopes_at(lines, token.line - 1, c) for c in range(token.column, token.column + len(token.value) - 2)]
        expected = MUSIC_SCOPES[kind]
        assert any(has_scope(s, expected) for s in inner), f"{token.line}: {token.value} has no {expected}"
        assert all(has_scope(s, f"string.quoted.double.{kind}") for s in inner), f"{token.line}: {token.value}"
    every = {scope for _, scoped in lines for _, _, scopes in scoped for scope in scopes} - {"source.harmonlang"}
    assert every, f"{name} is all plain"
    kinds = {token.type for token in tokens}
    if "COMMENT" in kinds:
        assert any(s.startswith("comment.line") for s in every)
    if kinds & KEYWORDS:
        assert any(s.startswith(("keyword.control", "storage.type")) for s in every)
    if "STRING" in kinds:
        assert any(s.startswith("string.quoted") for s in every)


def test_music_strings_found_in_the_examples() -> None:
    """The music test above has something to check: the examples hold notes, chords and drum steps."""
    kinds = {kind for name in EXAMPLE_NAMES for kind, _ in music_strings(lexed((EXAMPLES / name).read_text()))}
    assert kinds == {"notes", "chords", "steps"}


# ---- VS Code: the package ----------------------------------------------------------------------------


def test_package_contributions_are_consistent() -> None:
    assert PACKAGE["name"] == "harmonlang" and PACKAGE["publisher"] == "harmonlang"
    assert PACKAGE["engines"]["vscode"] == "^1.85.0"
    assert "onLanguage:harmonlang" in PACKAGE["activationEvents"]
    extension = (VSCODE / PACKAGE["main"]).read_text(encoding="utf-8")
    contributes = PACKAGE["contributes"]
    [language] = contributes["languages"]
    assert language["id"] == "harmonlang" and language["extensions"] == [".circle"]
    configuration = json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    assert configuration["comments"]["lineComment"] == "#"
    assert ["{", "}"] in configuration["brackets"] and ["(", ")"] in configuration["brackets"]
    assert {'"', "{", "("} <= {pair["open"] for pair in configuration["autoClosingPairs"]}
    increase = configuration["indentationRules"]["increaseIndentPattern"]
    assert re.search(increase, 'song "A {" {') and not re.search(increase, "step take { thin 0.5 }")
    [grammar] = contributes["grammars"]
    assert grammar["language"] == language["id"]
    tm = json.loads((VSCODE / grammar["path"]).read_text(encoding="utf-8"))
    assert tm["scopeName"] == grammar["scopeName"] == "source.harmonlang"
    [snippets] = contributes["snippets"]
    assert snippets["language"] == language["id"] and (VSCODE / snippets["path"]).is_file()
    commands = {c["command"]: c for c in contributes["commands"]}
    for command, title in (("harmonlang.build", "Build"), ("harmonlang.play", "Play"), ("harmonlang.watch", "Watch")):
        assert commands[command]["title"] == title and commands[command]["category"] == "HarmonLang"
    registered = set(re.findall(r"registerCommand\('([\w.]+)'", extension))
    assert registered == set(commands), "package.json's commands and the extension's registered commands differ"
    settings = contributes["configuration"]["properties"]
    assert settings["harmonlang.server.command"]["default"] == "harmonc"
    assert "'server.command'" in extension
    assert "vsce package" in PACKAGE["scripts"]["package"]
    assert "vscode-tmgrammar-snap" in PACKAGE["scripts"]["test:grammar"]


def test_dependencies_pinned_and_locked() -> None:
    """Exact versions, and package-lock.json (committed) resolves exactly those."""
    assert set(PACKAGE["dependencies"]) == {"vscode-languageclient"}
    assert set(PACKAGE["devDependencies"]) == {"@vscode/vsce", "vscode-tmgrammar-test"}
    lock = json.loads((VSCODE / "package-lock.json").read_text(encoding="utf-8"))
    root = lock["packages"][""]
    for kind in ("dependencies", "devDependencies"):
        assert root[kind] == PACKAGE[kind]
        for package, version in PACKAGE[kind].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{package} {version} is not pinned"
            assert lock["packages"][f"node_modules/{package}"]["version"] == version
    git = shutil.which("git")
    if git is not None:  # node_modules and built packages stay out of the repository
        ignored = ["editors/vscode/node_modules/x/index.js", "editors/vscode/harmonlang.vsix"]
        result = run([git, "check-ignore", "--no-index", *ignored])
        assert result.stdout.split() == ignored, output(result)


def test_lockfile_installs_on_debian_node(node_modules: Path) -> None:
    """Every locked package accepts Debian bookworm's node 18, which CI may install."""
    script = (
        "const semver = require('semver'); const lock = require('./package-lock.json'); const bad = [];"
        "for (const [name, p] of Object.entries(lock.packages)) {"
        "  const wants = p.engines && p.engines.node;"
        "  if (name && typeof wants === 'string' && !semver.satisfies(process.argv[1], wants))"
        "    bad.push(name + ' ' + wants);"
        "} console.log(JSON.stringify(bad));"
    )
    result = run([require_tool("node"), "-e", script, DEBIAN_NODE], cwd=VSCODE)
    assert result.returncode == 0, output(result)
    assert json.loads(result.stdout) == [], f"packages that need a newer node than {DEBIAN_NODE}"


def test_vsix(node_modules: Path, tmp_path: Path) -> None:
    """`npm run package` builds a .vsix (a zip) holding the manifest, grammar, extension and its runtime
    dependency, and none of the tests or build tools."""
    vsix = tmp_path / "harmonlang.vsix"
    result = run([require_tool("npm"), "run", "package", "--", "--out", str(vsix)], cwd=VSCODE, timeout=600)
    assert result.returncode == 0, output(result)
    assert vsix.is_file(), output(result)
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        for needed in (
            "extension.vsixmanifest",
            "extension/package.json",
            "extension/syntaxes/harmonlang.tmLanguage.json",
            "extension/src/extension.js",
            "extension/language-configuration.json",
            "extension/snippets/harmonlang.json",
            "extension/README.md",
        ):
            assert needed in names, f"{needed} is not in the .vsix"
        assert any(n.startswith("extension/node_modules/vscode-languageclient/") for n in names)
        assert json.loads(archive.read("extension/package.json"))["contributes"] == PACKAGE["contributes"]
        grammar = archive.read("extension/syntaxes/harmonlang.tmLanguage.json")
        assert grammar == (VSCODE / "syntaxes" / "harmonlang.tmLanguage.json").read_bytes()
        assert archive.read("extension/src/extension.js") == (VSCODE / "src" / "extension.js").read_bytes()
    unwanted = [n for n in names if "/test/" in n and "node_modules" not in n or "/@vscode/vsce" in n]
    unwanted += [n for n in names if "vscode-tmgrammar-test" in n or n.endswith(".snap")]
    assert not unwanted, unwanted


# The extension run outside VS Code: `vscode` and `vscode-languageclient/node` are stand-ins that record.
EXTENSION_HARNESS = r"""
const Module = require('module');
const calls = { commands: {}, terminals: [], clients: [], folding: [], watchers: [], messages: [] };
const config = { 'server.command': '/opt/harmon/bin/harmonc', 'server.args': [], 'server.enabled': true };
const song = '/songs/night shift.circle';
const document = {
  languageId: 'harmonlang', isUntitled: false, isDirty: true, uri: { fsPath: song }, saved: 0,
  save() { this.saved += 1; this.isDirty = false; return Promise.resolve(true); },
};
const disposable = { dispose() {} };
const vscode = {
  workspace: {
    getConfiguration: () => ({ get: (key, fallback) => (key in config ? config[key] : fallback) }),
    createFileSystemWatcher: (glob) => { calls.watchers.push(glob); return disposable; },
    workspaceFolders: [{ uri: { fsPath: '/songs' } }],
    getWorkspaceFolder: () => ({ uri: { fsPath: '/songs' } }),
    onDidChangeConfiguration: (listener) => { calls.onConfiguration = listener; return disposable; },
  },
  window: {
    activeTextEditor: { document },
    createTerminal: (options) => {
      const terminal = { options, shown: false, show() { this.shown = true; } };
      calls.terminals.push(terminal);
      return terminal;
    },
    createOutputChannel: (name) => ({ name, dispose() {} }),
    showErrorMessage: (message) => { calls.messages.push(message); return Promise.resolve(undefined); },
  },
  commands: { registerCommand: (id, run) => { calls.commands[id] = run; return disposable; }, executeCommand() {} },
  languages: {
    registerFoldingRangeProvider: (selector, provider) => {
      calls.folding.push({ selector, provider });
      return disposable;
    },
  },
  FoldingRange: class { constructor(start, end) { this.start = start; this.end = end; } },
};
class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, running: false });
    calls.clients.push(this);
  }
  start() { this.running = true; return Promise.resolve(); }
  stop() { this.running = false; return Promise.resolve(); }
}
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'vscode') return vscode;
  if (request === 'vscode-languageclient/node') return { LanguageClient };
  return load.call(this, request, ...rest);
};
(async () => {
  const extension = require(process.argv[2]);
  const context = { subscriptions: [] };
  await extension.activate(context);
  const [client] = calls.clients;
  const result = {
    commands: Object.keys(calls.commands).sort(),
    subscriptions: context.subscriptions.length,
    client: {
      id: client.id, running: client.running, run: client.serverOptions.run,
      selector: client.clientOptions.documentSelector, watchers: calls.watchers,
      initialization: client.clientOptions.initializationOptions,
    },
    folding_selector: calls.folding[0].selector,
  };
  for (const command of ['harmonlang.build', 'harmonlang.play', 'harmonlang.watch']) {
    await calls.commands[command]();
  }
  result.saved = document.saved;
  await calls.commands['harmonlang.play']({ fsPath: '/songs/other.circle' });  // from the explorer
  vscode.window.activeTextEditor = { document: { ...document, languageId: 'python' } };
  await calls.commands['harmonlang.build']();  // not a song: no terminal
  result.terminals = calls.terminals.map((t) => ({ ...t.options, shown: t.shown }));
  result.messages = calls.messages;
  config['server.command'] = 'tools/harmonc';  // relative: from the workspace folder
  calls.onConfiguration({ affectsConfiguration: (section) => section === 'harmonlang.server' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  result.restarted = { first_running: client.running, second: calls.clients[1] && calls.clients[1].serverOptions.run };
  const lines = ['song "A {" {', '  key A minor  # {', '  act I {', '    tempo 120', '  }', '}'];
  const text = { lineCount: lines.length, lineAt: (i) => ({ text: lines[i] }) };
  result.folding = calls.folding[0].provider.provideFoldingRanges(text).map((r) => [r.start, r.end]);
  await extension.deactivate();
  result.stopped = !calls.clients[1].running;
  console.log(JSON.stringify(result));
})().catch((error) => { console.error(error); process.exit(1); });
"""


def test_extension_commands_and_server(tmp_path: Path) -> None:
    """Activated, the extension starts `harmonc lsp` (the configured command) for .circle files, registers
    every command, runs Build/Play/Watch as `harmonc build|play|watch FILE [--play]` in a terminal, restarts
    the server when its settings change, and folds by braces."""
    node = require_tool("node")
    harness = tmp_path / "harness.js"
    harness.write_text(EXTENSION_HARNESS, encoding="utf-8")
    result = run([node, str(harness), str(VSCODE / PACKAGE["main"])])
    assert result.returncode == 0, output(result)
    seen = json.loads(result.stdout)
    assert seen["commands"] == sorted(c["command"] for c in PACKAGE["contributes"]["commands"])
    client = seen["client"]
    assert client["id"] == "harmonlang" and client["running"]
    assert client["run"] == {"command": "/opt/harmon/bin/harmonc", "args": ["lsp"], "options": {"cwd": "/songs"}}
    assert {"scheme": "file", "language": "harmonlang"} in client["selector"]
    assert client["watchers"] == ["**/*.circle"], "one watcher, kept across restarts"
    assert client["initialization"] == {"watchesFiles": True}, "the server is told not to watch files as well"
    assert seen["folding_selector"] == {"language": "harmonlang"}
    song = "/songs/night shift.circle"
    terminals = [(t["shellPath"], t["shellArgs"], t["cwd"], t["shown"]) for t in seen["terminals"]]
    assert terminals == [
        ("/opt/harmon/bin/harmonc", ["build", song], "/songs", True),
        ("/opt/harmon/bin/harmonc", ["play", song], "/songs", True),
        ("/opt/harmon/bin/harmonc", ["watch", song, "--play"], "/songs", True),
        ("/opt/harmon/bin/harmonc", ["play", "/songs/other.circle"], "/songs", True),
    ]
    assert seen["saved"] == 1, "a song with unsaved changes is saved before harmonc reads it"
    assert len(seen["messages"]) == 1 and ".circle" in seen["messages"][0]
    assert not seen["restarted"]["first_running"]
    assert seen["restarted"]["second"]["command"] == "/songs/tools/harmonc"
    assert seen["folding"] == [[2, 3], [0, 4]]
    assert seen["stopped"]


def snippet_text(body: list[str], name: str | None = None) -> str:
    """A snippet as VS Code inserts it when every placeholder keeps its default (a choice: its first);
    `name` replaces the first placeholder's default."""
    text = "\n".join(body)
    if name is not None:
        text = re.sub(r"\$\{1:[^${}]*\}", name, text)
    placeholder = re.compile(r"\$\{\d+:([^${}]*)\}")
    while placeholder.search(text):
        text = placeholder.sub(lambda m: m.group(1), text)
    text = re.sub(r"\$\{\d+\|([^|]*)\|\}", lambda m: m.group(1).split(",")[0], text)
    return re.sub(r"\$(\d+|\{\d+\})", "", text)


def snippet_choices(body: list[str]) -> list[set[str]]:
    return [set(m.split(",")) for m in re.findall(r"\$\{\d+\|([^|]*)\|\}", "\n".join(body))]


def test_snippets_compile(tmp_path: Path) -> None:
    """Every snippet, inserted with its defaults into one song, compiles; its choices name real genres,
    acts, steps and roles."""
    snippets = json.loads((VSCODE / "snippets" / "harmonlang.json").read_text(encoding="utf-8"))
    assert {"New song", "Scene", "Act", "Step", "Part on a device", "Theme", "Progression", "Groove"} <= set(snippets)
    pieces = [snippet_text(snippets["New song"]["body"])]
    for index, (title, snippet) in enumerate(snippets.items()):
        assert snippet["prefix"] and snippet["description"], title
        if title == "New song":
            continue
        defines = re.match(r"(theme|prog|groove|part)\b", snippet["body"][0])
        pieces.append(snippet_text(snippet["body"], f"snippet-{index}" if defines else None))
    song = "\n".join(pieces) + "\n"
    assert "$" not in song, song
    (tmp_path / "studio.circle").write_bytes((EXAMPLES / "studio.circle").read_bytes())  # the Import snippet's
    (tmp_path / "song.circle").write_text(song, encoding="utf-8")
    result = run([sys.executable, "-m", "harmonlang", "check", "song.circle"], cwd=tmp_path)
    assert result.returncode == 0, f"{song}\n{output(result)}"

    genres = {p.stem for p in (ROOT / "stdlib" / "genres").glob("*.circle")}
    circle = (ROOT / "stdlib" / "circle" / "harmon.circle").read_text(encoding="utf-8")
    acts = set(re.search(r"^\s*acts\s+(.+)$", circle, re.M).group(1).split())
    steps = {s for line in re.findall(r"^\s*steps\s+(.+)$", circle, re.M) for s in line.split()}
    roles = {"protagonist", "antagonist", "chords", "bass", "drums", "samples"}
    choices = [c for snippet in snippets.values() for c in snippet_choices(snippet["body"])]
    assert genres in choices, "the song snippet offers every genre"
    assert acts in choices and steps in choices and roles <= set.union(*choices)
    for offered in choices:
        for vocabulary in (genres, acts, steps):
            if offered & vocabulary:
                assert offered <= vocabulary, f"{offered - vocabulary} is not one of {sorted(vocabulary)}"


def test_snippets_are_formatted() -> None:
    """Every snippet, inserted with its defaults, is already in `harmonc fmt`'s layout: format on save leaves it be."""
    from harmonlang.fmt import format_source

    snippets = json.loads((VSCODE / "snippets" / "harmonlang.json").read_text(encoding="utf-8"))
    problems = []
    for title, snippet in snippets.items():
        text = snippet_text(snippet["body"]).rstrip("\n") + "\n"
        formatted = format_source(text, f"{title}.circle")
        if formatted != text:
            diff = difflib.unified_diff(text.splitlines(True), formatted.splitlines(True), "snippet", "harmonc fmt")
            problems.append(f"{title}:\n{''.join(diff)}")
    assert not problems, "\n".join(problems)


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
