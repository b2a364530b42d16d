"""Real files built by the tests: PDFs written by fpdf2, DOCX by python-docx, HTML by hand."""

from __future__ import annotations

import io
import zipfile
import zlib

import docx
from fpdf import FPDF

PDF_PAGES = [
    "Hydropower in Cambodia\n\nThe Lower Sesan 2 dam produces 1,998 gigawatt hours of electricity a year.",
    "Video generation\n\nThe Vidu model can generate videos up to 32 seconds long with a single click.",
]


def pdf(pages: list[str] = PDF_PAGES, title: str | None = None) -> bytes:
    doc = FPDF()
    doc.set_font("Helvetica", size=12)
    if title:
        doc.set_title(title)
    for text in pages:
        doc.add_page()
        doc.multi_cell(0, 8, text)
    return bytes(doc.output())


def scanned_pdf() -> bytes:
    """Pages with drawings but no text layer, as a scanner's output has."""
    doc = FPDF()
    for _ in range(2):
        doc.add_page()
        doc.rect(20, 20, 120, 160, style="F")
    return bytes(doc.output())


def docx_file(sections: dict[str, str] | None = None, title: str = "Annual report") -> bytes:
    sections = sections or {
        "Energy": "The dam produces 1,998 gigawatt hours a year, enough for many homes in the province.",
        "Video": "Vidu generates videos up to 32 seconds long with a single click.",
    }
    document = docx.Document()
    document.add_heading(title, 0)
    for heading, body in sections.items():
        document.add_heading(heading, 1)
        document.add_paragraph(body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html(body: str = "", title: str = "Facts page") -> bytes:
    body = body or (
        "<h1>Energy facts</h1><p>The Lower Sesan 2 dam produces <b>1,998</b> gigawatt hours a year.</p>"
        "<h2>Video</h2><p>Vidu can generate videos up to 32 seconds long with a single click.</p>"
    )
    page = (
        f"<!doctype html><html><head><title>{title}</title><style>p {{ color: red }}</style>"
        "<script>var hidden = 'script text must not be indexed';</script></head>"
        f"<body><nav>Home | About</nav>{body}</body></html>"
    )
    return page.encode()


def zip_bomb_docx(inflated: int) -> bytes:
    """A DOCX-shaped zip whose one part inflates to `inflated` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(inflated // len(chunk)):
                part.write(chunk)
    return out.getvalue()


def pdf_bomb(inflated: int) -> bytes:
    """A one-page PDF whose content stream inflates to `inflated` bytes of spaces."""
    stream = zlib.compress(b" " * inflated, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
