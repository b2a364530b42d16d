"""The `qa` command: one module per group of commands, each command's docstring its --help.
Heavy imports happen inside the commands, so `qa --help` is instant."""

from qa.cli.ask import ask, serve
from qa.cli.base import main
from qa.cli.collections import collections
from qa.cli.documents import index, rm
from qa.cli.evaluate import eval_
from qa.cli.feedback import feedback

for _command in (index, ask, serve, rm, collections, eval_, feedback):
    main.add_command(_command)
