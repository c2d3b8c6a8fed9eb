"""Regenerate the checked-in completion scripts next to this file (`make completions`).

They are generated from the command tree, never edited by hand; tests/unit/test_completion.py
fails when they are stale.
"""

from pathlib import Path

from liqoshortcut.cli.completion import write_completion_scripts

if __name__ == "__main__":
    for path in write_completion_scripts(Path(__file__).parent):
        print(f"wrote {path.name}")
