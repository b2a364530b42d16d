"""A page of an original PDF as a PNG, with a cited span's characters highlighted, so a reader
can check a citation against the page itself (GET /documents/{id}/view).

PDFium (pypdfium2, BSD-3-Clause/Apache-2.0) renders the page and gives each character's box,
which pypdf, the text extractor, does not. The two libraries extract different whitespace and
line breaks, so the span is matched on its non-space characters (NFKC-folded, so a ligature
matches its letters): directly when the page's characters agree, else at the occurrence nearest
its place on the page. A span that cannot be found is reported as such, never guessed at.
PDFium is not thread-safe, so one lock serialises every use of it."""

from __future__ import annotations

import ctypes
import io
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from qa.errors import CorruptFile, NotFound

SCALE = 2.0  # 144 dpi: small print stays legible
MAX_SIDE = 2000  # pixels on a page's longer side, whatever its size in points
PAD = 2  # pixels around the highlighted characters
FILL, OUTLINE = (250, 204, 21, 110), (217, 119, 6, 255)
_PDFIUM = threading.Lock()

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels


@dataclass(frozen=True)
class PageImage:
    """A rendered page; `boxes` are the highlighted rectangles, inside the page's bounds."""

    png: bytes
    width: int
    height: int
    boxes: tuple[Box, ...]
    located: bool  # a span was asked for and found on the page


def render_page(data: bytes, number: int, page_text: str, span: tuple[int, int] | None) -> PageImage:
    """Page `number` (1-based) of the PDF `data`; `span` is a range of `page_text`, the text
    extracted from that page, whose characters are highlighted."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise CorruptFile(f"the original PDF cannot be opened ({exc})") from None
        try:
            if not 1 <= number <= len(pdf):
                raise NotFound(f"the PDF has no page {number} (it has {len(pdf)})")
            page = pdf[number - 1]
            width, height = page.get_size()
            bitmap = page.render(scale=min(SCALE, MAX_SIDE / max(width, height, 1)))
            image = bitmap.to_pil().convert("RGB")
            boxes: list[Box] = []
            if span is not None:
                textpage = page.get_textpage()
                chars = locate(page_text, span, _page_chars(textpage))
                boxes = _rectangles(page, textpage, chars, image.size)
        finally:
            pdf.close()
    return PageImage(_png(image, boxes), image.width, image.height, tuple(boxes), bool(boxes))


def _page_chars(textpage) -> list[str]:
    import pypdfium2.raw as raw

    return [chr(raw.FPDFText_GetUnicode(textpage.raw, i) or 0xFFFD) for i in range(textpage.count_chars())]


def locate(page_text: str, span: tuple[int, int], pdf_chars: list[str]) -> list[int]:
    """Indices of the PDF's characters that spell `page_text[span[0]:span[1]]`, or [] if they
    cannot be found."""
    ours, our_at = _folded(enumerate(page_text))
    theirs, their_at = _folded(enumerate(pdf_chars))
    inside = [k for k, i in enumerate(our_at) if span[0] <= i < span[1]]
    if not inside:
        return []
    lo, hi = inside[0], inside[-1] + 1
    if ours == theirs:
        return sorted(set(their_at[lo:hi]))
    needle, found, at = ours[lo:hi], [], theirs.find(ours[lo:hi])
    while at >= 0:
        found.append(at)
        at = theirs.find(needle, at + 1)
    if not found:
        return []
    expected = lo * len(theirs) / max(len(ours), 1)
    best = min(found, key=lambda k: abs(k - expected))
    return sorted(set(their_at[best : best + len(needle)]))


def _folded(chars: Iterable[tuple[int, str]]) -> tuple[str, list[int]]:
    """The non-space characters, NFKC-folded, and where each came from."""
    out, where = [], []
    for index, ch in chars:
        for c in unicodedata.normalize("NFKC", ch):
            if not c.isspace():
                out.append(c)
                where.append(index)
    return "".join(out), where


def _rectangles(page, textpage, chars: list[int], size: tuple[int, int]) -> list[Box]:
    """One rectangle per run of characters on a line, in pixels, clipped to the page."""
    rects: list[list[int]] = []
    for index in chars:
        box = _device_box(page, textpage, index, size)
        if box is None:
            continue
        last = rects[-1] if rects else None
        if last and _same_line(last, box) and box[0] >= last[0] - PAD:
            last[:] = [min(last[0], box[0]), min(last[1], box[1]), max(last[2], box[2]), max(last[3], box[3])]
        else:
            rects.append(list(box))
    width, height = size
    clipped = [(max(0, l - PAD), max(0, t - PAD), min(width - 1, r + PAD), min(height - 1, b + PAD)) for l, t, r, b in rects]
    return [c for c in clipped if c[0] < c[2] and c[1] < c[3]]


def _same_line(a: list[int], b: Box) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(a[3] - a[1], b[3] - b[1])


def _device_box(page, textpage, index: int, size: tuple[int, int]) -> Box | None:
    """A character's box in the rendered bitmap's pixels. PDFium's own page-to-device mapping
    is used, so rotated pages and offset crop boxes land where the renderer drew them."""
    import pypdfium2.raw as raw

    left, bottom, right, top = textpage.get_charbox(index)
    if right <= left or top <= bottom:
        return None  # generated characters (spaces, line ends) have no box
    corners = [_to_device(raw, page, size, x, y) for x, y in ((left, top), (right, bottom))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _to_device(raw, page, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    dx, dy = ctypes.c_int(), ctypes.c_int()
    raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
    return dx.value, dy.value


def _png(image, boxes: list[Box]) -> bytes:
    from PIL import Image, ImageDraw

    if boxes:
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for box in boxes:
            draw.rectangle(box, fill=FILL, outline=OUTLINE, width=2)
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
