"""Store: where collections live (Store and Collection protocols; local and Milvus stores)."""
