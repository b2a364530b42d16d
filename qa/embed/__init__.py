"""Embed: texts -> unit vectors (the Encoder protocol, torch and ONNX encoders, Ray fan-out)."""
