"""The packaged sentence-transformers model run by ONNX Runtime instead of torch.

Why: a question is one short forward pass, and through sentence-transformers most of its cost is
Python and torch overhead; importing torch alone takes ~5 s of every cold start. The model is
exported once, with torch, into `<data_dir>/cache/onnx/`; every later process loads the .onnx
file with onnxruntime and `tokenizers` only. Mean pooling and L2 normalisation are done in numpy,
as sentence-transformers' Pooling and Normalize modules do, so fp32 vectors are interchangeable
with the torch ones and existing indexes stay valid.

`int8` quantises the MatMul weights per channel (MODELS.md: onnxruntime's default settings cost
MiniLM quality). Its vectors differ slightly, so it carries its own model name and a collection
built with it is never mixed with fp32 vectors.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa.embed.base import PACKAGED_MODELS, offline
from qa.errors import InvalidInput

log = logging.getLogger("verbatim")

INT8_SUFFIX = "-onnx-int8"
MAX_TOKENS = 256  # the model's sentence_bert_config max_seq_length


def model_name(base: str, quantized: bool) -> str:
    """The name recorded in manifests: fp32 ONNX is the same model as torch, int8 is not."""
    return base + INT8_SUFFIX if quantized else base


class OnnxEncoder:
    """A packaged model through onnxruntime; exports (and quantises) itself on first use."""

    def __init__(
        self, name: str, cache_dir: Path, batch_size: int = 64, threads: int = 2, quantized: bool = False
    ) -> None:
        if name not in PACKAGED_MODELS:
            raise InvalidInput(f"unknown embedding model {name!r}; available: {sorted(PACKAGED_MODELS)}")
        self.base, self.quantized = name, quantized
        self.name, self.dim = model_name(name, quantized), PACKAGED_MODELS[name][1]
        self._cache = Path(cache_dir) / "onnx" / name
        self._batch_size, self._threads = batch_size, threads
        self._session = None
        self._tokenizer = None

    # --- loading ---------------------------------------------------------------------------------

    def model_file(self) -> Path:
        """The .onnx file, exported (and quantised) now if this cache has none yet."""
        fp32 = self._cache / "model.onnx"
        if not fp32.is_file():
            export(PACKAGED_MODELS[self.base][0](), fp32)
        if not self.quantized:
            return fp32
        int8 = self._cache / "model-int8.onnx"
        if not int8.is_file():
            quantize(fp32, int8)
        return int8

    def _load(self):
        if self._session is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            path = self.model_file()
            tokenizer = Tokenizer.from_file(str(PACKAGED_MODELS[self.base][0]() / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self._threads  # the machine's cores; the default spins all
            opts.inter_op_num_threads = 1
            # A question is one short call; spinning threads afterwards would steal the cores the
            # reader's session needs next (measured: /ask +40 ms on 2 cores with spinning on).
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._tokenizer = tokenizer
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        return self._session

    def warm_up(self) -> None:
        self._load()

    # --- encoding --------------------------------------------------------------------------------

    def tokenize(self, texts: list[str]) -> list:
        """Token encodings (exposed so benchmarks can time tokenisation apart from the model)."""
        self._load()
        return self._tokenizer.encode_batch(texts)

    def forward(self, encodings: list) -> np.ndarray:
        """One padded forward pass, mean pooling over real tokens, L2 normalisation."""
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._load().run(["last_hidden_state"], feed)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Batches of similar length (sorted, as sentence-transformers does), so padding is cheap."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenize(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(order), self._batch_size):
            rows = order[lo : lo + self._batch_size]
            out[rows] = self.forward([encodings[i] for i in rows])
        return out


def export(model_dir: Path, target: Path) -> None:
    """Export the transformer (no pooling) to ONNX once; written aside and renamed, so two
    processes starting together never read half a file."""
    offline()
    log.info("exporting the encoder to ONNX once (~10 s), into %s ...", target.parent.resolve())
    import torch
    from transformers import AutoModel

    class _Wrapper(torch.nn.Module):
        """transformers 5.x models want keyword arguments; the exporter passes positional ones."""

        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    with torch.no_grad(), _quiet_export():
        model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
        dummy = torch.ones((2, 8), dtype=torch.int64)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(
            _Wrapper(model), (dummy, dummy, torch.zeros_like(dummy)), str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp, target)
    (target.parent / "source.json").write_text(json.dumps({"model_dir": str(model_dir)}))


@contextmanager
def _quiet_export():
    """Keep the one-off export's noise off the user's terminal: the tracer warns about Python
    branches it freezes (masking_utils' padding check, constant for an encoder with no KV cache)
    and about advanced indexing with negative indices (the attention mask is indexed with
    `arange` values, never negative); the ONNX graph gives torch's vectors for every batch size,
    length and padding (tests/test_embed_onnx.py). transformers' "Loading weights" bar goes too."""
    import torch
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=r".*If indices include negative values", category=UserWarning)
            yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def quantize(fp32: Path, target: Path) -> None:
    """int8 dynamic quantisation of the MatMul weights, per channel (MODELS.md: keeps cosine
    0.993 to fp32, where the default settings drop to 0.949)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    quantize_dynamic(str(fp32), str(tmp), per_channel=True, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    os.replace(tmp, target)
