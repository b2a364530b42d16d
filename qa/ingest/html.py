"""HTML -> the served text of a page's main content, in the Markdown-like form of `qa.ingest.markup`.

Which part of a page is content is decided by trafilatura (the extractor Haystack 2.x uses): on
real manuals (Sphinx, asciidoc, DocBook) it drops sidebars, navigation bars, "Previous topic"
links and footers and keeps the headings, where readability-lxml lost headings and the chapter
introductions and jusText keeps no structure at all (benchmarks/html_extractors.py, RESULTS.md).
Its own text output loses what reference pages are made of, so its element tree is rendered here:
headings stay headings (without "¶" permalinks), list items and table rows one line each, and
code blocks fenced, line by line."""

from __future__ import annotations

import functools
import re

from qa.errors import CorruptFile
from qa.ingest.markup import Extracted, blocks_to_text, code_block, heading, one_line, paragraph

# Anchors that only link a heading to itself: Sphinx's "¶", MkDocs' and GitHub's "#"/"🔗".
_PERMALINK_TEXT = {"¶", "#", "§", "🔗"}
_PERMALINK_CLASS = re.compile(r"headerlink|anchor|permalink", re.IGNORECASE)
_INLINE = {"hi", "ref", "del", "span", "abbr", "sub", "sup"}


def extract_html(data: bytes, name: str) -> Extracted:
    import lxml.html
    import trafilatura
    from lxml.etree import ParserError

    page = _decode_html(data, name)
    try:  # bytes, so that an XHTML page's own encoding declaration is no obstacle
        root = lxml.html.document_fromstring(page.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (ParserError, ValueError):
        return Extracted("", None)
    title = _page_title(root)
    _prepare(root)
    found = trafilatura.bare_extraction(
        root, include_tables=True, include_comments=False, include_links=False, include_images=False,
        include_formatting=False, favor_recall=True, with_metadata=True, deduplicate=False, config=_config(),
    )
    if found is None or found.body is None:
        return Extracted("", title)
    blocks: list[str] = []
    _render(found.body, blocks)
    return Extracted(blocks_to_text(blocks), title or (one_line(found.title or "") or None))


@functools.cache
def _config():
    """trafilatura's settings, but a short page is extracted like a long one (by default, under
    250 characters it falls back to taking all text, navigation included), and no timer signal
    (uploads are parsed in worker threads)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def _page_title(root) -> str | None:
    """The page's own <title> (not an inline SVG's)."""
    titles = root.xpath("/html/head/title | /html/title")
    return one_line(titles[0].text_content()) or None if titles else None


def _prepare(root) -> None:
    """What the extractor needs to see a manual page as it reads: no permalinks or tables of
    contents, the main part marked, code as code."""
    _drop_permalinks(root)
    for toc in root.xpath("//*[@class or @id]"):  # a page's own table of contents repeats its headings
        if {"toc", "table-of-contents"} & set(f"{toc.get('class', '')} {toc.get('id', '')}".lower().split()):
            toc.drop_tree()
    _mark_main(root)
    _pre_as_code(root)


def _drop_permalinks(root) -> None:
    """Permalink anchors go; link targets without an href (`<a id=...>`, which an XHTML page may
    close as `<a/>`, so that it wraps a whole heading, then read as a link and dropped) are
    unwrapped."""
    for anchor in root.xpath("//a"):
        text = anchor.text_content().strip()
        if text in _PERMALINK_TEXT or (not text and _PERMALINK_CLASS.search(anchor.get("class") or "")):
            anchor.drop_tree()
        elif anchor.get("href") is None:
            anchor.drop_tag()


def _pre_as_code(root) -> None:
    """Each <pre> as <pre><code> with its line breaks as <br>: the extractor keeps that as code
    line by line, where it reads a bare <pre> as a quote and collapses its whitespace."""
    for pre in root.xpath("//pre"):
        lines = pre.text_content().split("\n")
        for child in list(pre):
            pre.remove(child)
        code = pre.makeelement("code", {})
        pre.text, code.text = None, lines[0]
        for line in lines[1:]:
            br = code.makeelement("br", {})
            br.tail = line
            code.append(br)
        pre.append(code)


def _mark_main(root) -> None:
    """A page that marks no main part (DocBook's chapters) has its body marked <main>: the
    extractor then prunes navigation and link lists inside it as usual, where otherwise it
    would fall back to collecting loose paragraphs and drop every heading. Its own guesses
    (an `article`, a `content` class) still come first."""
    body = root.find("body")
    if body is None or root.xpath("//main | //article | //*[@role='main']"):
        return
    main = body.makeelement("main", {})
    main.text, body.text = body.text, None
    for child in list(body):
        main.append(child)
    body.append(main)


def _render(element, blocks: list[str]) -> None:
    """Append the blocks of `element`'s children (trafilatura's XML: head, p, list/item,
    table/row/cell, code, quote); loose text between them is a paragraph of its own."""
    pending: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag in _INLINE or (tag == "code" and not _is_code_block(child)) or tag == "lb":
            pending.append(_inline_text(child) if tag != "lb" else " ")
            pending.append(child.tail or "")
            continue
        _flush(pending, blocks)
        if tag == "head":
            blocks.append(heading(_level(child), _inline_text(child)))
        elif tag == "p":
            blocks.append(paragraph(_inline_text(child)))
        elif tag == "list":
            _render_list(child, blocks)
        elif tag == "table":
            blocks.append("\n".join(_rows(child)))
        elif tag == "code":
            blocks.append(code_block(_code_text(child)))
        elif tag != "graphic":
            _render(child, blocks)  # quote, div, item contents, anything else: its blocks
        pending = [child.tail or ""]
    _flush(pending, blocks)


def _flush(pending: list[str], blocks: list[str]) -> None:
    text = one_line("".join(pending))
    if text:
        blocks.append(paragraph(text))
    pending.clear()


def _render_list(element, blocks: list[str]) -> None:
    """A bulleted or numbered list is one block, an item a line; a definition list's terms are
    paragraphs of their own (an API signature, an option) followed by their definitions."""
    kind = element.get("rend") or "ul"
    if kind == "dl":
        for item in element:
            if (item.get("rend") or "").startswith("dt"):
                blocks.append(paragraph(_inline_text(item)))
            else:
                _render(item, blocks)
        return
    lines: list[str] = []
    for number, item in enumerate((i for i in element if i.tag == "item"), 1):
        _list_item(item, f"{number}." if kind == "ol" else "-", 0, lines, blocks)
    if lines:
        blocks.append("\n".join(lines))


def _list_item(item, marker: str, depth: int, lines: list[str], blocks: list[str]) -> None:
    """The item's own words on its line; nested lists indented below it; a code block or table
    inside an item ends the list block there and stands as a block of its own."""
    words: list[str] = [item.text or ""]
    for child in item:
        if child.tag == "list" and child.get("rend") != "dl":
            inner: list[str] = []
            for n, sub in enumerate((i for i in child if i.tag == "item"), 1):
                _list_item(sub, f"{n}." if child.get("rend") == "ol" else "-", depth + 1, inner, blocks)
            _add_item(lines, marker, depth, words)
            lines.extend(inner)
            words, marker = [], ""
        elif child.tag in ("code", "table") and (child.tag == "table" or _is_code_block(child)):
            _add_item(lines, marker, depth, words)
            if lines:
                blocks.append("\n".join(lines))
                lines.clear()
            blocks.append(code_block(_code_text(child)) if child.tag == "code" else "\n".join(_rows(child)))
            words, marker = [], ""
        else:
            words.append(_inline_text(child))
        words.append(child.tail or "")
    _add_item(lines, marker, depth, words)


def _add_item(lines: list[str], marker: str, depth: int, words: list[str]) -> None:
    text = one_line(" ".join(words))
    if text:
        lines.append("  " * depth + (f"{marker} {text}" if marker else f"  {text}"))


def _rows(table) -> list[str]:
    """One line per row, cells joined by ' | ' as the DOCX reader writes them."""
    rows = []
    for row in table.iter("row"):
        cells = [c for c in (_inline_text(cell) for cell in row if cell.tag == "cell") if c]
        if cells:
            rows.append(paragraph(" | ".join(cells)))
    return rows


def _is_code_block(code) -> bool:
    """A <code> is a block when it holds line breaks or stands alone; else it is inline code."""
    if code.find("lb") is not None:
        return True
    parent = code.getparent()
    return parent is not None and parent.tag not in ("p", "head", "cell", "hi", "ref") and not (parent.text or "").strip()


def _code_text(code) -> str:
    return _text(code, "\n")


def _inline_text(element) -> str:
    """An element's words on one line; a line break inside it (<lb/>) is a space."""
    return one_line(_text(element, " "))


def _text(element, line_break: str) -> str:
    """All text under `element`, with `line_break` for each <lb/> at any depth."""
    parts: list[str] = []

    def walk(node) -> None:
        parts.append(line_break if node.tag == "lb" else node.text or "")
        for child in node:
            walk(child)
            parts.append(child.tail or "")

    walk(element)
    return "".join(parts)


def _level(head) -> int:
    rend = head.get("rend") or "h2"
    return int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2


def _decode_html(data: bytes, name: str) -> str:
    """UTF-8, or the charset the page declares; anything else is refused with its reason."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = re.search(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", data[:4096], re.IGNORECASE)
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
        raise CorruptFile(f"{name}: not UTF-8 and no usable charset declared ({exc.reason} at byte {exc.start})") from None
