"""Between a Verbatim `Result` and the OpenAI chat shapes: the text of `content`, the model names,
the history handed to the follow-up resolver, and the stream's chunks. Pure functions, no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict

from qa.conversation import Turn
from qa.types import Answer, Citation, Result

MODEL = "verbatim"
ABSTAINED = "The documents do not answer this question."
SOURCES = "Sources:"
CLOSEST = "Closest passages (none of them answers it):"
SNIPPET_CHARS = 200


def model_name(collection: str, default: str) -> str:
    """`verbatim` for the default collection, `verbatim:NAME` for the others."""
    return MODEL if collection == default else f"{MODEL}:{collection}"


def collection_of(model: str, default: str) -> str | None:
    """The collection a model name points at, or None when it is not one of ours. Whether the
    collection exists is the caller's question (it needs the data directory)."""
    prefix, sep, name = model.strip().partition(":")
    if prefix != MODEL:
        return None
    if not sep:
        return default
    return name or None


def turns_from(messages: list[tuple[str, str]]) -> list[Turn] | None:
    """The conversation up to its last user message, as the follow-up resolver takes it; None when
    there is no user message. System, developer and tool turns carry no question or answer to
    resolve against and are left out. Our own earlier replies are cut back to the bare answer, so
    "Who developed it?" substitutes from "up to 32 seconds", not from a list of sources."""
    last_user = max((i for i, (role, _) in enumerate(messages) if role == "user"), default=None)
    if last_user is None:
        return None
    turns = []
    for role, text in messages[: last_user + 1]:
        if role == "user":
            turns.append(Turn("user", text))
        elif role == "assistant":
            turns.append(Turn("assistant", answer_in(text)))
    return turns


def answer_in(content: str) -> str:
    """The answer inside a reply `render` wrote ("" for an abstention); other text unchanged."""
    if content.startswith(ABSTAINED):
        return ""
    head = content.split(f"\n\n{SOURCES}", 1)[0].rstrip()
    return _without_markers(head).strip()


def _without_markers(text: str) -> str:
    """`text` less its trailing source markers ("... seconds [1] [2]"). A loop, not a regex: a
    regex for "markers at the end" is tried at every position of a long run of spaces or
    markers, which takes time quadratic in a client-sent message's length."""
    while text.endswith("]"):
        opening = text.rfind("[")
        if opening < 0 or not text[opening + 1 : -1].isdecimal():
            break
        text = text[:opening].rstrip()
    return text


def render(result: Result) -> tuple[str, list[Citation]]:
    """`content` and the citations it numbers. An answer cites its source as [1]; an abstention
    says so plainly, then lists the closest passages so the reader can look for themselves."""
    if result.answer is not None:
        best = result.answers[0]
        return f"{best.text} [1]\n\n{SOURCES}\n{_source_line(1, best.source)}", [best.source]
    closest = _distinct_passages(result.answers)
    if not closest:
        return f"{ABSTAINED} No passage came close.", []
    lines = [f'{_source_line(i, c)}: "{snippet(c.context)}"' for i, c in enumerate(closest, 1)]
    return "\n\n".join([ABSTAINED, CLOSEST + "\n" + "\n".join(lines)]), closest


def _source_line(number: int, c: Citation) -> str:
    where = c.title if not c.section or c.section == c.title else f"{c.title} — {c.section}"
    return f"[{number}] {where}" + (f", p. {c.page}" if c.page else "")


def _distinct_passages(answers: tuple[Answer, ...]) -> list[Citation]:
    """Weak candidates often share a passage; list each passage once, best first."""
    seen: dict[str, Citation] = {}
    for a in answers:
        seen.setdefault(a.source.passage_id, a.source)
    return list(seen.values())


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The passage's opening words, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def citation_dict(c: Citation) -> dict:
    return asdict(c)


# --- streaming ---------------------------------------------------------------------------------


def pieces(content: str) -> list[str]:
    """Word-sized deltas whose concatenation is exactly `content` (whitespace included)."""
    return re.findall(r"\s*\S+", content) + ([tail] if (tail := content[len(content.rstrip()) :]) else [])


def chunk(base: dict, delta: dict, finish: str | None = None, **extra) -> dict:
    return {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}


def stream_events(base: dict, content: str, extras: dict, usage: dict | None) -> Iterator[str]:
    """The SSE lines of one answer: a first chunk with the role (and the citations, so a client can
    show them at once), the content in word-sized deltas, a last chunk with finish_reason "stop",
    the usage chunk when asked for, and `[DONE]`."""
    events = [chunk(base, {"role": "assistant", "content": ""}, **extras)]
    events += [chunk(base, {"content": piece}) for piece in pieces(content)]
    events.append(chunk(base, {}, "stop"))
    if usage is not None:
        events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    for event in events:
        yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
