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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa.embed.base import INT8_SUFFIX, PACKAGED_MODELS, offline
from qa.errors import InvalidInput

log = logging.getLogger("verbatim")

# The model's own sentence_bert_config max_seq_length. Not lowered to save work: a shorter limit
# would change the vectors of long passages (benchmarks/RESULTS.md, ingest: 1% of SQuAD and 30% of
# SciFact passages of 180 words exceed it, so it already truncates; the padding is what is cut).
MAX_TOKENS = 256
# Texts tokenised at a time: the tokenizer keeps strings and offsets for every token of every text
# it is given, so a 100k-passage corpus tokenised at once would cost gigabytes. Sorting within a
# chunk this size leaves batches as evenly filled as sorting the whole corpus.
CHUNK = 1024
TOKENS_PER_BATCH = 1024  # padded tokens per forward pass (see `length_buckets`)


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
            # fp32 spreads each pass over the machine's cores (the default would spin all); int8
            # runs each pass on one core and as many passes side by side as there are cores
            # (`encode`): measured on 2 cores, 1.7x the passages/s, and a question alone takes
            # 1.7 ms on one thread against 2.5 ms on two.
            opts.intra_op_num_threads = 1 if self.quantized else self._threads
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
        """Vectors in the order of `texts`, computed chunk by chunk in batches of similar length.
        int8 runs one text per pass, `threads` passes side by side: its activations are quantised
        with one scale per pass, so batch-mates (and padding) would change each other's vectors
        (measured: up to 0.025 per component), where a text alone always gets the same one."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows, side_by_side = (1, self._threads) if self.quantized else (self._batch_size, 1)
        with ThreadPoolExecutor(side_by_side) as pool:  # onnxruntime lets go of the GIL while it runs
            for lo in range(0, len(texts), CHUNK):
                encodings = self.tokenize(texts[lo : lo + CHUNK])
                batches = length_buckets([len(e.ids) for e in encodings], rows, TOKENS_PER_BATCH)
                run = map if len(batches) == 1 else pool.map  # a lone question needs no thread hop
                vectors = run(lambda batch: self.forward([encodings[i] for i in batch]), batches)
                for batch, rows_out in zip(batches, vectors):
                    out[lo + batch] = rows_out
        return out


def length_buckets(lengths: list[int], rows: int, tokens: int) -> list[np.ndarray]:
    """Row indexes cut into batches after sorting by length, longest first: a batch takes texts
    while it stays within `rows` texts and `tokens` padded tokens, so it is padded only to its own
    longest text (within a few tokens of its shortest) and stays small enough to run in cache
    (measured on 2 cores: batches of 64 long passages ran at 2/3 the speed of single passages;
    questions still gain from batching). The caller writes each batch's vectors back to these
    rows, so the output keeps the input order."""
    order = np.argsort([-n for n in lengths], kind="stable")
    batches, lo = [], 0
    while lo < len(order):
        size = max(1, min(rows, tokens // max(lengths[order[lo]], 1)))
        batches.append(order[lo : lo + size])
        lo += size
    return batches


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
    hint = _DropLogged("pre-processing before quantization")  # a hint for image models, logged on the root logger
    logging.getLogger().addFilter(hint)
    try:
        quantize_dynamic(str(fp32), str(tmp), per_channel=True, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    finally:
        logging.getLogger().removeFilter(hint)
    os.replace(tmp, target)


class _DropLogged(logging.Filter):
    """Drops log records that contain `text`: onnxruntime's quantiser advises a shape
    pre-processing pass (`WARNING:root:Please consider to run pre-processing...`) on the user's
    first `qa index`; per-channel MatMul int8 was measured without it (MODELS.md)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()
