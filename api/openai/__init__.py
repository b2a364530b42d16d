"""The OpenAI-compatible /v1 surface: schemas, error shape, rendering, routes."""
