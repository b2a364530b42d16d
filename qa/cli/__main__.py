"""`python -m qa.cli` (the tests start servers this way) runs the `qa` command."""

from qa.cli import main

main()
