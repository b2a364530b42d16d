"""`python -m qa.cli` runs the `qa` command."""

from qa.cli import main

main()
