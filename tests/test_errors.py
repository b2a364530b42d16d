"""Each domain error has one HTTP status, and the mapping covers every class."""

import pytest

from api.errors import STATUS, status_for
from qa import errors


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


@pytest.mark.parametrize("cls", list(all_subclasses(errors.QAError)))
def test_every_error_class_maps_to_a_4xx_or_503(cls):
    status = status_for(cls("x"))
    assert cls in STATUS
    assert 400 <= status < 500 or status == 503


def test_specific_statuses():
    assert status_for(errors.NotFound("x")) == 404
    assert status_for(errors.UnsupportedFile("x")) == 415
    assert status_for(errors.InvalidInput("x")) == 422


def test_message_is_kept():
    assert errors.InvalidInput("question must be a non-empty string").message.startswith("question")
