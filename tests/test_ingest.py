import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.errors import CorruptFile, InvalidInput, UnsupportedFile
from qa.ingest.files import collect_files, parse_document, read_document
from qa.ingest.markup import Block
from qa.ingest.passages import MAX_PASSAGE_CHARS, render, split_passages
from qa.store.rows import passage_from, passage_row
from qa.text import sentence_bounds
from qa.types import Offsets, Passage
from tests.conftest import DATA, SEED_FILE
from tests.scaling import assert_linear


@pytest.fixture(scope="module")
def seed():
    doc = read_document(SEED_FILE)
    return doc, split_passages(doc)


def test_document_text_is_the_file_text(seed):
    doc, _ = seed
    assert doc.text == SEED_FILE.read_text(encoding="utf-8")


def test_every_passage_character_maps_to_the_same_document_character(seed):
    doc, passages = seed
    for p in passages:
        assert len(p.offsets) == len(p.text)
        for char, offset in zip(p.text, p.offsets):
            original = doc.text[offset]
            assert char == original or (char in " \n" and original.isspace()), (p.passage_id, char, original)


def test_spans_round_trip_to_exact_document_words(seed):
    doc, passages = seed
    vidu = next(p for p in passages if "32 seconds" in p.text)
    i = vidu.text.index("up to 32 seconds")
    start, end = vidu.document_span(i, i + len("up to 32 seconds"))
    assert doc.text[start:end] == "up to 32 seconds"


def test_hyphen_scars_are_repaired_in_the_reading_only(seed):
    doc, passages = seed
    text = " ".join(p.text for p in passages)
    assert "decision-makers" in text and "decision- makers" not in text
    assert "text-to-video large AI model" in text
    assert "development is expected" in text  # "develop-" / "ment" across a paragraph break
    assert "Hollywood that the revolutionary" in text
    assert "decision- makers" in doc.text  # the served text is untouched


def test_caption_interrupting_a_paragraph_is_cut_out_and_the_sentence_rejoined(seed):
    _, passages = seed
    text = next(p.text for p in passages if "open market is fostering" in p.text)
    assert "China's more competitive and open market is fostering" in text
    assert "PHOTO" not in text
    captions = [p for p in passages if p.kind == "caption"]
    assert any("Humanoid robots" in p.text for p in captions)
    assert any("Vimi, a large model for controllable generation" in p.text for p in captions)


def test_sections_come_from_markdown_headings(seed):
    _, passages = seed
    vidu = next(p for p in passages if "32 seconds" in p.text)
    assert vidu.section == "New Chinese Text-to-Video AI Model Launched"
    byline = next(p for p in passages if "CEN Yingjie" in p.text)
    assert byline.section == vidu.section
    assert byline.text.startswith("By CEN Yingjie\n")  # the byline stays its own sentence


def test_long_paragraphs_split_at_sentences():
    sentence = "The quick brown fox jumps over the lazy dog again and again. "
    doc = parse_document((sentence * 40).encode(), "long.txt", "long")
    passages = split_passages(doc, max_words=50)
    assert len(passages) > 1
    assert all(len(p.text.split()) <= 50 for p in passages)
    assert all(p.text.endswith(".") for p in passages)


def test_render_joins_line_break_hyphens_and_collapses_space():
    text = "A develop-\nment and decision- makers  here"
    clean, offsets = render(text, [Block(0, len(text))])
    assert clean == "A development and decision-makers here"
    assert [text[o] for o in offsets][:5] == list("A dev")


def test_sentence_bounds():
    text = "First one. Second one? Third"
    assert [text[a:b] for a, b in sentence_bounds(text)] == ["First one.", "Second one?", "Third"]


def test_ids_depend_on_content_and_source():
    a = parse_document(b"hello", "a.txt", "a")
    assert a.doc_id == parse_document(b"hello", "a.txt", "a").doc_id
    assert a.doc_id != parse_document(b"hello!", "a.txt", "a").doc_id
    assert a.doc_id != parse_document(b"hello", "b.txt", "b").doc_id


def test_bad_files_are_refused_with_clear_errors(tmp_path: Path):
    with pytest.raises(CorruptFile, match="not UTF-8"):
        parse_document(b"\xff\xfe\xfa bad", "x.txt", "x")
    exe = tmp_path / "x.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(UnsupportedFile, match="unsupported file type"):
        collect_files([exe])
    with pytest.raises(CorruptFile, match="x.pdf: not a readable PDF"):
        parse_document(b"%PDF", "x.pdf", "x")
    with pytest.raises(InvalidInput, match="no such file"):
        collect_files([tmp_path / "missing"])


def test_collect_files_walks_folders_and_skips_hidden(tmp_path: Path):
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.md").write_text("x")
    (tmp_path / "a.md").write_text("a")
    (tmp_path / "b.bin").write_text("b")
    assert collect_files([tmp_path]) == [tmp_path / "a.md"]
    assert len(collect_files([DATA / "docs"])) == 2


# --- hostile input: bounded passages, and splitting in time linear in the file --------------


def _bounded_and_exact(text: str, max_words: int = 180) -> list:
    doc = parse_document(text.encode(), "/x/hostile.txt", "hostile")
    passages = split_passages(doc, max_words)
    for p in passages:
        assert len(p.text) <= MAX_PASSAGE_CHARS and len(p.text.split()) <= max_words
        assert doc.text[p.start : p.end] == p.text  # single-spaced text: the reading is the text
    return passages


def test_a_one_line_megabyte_without_sentence_ends_is_split_at_words():
    rng = random.Random(0)
    text = " ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(200_000))[:1_000_000]
    passages = _bounded_and_exact(text)
    assert " ".join(p.text for p in passages) == text.strip()


def test_a_word_of_a_megabyte_is_split_at_the_character_bound():
    passages = _bounded_and_exact("x" * 1_000_000)
    assert len(passages) == 1_000_000 // MAX_PASSAGE_CHARS
    passages = _bounded_and_exact("A short start. " + "y" * 5_000 + " and a tail.")
    assert "".join(p.text for p in passages).count("y") == 5_000


@pytest.mark.parametrize(
    "layout, n",
    [
        (lambda n: "ab cd\n\n" * n + "(photo x)\n\nlower text.\n", 1_250),  # short paragraphs before a caption
        (lambda n: "Hello there.\n" + " " * n + "\nMore.\n", 200_000),  # a line of spaces
        (lambda n: "# " + " " * n + "x\ny\n", 100_000),  # a heading mark before spaces
        (lambda n: "".join(f"# H{i}\n\nshort words here\n\n" for i in range(n)), 500),  # many tiny sections
    ],
    ids=["caption-run", "space-line", "heading-spaces", "tiny-sections"],
)
def test_hostile_layouts_split_in_linear_time(layout, n):
    """Each took from 18 s to minutes at 8n before (regexes and scans that were quadratic)."""
    assert_linear(lambda size: split_passages(parse_document(layout(size).encode(), "/x/hostile.txt", "hostile")), n)
@given(st.lists(st.integers(min_value=0, max_value=60), max_size=40))
def test_compact_offsets_behave_as_the_tuple_they_replace(values):
    """Runs instead of one int per character: the same sequence, indexes, slices and stored rows."""
    offsets = Offsets(values)
    assert list(offsets) == values and len(offsets) == len(values) and offsets == tuple(values)
    assert [offsets[i] for i in range(-len(values), len(values))] == values + values if values else True
    assert offsets[2:7] == tuple(values[2:7]) and offsets[::-1] == tuple(values[::-1])
    with pytest.raises(IndexError):
        offsets[len(values)]
    text = "x" * len(values)
    row = passage_row(Passage("p", "d", "", "text", 0, 1, text, tuple(values)))
    assert row["offset_breaks"] == [[i, o] for i, o in enumerate(values) if i == 0 or o != values[i - 1] + 1]
    assert passage_from(row).offsets == offsets


def test_offsets_cost_a_run_per_stretch_not_an_int_per_character(seed):
    _, passages = seed
    assert 50 * sum(len(p.offsets.runs()) for p in passages) < sum(len(p.text) for p in passages)
