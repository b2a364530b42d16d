"""reStructuredText -> served text in the form of `qa.ingest.markup`, parsed by docutils.

The markup itself (``literal``, `:func:` roles, directive syntax) would otherwise be indexed and
cited. Sphinx sources use directives and roles docutils does not know (`.. function::`,
`:ref:`); they are read as what they show: a directive's arguments (a signature) as a paragraph
followed by its content, a role as its text. Nothing is included from other files and no raw
HTML passes (`file_insertion_enabled`, `raw_enabled` off), and parse problems are not reported
into the text."""

from __future__ import annotations

import functools
import re

from qa.errors import CorruptFile
from qa.ingest.markup import Extracted, blocks_to_text, code_block, heading, one_line, paragraph

_SETTINGS = {
    "report_level": 5, "halt_level": 5, "file_insertion_enabled": False, "raw_enabled": False,
    "warning_stream": False, "input_encoding": "unicode", "doctitle_xform": False,
}
_ROLE_TARGET = re.compile(r"\s*<[^<>]*>$")


def extract_rst(data: bytes, name: str) -> Extracted:
    from docutils.core import publish_doctree

    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    _accept_unknown_markup()
    try:
        tree = publish_doctree(source, settings_overrides=_SETTINGS)
    except Exception as exc:  # docutils raises its own types on broken markup
        raise CorruptFile(f"{name}: not readable reStructuredText ({type(exc).__name__})") from None
    blocks: list[str] = []
    _render(tree, blocks, 0)
    title = next((one_line(b.lstrip("#")) for b in blocks if b.startswith("#")), None)
    return Extracted(blocks_to_text(blocks), title)


def _render(node, blocks: list[str], depth: int) -> None:
    from docutils import nodes

    for child in node.children:
        if isinstance(child, nodes.section):
            _render(child, blocks, depth + 1)
        elif isinstance(child, nodes.title):
            blocks.append(heading(max(depth, 1), one_line(child.astext())))
        elif isinstance(child, (nodes.literal_block, nodes.doctest_block)):
            blocks.append(code_block(child.astext()))
        elif isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
            blocks.append(_list(child))
        elif isinstance(child, nodes.table):
            blocks.append("\n".join(_rows(child)))
        elif isinstance(child, (nodes.term, nodes.paragraph, nodes.rubric, nodes.line_block)):
            blocks.append(paragraph(one_line(child.astext())))
        elif isinstance(child, (nodes.system_message, nodes.comment, nodes.substitution_definition, nodes.target)):
            continue
        elif isinstance(child, nodes.Element):
            _render(child, blocks, depth)


def _list(node) -> str:
    from docutils import nodes

    ordered = isinstance(node, nodes.enumerated_list)
    return "\n".join(
        f"{f'{i}.' if ordered else '-'} {one_line(item.astext())}" for i, item in enumerate(node.children, 1)
    )


def _rows(table) -> list[str]:
    from docutils import nodes

    return [
        paragraph(" | ".join(one_line(entry.astext()) for entry in row.children))
        for row in table.findall(nodes.row)
    ]


def _accept_unknown_markup() -> None:
    """Make docutils read Sphinx's (and any) unknown directives and roles as their content."""
    from docutils.parsers.rst import directives, roles

    if getattr(directives.directive, "_verbatim", False):
        return
    known_directive, known_role = directives.directive, roles.role

    def directive(name, language, document):
        found, messages = known_directive(name, language, document)
        return (found or _AnyDirective(), messages)

    def role(name, language, lineno, reporter):
        found, messages = known_role(name, language, lineno, reporter)
        return (found or _any_role, messages)

    directive._verbatim = True
    directives.directive, roles.role = directive, role


def _any_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    from docutils import nodes

    return [nodes.literal(rawtext, _ROLE_TARGET.sub("", text).lstrip("~!"))], []


class _AnyOptions(dict):
    """Every option is allowed and kept as text."""

    def __bool__(self) -> bool:
        return True

    def __missing__(self, key):
        from docutils.parsers.rst import directives

        return directives.unchanged


@functools.cache
def _AnyDirective():  # noqa: N802 - a class made once, when docutils is first needed
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class AnyDirective(Directive):
        optional_arguments = 20
        final_argument_whitespace = True
        has_content = True
        option_spec = _AnyOptions()

        def run(self):
            out = [nodes.paragraph(text=" ".join(self.arguments))] if self.arguments else []
            if self.content:
                box = nodes.container()
                self.state.nested_parse(self.content, self.content_offset, box)
                out.append(box)
            return out

    return AnyDirective
