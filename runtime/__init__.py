"""The runtime: renderers that read only the Score IR (importable as harmonlang.runtime)."""
