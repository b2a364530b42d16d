"""Milvus backend: the distributed index, for collections that outgrow one machine.

One Milvus collection holds one index: an int64 primary key, the float vector (HNSW, inner
product) and, optionally, VARCHAR attributes stored beside each vector. The attributes are what
make an API process stateless: a search can return the passage itself in the same round trip,
so no replica keeps a copy of the corpus (`search_rows`).

Consistency: reads use `Session` (a client sees its own inserts; the `Strong` level waits for a
time tick, 200-400 ms a search on a standalone server). Milvus 2.3 does not advance the session
timestamp on a delete, so `remove` ends with one `Strong` read: a removal is visible to the
next search, as the contract asks, and only writes pay for it.

`save`/`load` persist a pointer (URI, collection, parameters), never the vectors, and never the
token: the data lives in the Milvus cluster. pymilvus is imported on first use, so the registry
costs nothing where the `[milvus]` extra is not installed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from index.base import DimensionMismatch, as_ids, as_matrix

DEFAULT_URI = "http://127.0.0.1:19530"
HNSW = {"M": 16, "efConstruction": 200}  # Milvus's usual starting point: recall >0.95 at ef 64
EF_SEARCH = 64
INSERT_BATCH = 1000  # rows per insert: ~4 MB with a passage each, far below gRPC's 64 MB limit
QUERY_BATCH = 1000  # ids per `id in [...]` filter
MAX_TOPK = 16384  # Milvus refuses larger limits


def connect(uri: str = DEFAULT_URI, token: str | None = None):
    """A client for the server or cluster proxy at `uri` (`token` is `user:password` or an API key)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise ImportError("the milvus backend needs pymilvus: pip install 'verbatim-qa[milvus]'") from None
    return MilvusClient(uri=uri, token=token or "", timeout=30)


def batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


class MilvusIndex:
    """Inner-product HNSW search in a Milvus collection; attributes (`fields`: name -> VARCHAR
    length) may be stored with each vector. A new index without a collection name gets a fresh,
    empty collection; with a name, the existing collection is opened (its dimension must match)."""

    removes_in_place = True

    def __init__(
        self,
        dim: int,
        *,
        uri: str = DEFAULT_URI,
        token: str | None = None,
        collection: str | None = None,
        fields: dict[str, int] | None = None,
        hnsw: dict | None = None,
        ef: int = EF_SEARCH,
        client=None,
    ) -> None:
        self.dim, self.uri, self.ef = dim, uri, ef
        self.collection = collection or f"verbatim_index_{uuid.uuid4().hex[:12]}"
        self.fields, self.hnsw = dict(fields or {}), {**HNSW, **(hnsw or {})}
        self.client = client or connect(uri, token)
        if self.client.has_collection(self.collection):
            self._check_existing()
        else:
            self._create()

    def _create(self) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for name, length in self.fields.items():
            schema.add_field(name, DataType.VARCHAR, max_length=length)
        params = self.client.prepare_index_params()
        params.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=self.hnsw)
        self.client.create_collection(self.collection, schema=schema, index_params=params, consistency_level="Session")

    def _check_existing(self) -> None:
        """Opening a collection built with other vectors would return nonsense: refuse it."""
        described = self.client.describe_collection(self.collection)
        vector = next(f for f in described["fields"] if f["name"] == "vector")
        if int(vector["params"]["dim"]) != self.dim:
            raise DimensionMismatch(f"Milvus collection {self.collection!r} holds {vector['params']['dim']}-d vectors, not {self.dim}-d")
        index = self.client.describe_index(self.collection, "vector")
        self.hnsw = {k: int(index[k]) for k in HNSW if k in index} or self.hnsw
        self.fields = {f["name"]: int(f["params"]["max_length"]) for f in described["fields"] if f["name"] not in ("id", "vector")}
        self.client.load_collection(self.collection)  # no-op when loaded; a restarted server needs it

    def add(self, ids: np.ndarray, vectors: np.ndarray, rows: Sequence[dict] | None = None) -> None:
        """Insert or replace (`upsert`: a re-added id never duplicates), in batches."""
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors) or (rows is not None and len(rows) != len(ids)):
            raise ValueError("ids, vectors and rows differ in length")
        rows = rows if rows is not None else [{}] * len(ids)
        entities = [{"id": int(i), "vector": v.tolist(), **r} for i, v, r in zip(ids, vectors, rows)]
        for batch in batches(entities, INSERT_BATCH):
            self.client.upsert(self.collection, list(batch))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids, _ = self.search_rows(queries, k, [])
        return scores, ids

    def search_rows(
        self, queries: np.ndarray, k: int, fields: list[str], where: str = ""
    ) -> tuple[np.ndarray, np.ndarray, list[list[dict]]]:
        """`search`, plus the requested attributes of every hit (one round trip); `where` is a
        Milvus boolean expression over the attributes that hits must satisfy."""
        queries = as_matrix(queries, self.dim)
        k = max(min(k, MAX_TOPK), 0)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if k == 0 or len(queries) == 0:
            return scores, ids, [[] for _ in queries]
        params = {"metric_type": "IP", "params": {"ef": max(self.ef, k)}}
        found = self.client.search(self.collection, data=queries.tolist(), limit=k, search_params=params, output_fields=fields,
                                   filter=where)
        rows: list[list[dict]] = []
        for q, hits in enumerate(found):
            for j, hit in enumerate(hits):
                ids[q, j], scores[q, j] = hit["id"], hit["distance"]
            rows.append([{f: hit["entity"][f] for f in fields} for hit in hits])
        return scores, ids, rows

    def rows(self, ids: np.ndarray, fields: list[str]) -> dict[int, dict]:
        """Attributes by id (ids that are not stored are absent)."""
        found: dict[int, dict] = {}
        for batch in batches(as_ids(ids).tolist(), QUERY_BATCH):
            for row in self.client.query(self.collection, filter=f"id in {list(batch)}", output_fields=["id", *fields]):
                found[int(row["id"])] = {f: row[f] for f in fields}
        return found

    def each_row(self, fields: list[str]) -> Iterator[dict]:
        """Every stored row's attributes, read in pages (a whole collection does not fit one query)."""
        pages = self.client.query_iterator(self.collection, batch_size=QUERY_BATCH, filter="", output_fields=fields)
        try:
            while page := pages.next():
                yield from ({f: row[f] for f in fields} for row in page)
        finally:
            pages.close()

    def ids_where(self, field: str, values: Sequence[str]) -> np.ndarray:
        """Ids whose attribute `field` is one of `values` (e.g. all passages of some documents)."""
        found: list[int] = []
        for batch in batches(list(values), QUERY_BATCH):
            rows = self.client.query(self.collection, filter=f"{field} in {json.dumps(list(batch))}", output_fields=["id"])
            found.extend(int(r["id"]) for r in rows)
        return np.asarray(found, dtype=np.int64)

    def remove(self, ids: np.ndarray) -> int:
        """Delete the ids that exist and return how many (Milvus counts the ids it was given)."""
        present = np.fromiter(self.rows(ids, []), dtype=np.int64)
        for batch in batches(present.tolist(), QUERY_BATCH):
            self.client.delete(self.collection, ids=list(batch))
        if len(present):
            self._count(consistency="Strong")  # wait until the deletes are visible (see module doc)
        return len(present)

    def _count(self, consistency: str = "Session") -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"], consistency_level=consistency)
        return int(rows[0]["count(*)"])

    def drop(self) -> None:
        """Delete the collection and its data (tests, and a Verbatim collection deleted for good)."""
        self.client.drop_collection(self.collection)

    def save(self, path: Path) -> None:
        """A pointer to the collection; the vectors stay in Milvus."""
        pointer = {"uri": self.uri, "collection": self.collection, "dim": self.dim, "hnsw": self.hnsw, "ef": self.ef}
        Path(path).write_text(json.dumps(pointer, indent=2))

    @classmethod
    def load(cls, path: Path, token: str | None = None, client=None) -> "MilvusIndex":
        pointer = json.loads(Path(path).read_text())
        return cls(pointer["dim"], uri=pointer["uri"], token=token, collection=pointer["collection"], ef=pointer["ef"], client=client)

    def describe(self) -> dict:
        """What the manifest records: where the vectors are and how they are searched."""
        return {"type": "milvus-hnsw", "collection": self.collection, "metric": "IP", **self.hnsw, "ef": self.ef,
                "consistency": "Session"}

    def __len__(self) -> int:
        return self._count()
