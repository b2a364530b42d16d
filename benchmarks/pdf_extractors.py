"""PDF text layers on real LaTeX PDFs: which library gives words with their spaces, and how fast?
(issue 15; the figures are in RESULTS.md)

For the PDFs of tests/data/realdocs/docs/pdf (dblatex/xdvipdfmx, pdfTeX one- and two-column),
each library's plain page text is scored on:
- run-together: share of alphabetic tokens of 20+ letters (words whose spaces were lost);
- sentences found: of a few sentences picked by hand from the rendered pages, how many appear
  (whitespace-normalised) in the text;
- ms per page.

    PYTHONPATH=. python benchmarks/pdf_extractors.py
(pypdf and pdfplumber are not dependencies: `pip install pypdf==7.1.1 pdfplumber==0.11.10` to include them.)
"""

from __future__ import annotations

import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "realdocs" / "docs" / "pdf"
SENTENCES = [
    "Multilingualization (M17N) or Native Language Support for an application software is done in 2 steps.",
    "The locales-all package comes with all locale data pre-compiled",
    "Unicode character set can represent practically all characters known to human",
    "The “acmart” document class requires the use of the “Libertine” typeface family.",
    "Journals use one of three template styles.",
    "Testflow.tex is based on Rainer Schoepf’s testpage.tex",
    "PDF is not a programming language as it lacks PostScript’s conditional branching ability.",
]


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def pdfplumber_pages(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def pdfium_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


def verbatim_pages(path: Path) -> list[str]:
    from qa.ingest.pdf import extract_pdf

    extracted = extract_pdf(path.read_bytes(), path.name)
    return [extracted.text[a:b] for a, b in extracted.pages]


def main() -> None:
    methods = {"pypdf": pypdf_pages, "pdfplumber": pdfplumber_pages, "pypdfium2 (raw)": pdfium_pages,
               "verbatim (pypdfium2 + layout)": verbatim_pages}
    paths = sorted(ROOT.glob("*.pdf"))
    print(f"{'library':30} {'run-together':>12} {'sentences':>10} {'ms/page':>8}")
    for name, method in methods.items():
        try:
            started, pages = time.perf_counter(), [p for path in paths for p in method(path)]
        except ImportError as exc:
            print(f"{name:30} (not installed: {exc.name})")
            continue
        seconds = time.perf_counter() - started
        text = " ".join(" ".join(pages).replace("\ufffe", "-").split())
        tokens = re.findall(r"[A-Za-z]+", text)
        long = sum(len(t) >= 20 for t in tokens) / max(len(tokens), 1)
        found = sum(" ".join(s.split()) in text for s in SENTENCES)
        print(f"{name:30} {100 * long:11.2f}% {found:>6}/{len(SENTENCES)} {1000 * seconds / len(pages):8.1f}")


if __name__ == "__main__":
    main()
