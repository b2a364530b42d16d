"""Run inside the Haystack venv (benchmarks/out/haystack-venv) by haystack_peer.py; not on its own.

Haystack 2.x's documented extractive pipeline: InMemoryDocumentStore, SentenceTransformers
document/text embedders with the same MiniLM folder Verbatim uses, InMemoryEmbeddingRetriever
(top_k = Verbatim's retrieve_k) and ExtractiveReader with Verbatim's reader weights (rebuilt as a
transformers model by reader_to_hf.py). Reads the input JSON, writes predictions and timings.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")


def main(spec_path: str, out_path: str) -> None:
    import torch
    from haystack import Document, Pipeline
    from haystack.components.embedders import SentenceTransformersDocumentEmbedder, SentenceTransformersTextEmbedder
    from haystack.components.readers import ExtractiveReader
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    spec = json.load(open(spec_path))
    torch.set_num_threads(spec["threads"])
    store = InMemoryDocumentStore()
    doc_embedder = SentenceTransformersDocumentEmbedder(model=spec["embedder"], batch_size=64, normalize_embeddings=True, progress_bar=False)
    doc_embedder.warm_up()
    started = time.perf_counter()
    docs = doc_embedder.run([Document(content=p) for p in spec["paragraphs"]])["documents"]
    store.write_documents(docs)
    index_s = time.perf_counter() - started

    pipe = Pipeline()
    pipe.add_component("embedder", SentenceTransformersTextEmbedder(model=spec["embedder"], normalize_embeddings=True, progress_bar=False))
    pipe.add_component("retriever", InMemoryEmbeddingRetriever(store, top_k=spec["retrieve_k"]))
    pipe.add_component("reader", ExtractiveReader(model=spec["reader"], top_k=spec["top_k"], max_seq_length=384, stride=128))
    pipe.connect("embedder.embedding", "retriever.query_embedding")
    pipe.connect("retriever.documents", "reader.documents")
    pipe.warm_up()
    for q in spec["questions"][:3]:
        pipe.run({"embedder": {"text": q["question"]}, "reader": {"query": q["question"]}})
    predictions = []
    for q in spec["questions"]:
        t0 = time.perf_counter()
        out = pipe.run({"embedder": {"text": q["question"]}, "reader": {"query": q["question"]}})
        ms = (time.perf_counter() - t0) * 1000
        spans = [a for a in out["reader"]["answers"] if a.data]  # the no-answer entry has data=None
        predictions.append({"id": q["id"], "text": spans[0].data if spans else None, "ms": ms})
    import haystack

    json.dump({"haystack_version": haystack.__version__, "torch": torch.__version__, "index_s": index_s,
               "passages": len(docs), "predictions": predictions}, open(out_path, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:3])
