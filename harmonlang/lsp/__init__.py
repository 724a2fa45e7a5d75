"""The language server (`harmonc lsp`); see `harmonlang.lsp.server` for what it offers."""
