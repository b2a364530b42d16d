"""Main-content extraction on real manual pages: which library keeps the content and drops the
furniture? (issue 15; the figures are in RESULTS.md)

For each HTML page of tests/data/realdocs/docs, the gold is the page's main element picked by
hand per generator (Sphinx `div.body`, asciidoc `#header` + `#content`, DocBook `div.chapter` /
`div.appendix` without its table of contents). Each extractor's text is scored on:
- content kept: share of the gold's words (as a multiset) found in the output;
- furniture out: share of the output's words that belong to the gold (1 - noise);
- headings kept: share of the gold's h1-h6 found as a line of the output;
- code lines kept: share of the gold's <pre> blocks whose every line is a line of the output.

    PYTHONPATH=. python benchmarks/html_extractors.py
(readability-lxml is not a dependency: `pip install readability-lxml==0.9` to include it.)
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "realdocs" / "docs"
GOLD = "//div[@role='main'] | //div[@id='header'] | //div[@id='content'] | //div[@class='chapter'] | //div[@class='appendix']"


def words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text.lower()))


def gold(page: bytes):
    root = lxml.html.document_fromstring(page)
    for junk in root.xpath("//div[@class='toc'] | //a[@class='headerlink'] | //script | //style"):
        junk.drop_tree()
    parts = root.xpath(GOLD)
    heads = [" ".join(h.text_content().split()) for p in parts for h in p.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6")]
    code = [[ln.strip() for ln in pre.text_content().split("\n") if ln.strip()] for p in parts for pre in p.xpath(".//pre")]
    return words(" ".join(p.text_content() for p in parts)), heads, code


def ours(page: bytes) -> str:
    from qa.ingest.html import extract_html

    return extract_html(page, "page").text


def trafilatura_markdown(page: bytes) -> str:
    import trafilatura

    return trafilatura.extract(page.decode("utf-8"), output_format="markdown", include_tables=True, favor_recall=True) or ""


def readability(page: bytes) -> str:
    from readability import Document

    html = Document(page.decode("utf-8")).summary(html_partial=True)
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    blocks = root.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6|.//p|.//li|.//pre|.//dt|.//dd|.//tr")
    return "\n".join(b.text_content() if b.tag == "pre" else " ".join(b.text_content().split()) for b in blocks)


def justext_paragraphs(page: bytes) -> str:
    import justext

    kept = [p for p in justext.justext(page, justext.get_stoplist("English")) if not p.is_boilerplate]
    return "\n".join(p.text for p in kept)


def score(text: str, want: Counter, heads: list[str], code: list[list[str]]) -> dict[str, float]:
    got = words(text)
    lines = {" ".join(ln.split()).lstrip("#-0123456789. ").strip() for ln in text.split("\n")}
    lines |= {" ".join(ln.split()) for ln in text.split("\n")}
    shared = sum((got & want).values())
    return {
        "content": shared / max(sum(want.values()), 1),
        "clean": shared / max(sum(got.values()), 1),
        "headings": sum(any(h in ln or ln.endswith(h) for ln in lines if ln) for h in heads) / max(len(heads), 1),
        "code": sum(all(" ".join(c.split()) in lines for c in block) for block in code) / max(len(code), 1),
    }


def main() -> None:
    methods = {"verbatim (trafilatura tree)": ours, "trafilatura markdown": trafilatura_markdown,
               "readability-lxml": readability, "jusText": justext_paragraphs}
    pages = sorted(ROOT.rglob("*.html"))
    print(f"{len(pages)} pages: " + ", ".join(p.name for p in pages))
    print(f"{'method':28} {'content':>8} {'clean':>8} {'headings':>9} {'code':>6} {'ms/page':>8}")
    for name, method in methods.items():
        totals, seconds = Counter(), 0.0
        try:
            for path in pages:
                page = path.read_bytes()
                started = time.perf_counter()
                text = method(page)
                seconds += time.perf_counter() - started
                totals.update(score(text, *gold(page)))
        except ImportError as exc:
            print(f"{name:28} (not installed: {exc.name})")
            continue
        n = len(pages)
        print(f"{name:28} {totals['content'] / n:8.3f} {totals['clean'] / n:8.3f} {totals['headings'] / n:9.3f} "
              f"{totals['code'] / n:6.3f} {1000 * seconds / n:8.0f}")


if __name__ == "__main__":
    main()
