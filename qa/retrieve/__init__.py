"""Retrieve: question -> ranked passages (dense + BM25 fusion, its Milvus variant, re-ranking)."""
