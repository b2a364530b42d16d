"""The README's "Two commands", read from README.md itself, so the checks run what users read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def two_commands(readme: str | None = None) -> tuple[str, str]:
    """(the service command, the test command): the bash blocks under "## Two commands"."""
    text = readme if readme is not None else (ROOT / "README.md").read_text()
    section = text.split("\n## Two commands\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", section, re.DOTALL)
    assert len(blocks) == 2, f"expected two bash blocks under '## Two commands', found {len(blocks)}"
    return blocks[0].strip(), blocks[1].strip()
