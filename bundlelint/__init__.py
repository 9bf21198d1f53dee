"""bundlelint: find macOS notarization problems before Apple does, on any OS."""

__version__ = "0.1.0"
