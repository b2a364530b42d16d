"""Real documents (tests/data/realdocs: Sphinx, asciidoc and DocBook manuals, LaTeX PDFs) come
out as clean served text: content without the page furniture, headings as sections, code and
lists line by line; and no answer span crosses a block boundary, in any format."""

import io
import re
from pathlib import Path

import docx
import pytest

from qa.indexer import IndexPlan, IndexProgress, sync_paths
from qa.ingest.files import parse_document, read_document
from qa.ingest.passages import split_passages
from qa.text import clip_span
from tests import makefiles
from tests.conftest import DATA

REAL = DATA / "realdocs" / "docs"
FURNITURE = ("Previous topic", "Next topic", "Table of Contents", "¶", "Show Source", "Report a Bug", "Navigation")
RST = b"""\
:mod:`uuid` --- UUID objects
============================

This module provides immutable :class:`UUID` objects, see :ref:`the notes <notes>`.

.. function:: uuid4()

   Generate a random UUID, and nothing else at all.

Examples
--------

* first item of the list
* second item of the list

.. code-block:: python

   >>> import uuid
   >>> uuid.uuid4()

.. include:: /etc/passwd
"""


def real(name: str):
    return read_document(next(REAL.rglob(name)))


def sections(doc) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in split_passages(doc):
        found[p.section] = found.get(p.section, "") + "\n" + p.text
    return found


@pytest.mark.parametrize("name", ["uuid.html", "git-stash.html", "ch08.en.html", "apa.en.html"])
def test_html_main_content_without_furniture(name):
    doc = real(name)
    assert not [f for f in FURNITURE if f in doc.text]
    assert len(sections(doc)) >= 2


def test_sphinx_headings_code_and_definitions():
    doc = real("uuid.html")
    assert doc.text.startswith("# uuid — UUID objects according to RFC 4122\n")
    assert "\n>>> uuid.uuid4()\nUUID('16fd2706-8baf-433b-82eb-8c7fada847da')\n" in doc.text  # one code line a line
    assert "\n\nuuid.uuid5(namespace, name)\n\n" in doc.text  # a signature is a block of its own
    reading = next(p.text for p in split_passages(doc) if "uuid.uuid4()\nUUID('16fd" in p.text)
    assert "\n>>> # make a UUID using a SHA-1 hash" in reading  # the reading keeps the code's line breaks


def test_docbook_headings_lists_and_no_navigation():
    doc = real("ch08.en.html")
    assert doc.title == "Chapter 8. I18N and L10N"
    assert "## 8.1. The locale" in doc.text and "### 8.1.3. Filename encoding" in doc.text
    assert "- Internationalization (I18N): To make a software potentially handle multiple locales.\n- Localization" in doc.text
    assert "Prev" not in doc.text.split("\n")[0:3]


def test_pdf_running_heads_out_headings_in_and_title():
    doc = real("debian-reference-ch08-i18n.pdf")
    assert doc.title == "Debian Reference" and len(doc.pages) == 6
    assert not re.search(r"Debian ?Reference \d+ ?/ ?233", doc.text)
    assert "## 8.1 The locale" in doc.text and "### 8.1.2 The reconfiguration of the locale" in doc.text
    assert "Multilingualization (M17N) or Native Language Support" in doc.text  # words spaced (pypdf ran them together)
    testflow = real("ieeetran-testflow-doc.pdf")
    assert "1 INTRODUCTION 2" not in testflow.text and "3 TERMINOLOGY 4" not in testflow.text
    assert "# 1 Introduction" in testflow.text


def test_two_column_pdf_reads_column_by_column():
    doc = real("acmart-sample-sigconf.pdf")
    found = sections(doc)
    assert "Libertine" in found["4 TYPEFACES"]
    assert "acmsmall: The default journal template style." in found["2.1 Template Styles"]
    text = doc.text
    assert text.index("# 3 MODIFICATIONS") < text.index("# 4 TYPEFACES") < text.index("# 5 TITLE INFORMATION")
    assert text.index("2.2 Template Parameters") < text.index("# 3 MODIFICATIONS")  # the left column first


def test_restructuredtext_reads_as_what_it_shows():
    doc = parse_document(RST, "guide.rst", "guide")
    assert doc.title == "uuid --- UUID objects"
    assert "## Examples" in doc.text and "- first item of the list\n- second item of the list" in doc.text
    assert "```\n>>> import uuid\n>>> uuid.uuid4()\n```" in doc.text
    assert "immutable UUID objects, see the notes." in doc.text and ":class:" not in doc.text
    assert "uuid4()\n\nGenerate a random UUID" in doc.text
    assert "root:" not in doc.text and "passwd" not in doc.text  # nothing is included from other files


def test_markdown_front_matter_gives_the_title_and_is_not_a_passage():
    page = b"---\ntitle: 'Release notes'\ndate: 2024-01-01\n---\n\nThe release fixes three bugs in the parser.\n"
    doc = parse_document(page, "notes.md", "notes")
    assert doc.title == "Release notes"
    assert [p.text for p in split_passages(doc)] == ["The release fixes three bugs in the parser."]


def test_markdown_code_fences_are_not_headings_and_keep_their_lines():
    page = b"# Setup\n\nRun these commands as root:\n\n```\n# apt-get update\n# apt-get install locales\n```\n"
    doc = parse_document(page, "setup.md", "setup")
    passages = split_passages(doc)
    assert {p.section for p in passages} == {"Setup"}
    assert any("# apt-get update\n# apt-get install locales" in p.text for p in passages)


def _all_formats() -> list:
    word = docx.Document()
    word.add_heading("Prices", 1)
    word.add_paragraph("The table below lists fruit prices at the market this week.")
    table = word.add_table(rows=2, cols=2)
    for r, (fruit, price) in enumerate([("Apples", "3 euros"), ("Pears", "4 euros")]):
        table.cell(r, 0).text, table.cell(r, 1).text = fruit, price
    out = io.BytesIO()
    word.save(out)
    docs = [read_document(p) for p in sorted(REAL.rglob("*.*"))]
    docs += [parse_document(out.getvalue(), "prices.docx", "prices"), parse_document(RST, "guide.rst", "guide")]
    docs += [parse_document(makefiles.pdf(), "report.pdf", "report"), parse_document(makefiles.html(), "facts.html", "facts")]
    docs.append(parse_document(b"# Notes\n\n- one item here\n- another item\n\nA closing line.\n", "n.md", "n"))
    return docs


@pytest.fixture(scope="module")
def every_format():
    return [(doc, split_passages(doc)) for doc in _all_formats()]


def test_spans_never_cross_a_block_and_keep_whole_words(every_format):
    """Every span a reader could propose (here: from word starts, or one letter in, to word ends
    a few words on, across every passage of every format) is clipped to one block and whole
    words, and still maps onto the document's own characters."""
    checked = 0
    for doc, passages in every_format:
        for p in passages:
            starts = [m.start() for m in re.finditer(r"\S+", p.text)]
            ends = [m.end() for m in re.finditer(r"\S+", p.text)]
            for i in range(0, len(starts), 3):
                for j in range(i, min(i + 12, len(ends)), 4):
                    lo, hi = clip_span(p.text, starts[i] + (1 if j % 8 == 0 else 0), ends[j])
                    span = p.text[lo:hi]
                    assert "\n" not in span and " | " not in span, (doc.path, span)
                    assert not (lo > 0 and p.text[lo - 1].isalnum() and span[:1].isalnum()), span
                    assert not (hi < len(p.text) and p.text[hi].isalnum() and span[-1:].isalnum()), span
                    assert all(doc.text[o] == c or c.isspace() for c, o in zip(span, p.offsets[lo:hi]))
                    checked += 1
    assert checked > 5000


def test_hard_breaks_survive_in_the_reading(every_format):
    by_name = {Path(doc.path).name: passages for doc, passages in every_format}
    assert any("Apples | 3 euros\nPears | 4 euros" in p.text for p in by_name["prices.docx"])
    assert any("one item here\n- another item" in p.text for p in by_name["n.md"])


def test_folder_skips_are_reported_one_by_one(tmp_path, docs_dir, encoder):
    (docs_dir / "logo.png").write_bytes(b"\x89PNG\r\n")
    (docs_dir / "data.json").write_text("{}")
    (docs_dir / "empty.md").write_text("\n\n")
    (docs_dir / "scan.pdf").write_bytes(makefiles.scanned_pdf())
    (docs_dir / ".hidden.png").write_bytes(b"x")
    collection, report = sync_paths(tmp_path, "default", [docs_dir], IndexPlan(encoder, "faiss", 180))
    reasons = sorted(report.skipped)
    assert [r.split(":")[0] for r in reasons] == ["data.json", "empty.md", "logo.png", "scan.pdf"]
    assert "unsupported file type (.png)" in reasons[2] and "empty" in reasons[1] and "no text layer" in reasons[3]
    assert len(collection.documents) == 2


def test_progress_shows_files_and_passages_on_a_terminal_only(tmp_path, docs_dir, encoder, capsys):
    with IndexProgress(shown=True) as progress:
        sync_paths(tmp_path, "a", [docs_dir], IndexPlan(encoder, "faiss", 180), progress)
    shown = capsys.readouterr().err
    assert "reading" in shown and "embedding" in shown and "passage/s" in shown
    with IndexProgress(shown=False) as progress:
        sync_paths(tmp_path, "b", [docs_dir], IndexPlan(encoder, "faiss", 180), progress)
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_cited_text_holds_no_navigation_furniture(tmp_path):
    """The real models over a part of the set: every citation is exact and none of the cited
    passages holds page furniture, the page's table of contents or a permalink sign."""
    import json

    from qa.config import Settings
    from qa.service import QAService

    part = tmp_path / "docs"
    part.mkdir()
    for name in ("uuid.html", "secrets.html", "git-stash.html", "ch08.en.html", "debian-reference-ch08-i18n.pdf"):
        (part / name).write_bytes(next(REAL.rglob(name)).read_bytes())
    service = QAService(Settings(data_dir=tmp_path / "data"))
    service.index([part], "realdocs")
    questions = [json.loads(line) for line in (DATA / "realdocs" / "questions.jsonl").read_text().splitlines()]
    asked = [q for q in questions if q["id"].split("-")[1] in ("uuid", "secrets", "stash", "i18n", "deb")]
    assert len(asked) >= 12
    cited = 0
    for q in asked:
        for answer in service.ask(q["question"], 3, "realdocs").answers:
            for source in answer.sources or (answer.source,):
                text = service.document(source.doc_id, "realdocs").text
                assert text[source.start : source.end] == answer.text
                assert "\n" not in answer.text.strip()
                assert not [f for f in FURNITURE if f in source.context], source.context
                cited += 1
    assert cited >= len(asked)


def test_html_lists_tables_and_code_keep_their_shape():
    body = (
        "<main><h1>Guide<a class='headerlink' href='#g'>¶</a></h1>"
        "<p>The installer accepts the options listed below, each with its default value.</p>"
        "<ul><li>first option, on by default<ul><li>a nested detail</li></ul></li><li>second option, off</li></ul>"
        "<table><tr><th>Name</th><th>Default</th></tr><tr><td>width</td><td>70</td></tr></table>"
        "<pre>make all\n\nmake install</pre></main><footer>Copyright notice and links</footer>"
    )
    doc = parse_document(makefiles.html(body, title="Guide"), "guide.html", "guide")
    assert doc.text.startswith("# Guide\n") and "¶" not in doc.text and "Copyright" not in doc.text
    assert "- first option, on by default\n  - a nested detail\n- second option, off" in doc.text
    assert "Name | Default\nwidth | 70" in doc.text
    assert "```\nmake all\n\nmake install\n```" in doc.text


def test_a_span_stops_at_a_block_break_but_not_inside_a_hyphenated_word():
    """clip_span (used on the passage's reading and again on the document's text): a definition
    list's blocks are cut apart, a word the page broke after its hyphen stays whole."""
    listing = "time\n\nthe 60-bit timestamp\n\nclock_seq"
    assert listing[slice(*clip_span(listing, 0, len(listing)))] == "time"
    broken = "Chrum Hydro-Elec-\n\ntric Project (Cambodia) Co., Ltd."
    assert clip_span(broken, 0, len(broken)) == (0, len(broken))
