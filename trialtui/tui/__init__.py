"""Textual user interface. Shows what trialtui.analysis computes; computes nothing itself."""
