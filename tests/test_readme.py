"""The README's commands are the ones that get checked: CI runs its test command word for word,
and its examples need nothing outside a fresh clone. (`.ci/readme_check.py` runs its service
command from a fresh clone; running the test command inside the suite would run the suite twice.)"""

import re

from tests.readme import ROOT, two_commands


def test_ci_runs_the_readme_test_command_verbatim():
    _, test_command = two_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_the_service_command_installs_and_serves():
    serve_command, _ = two_commands()
    assert serve_command.startswith("python3 -m venv .venv") and serve_command.endswith("qa serve")


def test_readme_examples_stay_inside_the_clone():
    """No example command reads a file outside the repository (the seed questions are in
    tests/data/); untagged blocks are printed output."""
    blocks = re.findall(r"```(?:bash|python|html)\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert len(blocks) > 8
    outside = r"\.\./|~/|(^|[\s'\"=@])/(work|home|root|tmp)/"
    assert [b for b in blocks if re.search(outside, b, re.MULTILINE)] == []


def test_two_commands_reads_only_its_section():
    text = "# X\n\n## Two commands\n\n```bash\nserve\n```\n\nthen\n\n```bash\ntest\n```\n\n## Later\n\n```bash\nother\n```\n"
    assert two_commands(text) == ("serve", "test")
