"""The Score IR's version, kept apart so the compile path need not import the models."""

IR_VERSION = "1.3"
