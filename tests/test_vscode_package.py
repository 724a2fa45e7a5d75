"""The VS Code extension as a package: package.json's contributions, the pinned and locked tools, the
.vsix that vsce builds, the extension's commands and language-server start (run against a stand-in
`vscode` module), and the snippets (expanded, they compile and are formatted).
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

from editor_support import DEBIAN_NODE, PACKAGE, ROOT, VSCODE, output, run
from support import EXAMPLES, require_tool

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
