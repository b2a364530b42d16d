"""The shared store of Milvus mode (`QA_INDEX_BACKEND=milvus`): everything a question needs lives
in Milvus, so `qa serve` keeps no state of its own and N replicas behind a load balancer answer
alike. Why Milvus itself and not a second shared system: the cluster is already replicated and
durable (segments in object storage, metadata in etcd), every replica already talks to it, and
one system to run, secure and back up beats two.

- One Milvus collection per Verbatim collection (per build, see below), `verbatim_<name>_<build>`:
  each passage's vector (HNSW, inner product) with its doc_id and the passage itself (text,
  offsets, section, as JSON) beside it, so a search returns the passages in one round trip.
- One shared collection `verbatim_meta` of key -> value rows:
    m/<name>                the manifest (version, build, model, counts, HNSW parameters)
    s/<name>                the collection's settings (a tuned threshold), kept across builds
    i/<build>/<doc_id>      a document's listing: title, path, sha256, passages, chars
    d/<build>/<doc_id>/<n>  the document (its JSON, in parts of `PART_CHARS` characters; num: how many)
    t/<build>/<term>        a term's document frequency, for BM25 weights (see MilvusRetriever)

Writes are incremental: the passages of new documents are upserted, those of removed ones
deleted, and the manifest's version changes last, which is how replicas notice (and how their
answer caches miss). A different model or passage size starts a new build beside the old one and
switches the manifest to it in one write, then drops the old build: the same atomic swap as the
local store's `CURRENT`. Writers: one per collection at a time (a lock file under the data dir
serialises the writers of one host; Milvus has no cross-host lock, so index from one place).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from index.milvus_index import MilvusIndex, connect
from qa.errors import IndexMismatch, InvalidInput
from qa.store.base import FORMAT_VERSION
from qa.store.milvus_collection import PART_CHARS, DocumentInfo, MilvusCollection, passage_key
from qa.store.milvus_meta import VALUE_BYTES, MetaTable
from qa.store.rows import passage_from, passage_row
from qa.text import tokenize
from qa.types import Document, Passage

PASSAGE_FIELDS = {"doc_id": 64, "passage": 65535}
MAX_TERM_CHARS = 200  # longer "terms" (digit runs) are left out of the df table


class MilvusStore:
    """The `Store` of Milvus mode (see the module docstring for the layout)."""

    kind = "milvus"
    shared = True

    def __init__(self, uri: str, token: str | None, lock_dir: Path) -> None:
        self.uri, self.client = uri, connect(uri, token)
        self.meta = MetaTable(self.client)
        self.lock_dir = Path(lock_dir) / "locks"

    def manifest(self, name: str) -> dict | None:
        found = self.meta.get([f"m/{name}"])
        return json.loads(found[f"m/{name}"][0]) if found else None

    def current_version(self, name: str) -> str | None:
        manifest = self.manifest(name)
        return manifest["version"] if manifest else None

    def load(self, name: str) -> MilvusCollection | None:
        manifest = self.manifest(name)
        if manifest is None:
            return None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatch(f"collection {name!r} was written by another format version; run `qa index` again")
        index = MilvusIndex(manifest["dim"], collection=manifest["index"]["collection"], client=self.client,
                            ef=manifest["index"]["ef"])
        return MilvusCollection(name, manifest, index, self.meta)

    def list_collections(self) -> list[str]:
        return sorted(key[2:] for key, _, _ in self.meta.scan("m/"))

    @contextmanager
    def writing(self, name: str) -> Iterator[None]:
        """One writer per collection on this host (see the module docstring for several hosts)."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_dir / f"{name}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_settings(self, name: str) -> dict:
        found = self.meta.get([f"s/{name}"])
        return json.loads(found[f"s/{name}"][0]) if found else {}

    def write_settings(self, name: str, values: dict) -> dict:
        merged = {**self.read_settings(name), **values}
        self.meta.put([(f"s/{name}", json.dumps(merged), 0)])
        return merged

    def write(
        self, name: str, current: MilvusCollection | None, documents: list[Document], fresh: list[Passage],
        vectors: np.ndarray, meta: dict,
    ) -> MilvusCollection:
        """Bring the collection to exactly `documents`: upsert the new ones' passages (`fresh`,
        `vectors`), delete the others', then publish the new manifest. Without `current` (a new
        collection, or a new model) a new build is written and swapped in."""
        previous = self.manifest(name)
        build = current.build if current is not None else uuid.uuid4().hex[:12]
        index = current.index if current is not None else MilvusIndex(
            int(meta["dim"]), collection=f"verbatim_{re.sub('[^A-Za-z0-9]', '_', name)}_{build}", fields=PASSAGE_FIELDS,
            client=self.client)
        old = current.documents if current is not None else {}
        keep = {d.doc_id for d in documents}
        removed = [doc_id for doc_id in old if doc_id not in keep]
        counts = Counter(p.doc_id for p in fresh)
        self._put_documents(build, [d for d in documents if d.doc_id not in old], counts)
        index.add([passage_key(p.passage_id) for p in fresh], vectors, [_passage_fields(p) for p in fresh])
        gone = self._remove_passages(index, removed)
        self.meta.delete([f"i/{build}/{doc_id}" for doc_id in removed] +
                         [f"d/{build}/{doc_id}/{n}" for doc_id in removed for n in range(old[doc_id].parts)])
        self._count_terms(build, fresh, gone)
        base = current.manifest if current is not None else {"passages": 0, "tokens": 0}
        manifest = self._manifest(build, documents, base, fresh, gone, meta, index)
        self.meta.put([(f"m/{name}", json.dumps(manifest), 0)])
        if previous is not None and previous["build"] != build:
            self._drop_build(previous)
        infos = {**{k: v for k, v in old.items() if k in keep}, **{d.doc_id: _info(d, counts) for d in documents if d.doc_id not in old}}
        return MilvusCollection(name, manifest, index, self.meta, infos)

    def _put_documents(self, build: str, documents: list[Document], counts: Counter) -> None:
        """A listing row and the document in parts; written before its passages become searchable,
        so a citation never points at a document that is not there yet."""
        rows = []
        for doc in documents:
            parts = _parts(doc)
            rows.append((f"i/{build}/{doc.doc_id}", json.dumps(asdict(_info(doc, counts))), len(parts)))
            rows.extend((f"d/{build}/{doc.doc_id}/{n}", part, len(parts)) for n, part in enumerate(parts))
        self.meta.put(rows)

    def _remove_passages(self, index: MilvusIndex, doc_ids: list[str]) -> list[Passage]:
        """Delete the passages of `doc_ids`; they are returned for the term counts."""
        if not doc_ids:
            return []
        ids = index.ids_where("doc_id", doc_ids)
        gone = [passage_from(json.loads(r["passage"])) for r in index.rows(ids, ["passage"]).values()]
        index.remove(ids)
        return gone

    def _count_terms(self, build: str, added: list[Passage], removed: list[Passage]) -> None:
        """Document frequencies (a passage counts once per term) plus the new minus the removed."""
        delta = Counter(t for p in added for t in _terms(p))
        delta.subtract(t for p in removed for t in _terms(p))
        keys = {f"t/{build}/{t}": d for t, d in delta.items() if d}
        stored = self.meta.get(keys)
        counts = {k: stored.get(k, ("", 0))[1] + d for k, d in keys.items()}
        self.meta.put((k, "", n) for k, n in counts.items() if n > 0)
        self.meta.delete([k for k, n in counts.items() if n <= 0])

    def _manifest(self, build, documents, base: dict, fresh, gone, meta: dict, index: MilvusIndex) -> dict:
        fingerprint = hashlib.sha256("\n".join(sorted(d.sha256 for d in documents)).encode()).hexdigest()
        tokens = sum(len(tokenize(p.searchable)) for p in fresh) - sum(len(tokenize(p.searchable)) for p in gone)
        return {
            "format_version": FORMAT_VERSION,
            "version": f"v{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}",
            "build": build,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "corpus_fingerprint": fingerprint,
            "documents": len(documents),
            "passages": base["passages"] + len(fresh) - len(gone),
            "tokens": base["tokens"] + tokens,  # BM25's average passage length
            **meta,
            "index": index.describe(),
        }

    def drop(self, name: str) -> bool:
        """Delete a collection for good: the manifest goes first (replicas stop seeing it at
        once), then its settings and build. The caller holds `writing(name)`."""
        manifest = self.manifest(name)
        self.meta.delete([f"m/{name}", f"s/{name}"])
        if manifest is not None:
            self._drop_build(manifest)
        return manifest is not None

    @property
    def location(self) -> str:
        return f"Milvus at {self.uri}"

    def _drop_build(self, manifest: dict) -> None:
        """After the manifest points at a new build: the old one's rows and collection go."""
        for kind in "idt":
            self.meta.delete(prefix=f"{kind}/{manifest['build']}/")
        self.client.drop_collection(manifest["index"]["collection"])


def _passage_fields(p: Passage) -> dict:
    encoded = json.dumps(passage_row(p), ensure_ascii=False)
    size = len(encoded.encode())
    if size > VALUE_BYTES:
        raise InvalidInput(f"document {p.doc_id} has a passage of {size} bytes (a long run of text without a sentence "
                           f"end); Milvus stores at most {VALUE_BYTES}")
    return {"doc_id": p.doc_id, "passage": encoded}


def _parts(doc: Document) -> list[str]:
    """The document's JSON cut into VARCHAR-sized parts."""
    text = json.dumps(asdict(doc), ensure_ascii=False)
    return [text[lo : lo + PART_CHARS] for lo in range(0, len(text), PART_CHARS)]


def _info(doc: Document, passages: Counter) -> DocumentInfo:
    return DocumentInfo(doc.doc_id, doc.title, doc.path, doc.sha256, passages[doc.doc_id], len(doc.text), len(_parts(doc)),
                        dict(doc.metadata))


def _terms(p: Passage) -> set[str]:
    return {t for t in tokenize(p.searchable) if len(t) <= MAX_TERM_CHARS}
