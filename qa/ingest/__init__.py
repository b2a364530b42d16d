"""Ingest: files -> Documents -> Passages with offsets; formats; uploads."""
