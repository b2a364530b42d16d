"""Which reader a service uses. A factory of its own, so the reader modules never import each
other to choose."""

from __future__ import annotations

from qa.config import Settings
from qa.errors import NotReady
from qa.read.base import Reader


def make_reader(settings: Settings) -> Reader:
    """The configured reader; `auto` takes the trained model when its files are installed."""
    from qa.read.heuristic import HeuristicReader

    kind = settings.reader
    if kind in ("auto", "neural"):
        try:
            from qa.read.neural import NeuralReader, model_available
        except ImportError:
            model_available = None
        if model_available is not None and model_available():
            return NeuralReader(threads=settings.threads, first=settings.read_first, sure=settings.read_sure)
        if kind == "neural":
            raise NotReady("the trained reader model is not installed (qa/models/reader/)")
    return HeuristicReader()
