"""API keys: who may write to (and, for private collections, read from) which collection.

Off until a key is configured: `QA_API_KEY` is one key allowed everything; `QA_KEYS_FILE` names
a JSON file of keys with per-collection scopes:

    {"keys": [{"name": "ci", "key": "s3cret", "write": ["docs"], "read": ["docs"]},
              {"name": "ops", "sha256": "<hex digest of the key>", "write": ["*"]}],
     "private": ["hr"]}

Writes need a key whose `write` scope names the collection (or "*"). Reads are open except for
private collections (`private` in the file, or `QA_PRIVATE_COLLECTIONS`), which need `read` or
`write` scope. Keys are held only as SHA-256 digests, compared in constant time against every key
(no early exit), and never logged or echoed."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from qa.config import check_collection
from qa.errors import Forbidden, InvalidInput, Unauthorized

ANY = "*"


@dataclass(frozen=True)
class Key:
    digest: bytes
    write: frozenset[str]
    read: frozenset[str]

    def may(self, scope: str, collection: str) -> bool:
        names = self.write if scope == "write" else self.write | self.read
        return ANY in names or collection in names


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[Key, ...] = ()
    private: frozenset[str] = frozenset()

    def is_private(self, collection: str) -> bool:
        return ANY in self.private or collection in self.private

    def identify(self, token: str) -> Key | None:
        """The key matching `token`: every key is compared, so timing says nothing about which."""
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found

    def check(self, authorization: str | None, collection: str, scope: str) -> None:
        """Raise Unauthorized (no or unknown key) or Forbidden (key lacks the scope); else pass."""
        if scope == "read" and not self.is_private(collection):
            return
        if scope == "write" and not self.keys:
            return  # no keys configured: writes are open (the server binds 127.0.0.1 by default)
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized(f"this {scope} on collection {collection!r} needs `Authorization: Bearer KEY`")
        key = self.identify(token)
        if key is None:
            raise Unauthorized("the API key is not valid")
        if not key.may(scope, collection):
            raise Forbidden(f"this API key may not {scope} collection {collection!r}")

    def may_read(self, authorization: str | None, collection: str) -> bool:
        """Whether this caller sees the collection at all (listings leave out the others)."""
        try:
            self.check(authorization, collection, "read")
        except (Unauthorized, Forbidden):
            return False
        return True


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def from_settings(settings) -> KeyRing:
    return load_keyring(settings.api_key, settings.keys_file, settings.private_collections)


def load_keyring(api_key: str | None, keys_file: Path | None, private: str = "") -> KeyRing:
    """Build the key ring from settings (called once, by the app factory)."""
    keys: list[Key] = []
    private_names = {n.strip() for n in private.split(",") if n.strip()}
    if api_key:
        keys.append(Key(hashlib.sha256(api_key.encode()).digest(), frozenset({ANY}), frozenset({ANY})))
    if keys_file is not None:
        spec = _read_keys_file(Path(keys_file))
        keys += [_key_from(entry, i, keys_file) for i, entry in enumerate(spec.get("keys", []))]
        private_names |= set(spec.get("private", []))
    return KeyRing(tuple(keys), frozenset(private_names))


def _read_keys_file(path: Path) -> dict:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the keys file {path}: {type(exc).__name__}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("keys", []), list):
        raise InvalidInput(f"keys file {path}: expected {{\"keys\": [...], \"private\": [...]}}")
    return spec


def _key_from(entry: dict, i: int, path: Path) -> Key:
    """One entry; the message names its position, never its secret."""
    if not isinstance(entry, dict):
        raise InvalidInput(f"keys file {path}: entry {i} is not an object")
    if isinstance(entry.get("key"), str) and entry["key"]:
        digest = hashlib.sha256(entry["key"].encode()).digest()
    elif isinstance(entry.get("sha256"), str):
        try:
            digest = bytes.fromhex(entry["sha256"])
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise InvalidInput(f"keys file {path}: entry {i} has a malformed sha256")
    else:
        raise InvalidInput(f"keys file {path}: entry {i} needs a 'key' or a 'sha256'")
    scopes = [entry.get(s, []) for s in ("write", "read")]
    if not all(isinstance(s, list) and all(isinstance(n, str) for n in s) for s in scopes):
        raise InvalidInput(f"keys file {path}: entry {i}: 'write' and 'read' must be lists of names")
    return Key(digest, frozenset(scopes[0]), frozenset(scopes[1]))


# --- FastAPI dependencies ----------------------------------------------------------------------


def keyring(request: Request) -> KeyRing:
    return getattr(request.app.state, "keyring", KeyRing())


def write_access(request: Request) -> None:
    """For `/collections/{name}/...` writes: the path names the collection written."""
    keyring(request).check(request.headers.get("authorization"), requested_collection(request, None), "write")


def readable_collection(request: Request, named: str | None) -> str:
    """The collection this request reads, once its key may read it. Routes answer from what this
    returns, so the collection that auth checks is the one the answer comes from."""
    name = requested_collection(request, named)
    keyring(request).check(request.headers.get("authorization"), name, "read")
    return name


def requested_collection(request: Request, named: str | None) -> str:
    """The one rule for which collection a request means: the one it names (in the path, the
    query or the body: `named`), and the service's default collection when it names none.
    Naming two different ones is refused rather than guessed at."""
    given = [named, request.path_params.get("name"), *request.query_params.getlist("collection")]
    names = {check_collection(n) for n in given if n is not None}
    if len(names) > 1:
        raise InvalidInput(f"the request names more than one collection ({', '.join(sorted(names))}); name one")
    return names.pop() if names else request.app.state.service.settings.collection
