"""Typed domain errors. Each carries a plain message a user can act on; the API maps classes to
HTTP statuses in one place (`api/errors.py`) and the CLI prints `Error: <message>`."""


class QAError(Exception):
    """Base of every error Verbatim reports to a user rather than crashing on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(QAError):
    """The request itself is wrong: empty question, bad parameter, unreadable question file."""


class NotFound(QAError):
    """A document or collection that does not exist."""


class UnsupportedFile(QAError):
    """A file type Verbatim cannot read."""


class CorruptFile(QAError):
    """A file of a supported type whose content cannot be decoded."""


class EmptyFile(CorruptFile):
    """A readable file with no text in it: nothing to index (a folder walk skips it, and says so)."""


class IndexMismatch(QAError):
    """The stored index was built differently (other model, format) and must be rebuilt."""


class NotReady(QAError):
    """The collection has nothing indexed yet."""


class PayloadTooLarge(QAError):
    """An upload over the size or file-count limit."""


class Unauthorized(QAError):
    """No API key, or one that matches no configured key."""


class Forbidden(QAError):
    """A valid API key whose scopes do not cover the collection."""


class RateLimited(QAError):
    """Too many requests from one client; `retry_after` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
