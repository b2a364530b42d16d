"""The ONNX encoder: same vectors as sentence-transformers (fp32), its own name for int8."""

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from qa.embed.factory import make_encoder
from qa.embed.onnx_encoder import length_buckets, model_name
from qa.errors import InvalidInput

TEXTS = [
    "Which NFL team represented the AFC at Super Bowl 50?",
    "The Denver Broncos defeated the Carolina Panthers 24-10 to earn their third Super Bowl title.",
    "short",
    "word " * 400,  # longer than the model's 256 tokens: truncated the same way
]


def test_int8_vectors_carry_their_own_model_name():
    assert model_name("all-MiniLM-L6-v2", quantized=False) == "all-MiniLM-L6-v2"
    assert model_name("all-MiniLM-L6-v2", quantized=True) != "all-MiniLM-L6-v2"
    with pytest.raises(InvalidInput):
        make_encoder("tensorflow", "all-MiniLM-L6-v2", Path("."))


@pytest.mark.slow
def test_onnx_fp32_matches_torch(tmp_path, caplog):
    """Exports into the data dir's cache on first use, saying so and warning about nothing;
    vectors interchangeable with torch's."""
    onnx = make_encoder("onnx", "all-MiniLM-L6-v2", tmp_path / "cache")
    torch = make_encoder("torch", "all-MiniLM-L6-v2", tmp_path / "cache")
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO, logger="verbatim"):
        warnings.simplefilter("always")
        a = onnx.encode(TEXTS)
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    assert "exporting the encoder to ONNX once" in caplog.text
    b = torch.encode(TEXTS)
    assert onnx.name == torch.name and a.shape == b.shape == (len(TEXTS), 384)
    assert (a * b).sum(axis=1).min() > 0.999
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (tmp_path / "cache" / "onnx" / "all-MiniLM-L6-v2" / "model.onnx").is_file()
    assert onnx.encode([]).shape == (0, 384)
    # The exporter warns that negative indices would give wrong results: the graph was traced on
    # one (2, 8) batch, so check other batch sizes and no padding too: each text alone (batch of
    # one, unpadded) gives the vector it got in the padded batch of four.
    alone = np.concatenate([onnx.encode([text]) for text in TEXTS])
    assert (alone * a).sum(axis=1).min() > 0.99999


def test_length_buckets_cover_every_row_once_longest_first():
    lengths = [5, 40, 7, 40, 12, 3, 30, 300]
    batches = length_buckets(lengths, 3, 100)
    assert [len(b) for b in batches] == [1, 2, 3, 2]  # 300 alone (over budget), 40+40, 30+12+7, 5+3
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths, reverse=True)  # neighbours in length share a batch: little padding
    assert all(len(b) * lengths[b[0]] <= 100 for b in batches if len(b) > 1)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnx", "onnx-int8"])
def test_bucketed_batches_give_each_text_its_own_vector(tmp_path, runtime):
    """Sorting, bucketing and padding change nothing but float noise: every text's vector is the
    one it gets encoded alone (no padding at all), and it comes back in its own row."""
    texts = [f"{w} " * n + "end." for n, w in [(3, "alpha"), (90, "beta"), (17, "gamma"), (300, "delta"), (1, "eps")] * 7]
    encoder = make_encoder(runtime, "all-MiniLM-L6-v2", Path(os.environ["QA_MODEL_CACHE"]), batch_size=4)
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-4
    assert (together[:5] @ together[:5].T).argmax(axis=1).tolist() == list(range(5))


def test_quantising_logs_no_preprocessing_hint(tmp_path, caplog):
    """onnxruntime's quantiser logs a pre-processing hint on the root logger; a user's first
    `qa index` shows nothing of it."""
    from qa.embed.onnx_encoder import quantize

    cache = Path(os.environ["QA_MODEL_CACHE"])
    make_encoder("onnx", "all-MiniLM-L6-v2", cache).encode(["export once"])
    with caplog.at_level(logging.WARNING):
        quantize(cache / "onnx" / "all-MiniLM-L6-v2" / "model.onnx", tmp_path / "int8.onnx")
    assert (tmp_path / "int8.onnx").is_file()
    assert not [r for r in caplog.records if "quantization" in r.getMessage()]
