"""Key -> value rows in Milvus: the shared table behind Milvus mode's manifests, settings,
documents and term statistics (layout in `qa.store.milvus`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from index.milvus_index import batches

META = "verbatim_meta"
VALUE_BYTES = 65535  # Milvus's largest VARCHAR


class MetaTable:
    """Key -> (text, number) rows in one Milvus collection (Milvus 2.3 wants a vector field in
    every collection: a constant 2-d one, never searched)."""

    def __init__(self, client, name: str = META) -> None:
        self.client, self.name = client, name
        if not client.has_collection(name):
            self._create()
        client.load_collection(name)

    def _create(self) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("value", DataType.VARCHAR, max_length=VALUE_BYTES)
        schema.add_field("num", DataType.INT64)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
        params = self.client.prepare_index_params()
        params.add_index(field_name="vec", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.name, schema=schema, index_params=params, consistency_level="Session")

    def put(self, rows: Iterable[tuple[str, str, int]]) -> None:
        entities = [{"key": k, "value": v, "num": n, "vec": [0.0, 0.0]} for k, v, n in rows]
        for batch in batches(entities, 1000):
            self.client.upsert(self.name, list(batch))

    def get(self, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        for batch in batches(list(keys), 1000):
            rows = self.client.query(self.name, filter=f"key in {json.dumps(list(batch))}", output_fields=["key", "value", "num"])
            found.update({r["key"]: (r["value"], int(r["num"])) for r in rows})
        return found

    def scan(self, prefix: str) -> Iterator[tuple[str, str, int]]:
        """Every row whose key starts with `prefix` (letters, digits and '/' only: '_' is a LIKE wildcard)."""
        rows = self.client.query_iterator(self.name, batch_size=1000, filter=f'key like "{prefix}%"',
                                          output_fields=["key", "value", "num"])
        while page := rows.next():
            yield from ((r["key"], r["value"], int(r["num"])) for r in page)
        rows.close()

    def delete(self, keys: Iterable[str] = (), prefix: str | None = None) -> None:
        """Delete rows by key or prefix, then wait until the deletes are visible (a Strong read:
        Milvus 2.3 does not make a session see its own deletes)."""
        keys = list(keys)
        for batch in batches(keys, 1000):
            self.client.delete(self.name, filter=f"key in {json.dumps(list(batch))}")
        if prefix is not None:
            self.client.delete(self.name, filter=f'key like "{prefix}%"')
        if keys or prefix is not None:
            self.client.query(self.name, filter="", output_fields=["count(*)"], consistency_level="Strong")
