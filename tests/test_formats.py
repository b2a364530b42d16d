"""HTML, PDF and DOCX become served text with sections (and PDF pages); bad files say why."""

import io
import time
import zipfile

import docx
import pytest

from qa.errors import CorruptFile
from qa.ingest.files import parse_document
from qa.ingest.formats import MAX_UNZIPPED_BYTES, extract_docx
from qa.ingest.passages import split_passages
from tests import makefiles


def sections(doc) -> dict[str, str]:
    return {p.section: p.text for p in split_passages(doc)}


def test_html_visible_text_with_headings_as_sections():
    doc = parse_document(makefiles.html(), "facts.html", "facts")
    assert doc.title == "Facts page"
    assert "script text" not in doc.text and "color: red" not in doc.text
    found = sections(doc)
    assert "1,998 gigawatt hours" in found["Energy facts"]
    assert "32 seconds" in found["Video"]


def test_html_entities_whitespace_and_charset():
    body = "<p>Fish &amp; chips\n   cost   &pound;5 in caf\u00e9s.</p>".encode("latin-1", "xmlcharrefreplace")
    latin = b'<html><head><meta charset="iso-8859-1"></head><body>' + body + b"<p>R\xe9sum\xe9 here.</p></body></html>"
    doc = parse_document(latin, "menu.htm", "menu")
    assert "Fish & chips cost \u00a35 in caf\u00e9s." in doc.text and "R\u00e9sum\u00e9" in doc.text
    with pytest.raises(CorruptFile, match="bad.html: not UTF-8"):
        parse_document(b"<p>caf\xe9</p>", "bad.html", "bad")


def test_pdf_keeps_pages_and_offsets():
    doc = parse_document(makefiles.pdf(), "report.pdf", "report")
    assert len(doc.pages) == 2
    at = doc.text.index("32 seconds")
    assert doc.page_at(at) == 2 and doc.page_at(doc.text.index("1,998")) == 1
    # every character belongs to exactly one page, pages in order
    assert doc.pages[0][0] == 0 and doc.pages[-1][1] == len(doc.text)
    assert all(a[1] == b[0] for a, b in zip(doc.pages, doc.pages[1:]))
    for p in split_passages(doc):
        assert all(doc.text[o] == c or c.isspace() for c, o in zip(p.text, p.offsets))


def test_scanned_pdf_is_reported_not_skipped():
    with pytest.raises(CorruptFile, match="scan.pdf: the PDF has no text layer"):
        parse_document(makefiles.scanned_pdf(), "scan.pdf", "scan")


@pytest.mark.parametrize("data", [b"%PDF-1.7\n garbage", b"", b"not a pdf at all", makefiles.pdf()[:200]])
def test_corrupt_pdf_names_the_file(data):
    with pytest.raises(CorruptFile, match="broken.pdf"):
        parse_document(data, "broken.pdf", "broken")


def test_docx_headings_become_sections():
    doc = parse_document(makefiles.docx_file(), "annual.docx", "annual")
    assert doc.title == "Annual report"
    found = sections(doc)
    assert "1,998 gigawatt hours" in found["Energy"] and "32 seconds" in found["Video"]
    assert doc.pages == ()


def test_corrupt_docx_names_the_file():
    for data in (b"PK\x03\x04 truncated", b"plain text", _zip({"hello.txt": b"not a docx"})):
        with pytest.raises(CorruptFile, match="broken.docx: not a readable DOCX"):
            parse_document(data, "broken.docx", "broken")


def test_zip_bomb_docx_is_refused_before_inflating():
    bomb = makefiles.zip_bomb_docx(8 << 20)
    assert len(bomb) < 100_000
    with pytest.raises(CorruptFile, match="over the 4194304-byte limit"):
        extract_docx(bomb, "bomb.docx", max_unzipped=4 << 20)
    assert MAX_UNZIPPED_BYTES >= 16 << 20  # real documents with images stay well under the default


def test_pdf_decompression_bomb_is_refused_quickly():
    """A stream that inflates to 100 MB of nothing is refused (no text layer) in seconds."""
    bomb = makefiles.pdf_bomb(100 << 20)
    assert len(bomb) < 400_000
    started = time.perf_counter()
    with pytest.raises(CorruptFile, match="bomb.pdf"):
        parse_document(bomb, "bomb.pdf", "bomb")
    assert time.perf_counter() - started < 10


def test_docx_entity_expansion_is_not_performed():
    """A billion-laughs document.xml: python-docx's parser does not resolve entities."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = _replace_part(makefiles.docx_file(), "word/document.xml", laughs.encode())
    try:
        doc = parse_document(data, "laughs.docx", "laughs")
    except CorruptFile as exc:
        assert "laughs.docx" in exc.message
    else:
        assert "lollollol" not in doc.text


def test_text_formats_unchanged():
    doc = parse_document(b"# Title\n\nBody text here.\n", "a.md", "a")
    assert doc.text == "# Title\n\nBody text here.\n" and doc.pages == ()


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _replace_part(docx_bytes: bytes, name: str, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as archive:
        parts = {i.filename: archive.read(i.filename) for i in archive.infolist()}
    parts[name] = data
    return _zip(parts)


def test_docx_tables_are_read_in_place():
    document = docx.Document()
    document.add_paragraph("The table below lists fruit prices at the market this week.")
    table = document.add_table(rows=2, cols=2)
    for r, (fruit, price) in enumerate([("Apples", "3 euros"), ("Pears", "4 euros")]):
        table.cell(r, 0).text, table.cell(r, 1).text = fruit, price
    document.add_paragraph("A closing paragraph after the table, long enough to stand alone.")
    out = io.BytesIO()
    document.save(out)
    text = parse_document(out.getvalue(), "prices.docx", "prices").text
    assert text.index("this week.") < text.index("Apples | 3 euros\nPears | 4 euros") < text.index("A closing")


def test_html_unclosed_head_and_svg_titles():
    page = b"<html><head><title>Real title</title><body><svg><title>icon</title></svg><h1>Heading</h1><p>Body words.</p>"
    doc = parse_document(page, "sloppy.html", "sloppy")
    assert doc.title == "Real title" and "icon" not in doc.text and "Body words." in doc.text
