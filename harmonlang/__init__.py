"""HarmonLang: songs shaped as a story, and the harmonc compiler."""

__version__ = "0.1.0"
