"""Headless commands: one shot, plain text or JSON, clear exit codes."""
