"""Incremental, idempotent, crash-safe indexing (with the fake encoder)."""

import os

import numpy as np
import pytest

from qa.errors import InvalidInput
from qa.indexer import IndexPlan, sync_paths
from qa.store import local as store
from tests.conftest import HashEncoder


def plan(encoder, **kw) -> IndexPlan:
    return IndexPlan(encoder, kw.get("backend", "faiss"), kw.get("max_words", 180))


def test_second_run_embeds_nothing_and_writes_no_version(tmp_path, docs_dir, encoder):
    first, report = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert report.added == 2 and report.embedded == len(first.passages) > 0
    again, report2 = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert report2.embedded == 0 and report2.unchanged == 2
    assert again.version == first.version


def test_changed_file_replaces_its_passages(tmp_path, docs_dir, encoder):
    first, _ = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    (docs_dir / "hydro.txt").write_text("Hydropower in Cambodia\n\nThe station produced 11 billion KWH.\n")
    second, report = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert report.added == 1 and report.removed == 1 and report.unchanged == 1
    texts = " ".join(p.text for p in second.passages)
    assert "11 billion KWH" in texts and "3,900 days" not in texts
    assert len(second.index) == len(second.passages) == len(second.vectors)


def test_removed_file_is_dropped_from_search(tmp_path, docs_dir, encoder):
    sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    os.remove(docs_dir / "hydro.txt")
    after, report = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert report.removed == 1 and len(after.documents) == 1
    assert all("Stung" not in p.text for p in after.passages)


def test_other_roots_are_kept(tmp_path, docs_dir, encoder):
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("# Note\n\nA separate note about Zhongguancun Forum events.\n")
    sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    both, _ = sync_paths(tmp_path, "default", [other], plan(encoder))
    assert len(both.documents) == 3


def test_model_change_re_embeds_everything(tmp_path, docs_dir, encoder):
    first, _ = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))

    class Other(HashEncoder):
        name = "other-model"

    other = Other()
    second, report = sync_paths(tmp_path, "default", [docs_dir], plan(other))
    assert report.embedded == len(second.passages) and other.texts_encoded == len(second.passages)
    assert second.manifest["model"] == "other-model"
    assert "model changed from test-hash to other-model" in report.reembedded  # said once, plainly
    _, again = sync_paths(tmp_path, "default", [docs_dir], plan(other))
    assert again.embedded == 0 and again.reembedded == ""


def test_a_passage_repeated_across_pages_is_embedded_once(tmp_path, encoder):
    """Navigation and boilerplate on every page: one trip through the model, yet every page keeps
    its own passage, with its own offsets, citing its own document."""
    nav = "Navigation: index, modules, next, previous, Python documentation home page."
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["lists grow by appending", "tuples never change", "sets drop repeats"]):
        (docs / f"page{i}.txt").write_text(f"{nav}\n\nOn this page, {topic} in a sentence long enough to stand alone.\n")
    built, report = sync_paths(tmp_path / "data", "default", [docs], plan(encoder))
    navs = [i for i, p in enumerate(built.passages) if p.text == nav]
    assert len(navs) == 3 and len({built.passages[i].doc_id for i in navs}) == 3
    assert report.duplicates == 2 and report.embedded == len(built.passages) - 2 == encoder.texts_encoded
    assert all(np.array_equal(built.vectors[navs[0]], built.vectors[i]) for i in navs)
    for i in navs:
        p = built.passages[i]
        assert built.document(p.doc_id).text[p.start : p.end] == nav


def test_reload_round_trips(tmp_path, docs_dir, encoder):
    built, _ = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    loaded = store.load(tmp_path, "default")
    assert loaded.version == built.version
    assert [p.offsets for p in loaded.passages] == [p.offsets for p in built.passages]
    assert np.allclose(loaded.vectors, built.vectors)
    assert loaded.manifest["dim"] == encoder.dim and loaded.manifest["corpus_fingerprint"]


def test_crash_mid_write_leaves_previous_version(tmp_path, docs_dir, encoder, monkeypatch):
    first, _ = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    (docs_dir / "new.md").write_text("# New\n\nBrand new facts about pandas.\n")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(store, "write_rows", boom)  # killed while the vectors stream to disk
    with pytest.raises(KeyboardInterrupt):
        sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    monkeypatch.undo()
    survivor = store.load(tmp_path, "default")
    assert survivor.version == first.version and len(survivor.documents) == 2
    resumed, report = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert report.added == 1 and len(resumed.documents) == 3
    leftovers = [p.name for p in (tmp_path / "collections" / "default").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_bad_collection_names_are_refused(tmp_path, docs_dir, encoder):
    for bad in ("../escape", "", "a/b", "x" * 65):
        with pytest.raises(InvalidInput):
            sync_paths(tmp_path, bad, [docs_dir], plan(encoder))


def test_bad_files_in_a_folder_are_reported_and_keep_their_last_version(tmp_path, docs_dir, encoder):
    from qa.errors import CorruptFile
    from tests import makefiles

    (docs_dir / "report.pdf").write_bytes(makefiles.pdf())
    first, _ = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert len(first.documents) == 3
    (docs_dir / "report.pdf").write_bytes(makefiles.scanned_pdf())  # replaced by a scan
    (docs_dir / "broken.docx").write_bytes(b"PK\x03\x04 nope")
    second, report = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert [why.split(":")[0] for why in report.skipped] == ["broken.docx", "report.pdf"]
    assert "no text layer" in report.skipped[1]
    assert {d.doc_id for d in second.documents.values()} == set(first.documents)  # last good version kept
    with pytest.raises(CorruptFile, match="report.pdf"):  # named explicitly: an error, not a skip
        sync_paths(tmp_path, "default", [docs_dir / "report.pdf"], plan(encoder))


def test_an_empty_file_is_skipped_and_reported_even_when_named(tmp_path, docs_dir, encoder):
    (docs_dir / "empty.txt").write_bytes(b"")
    (docs_dir / "blank.md").write_text("  \n\n \t\n")
    _, report = sync_paths(tmp_path, "default", [docs_dir], plan(encoder))
    assert report.documents == 2 and sorted(report.skipped) == [
        "blank.md: no text found in the file", "empty.txt: no text found in the file"]
    _, named = sync_paths(tmp_path, "default", [docs_dir / "empty.txt"], plan(encoder))
    assert named.skipped == ("empty.txt: no text found in the file",) and named.documents == 2
