"""Follow-up questions without a language model: turn the last message of a chat into a question
that stands on its own, using the earlier turns.

An extractive reader answers the question it is given, and retrieval finds passages by the
question's words, so "Who developed it?" finds nothing about Vidu: neither "it" nor any other
word names the topic. Appending the whole history to the query would bring the topic back, but
also the previous question's words, and the reader would happily answer the previous question
again. So the approach is *substitution*, the classical way dialogue systems resolve reference:

1. **Pronouns** ("it", "its", "they", "their", "he", "his", "she", "her", "this", "that"): the
   pronoun is replaced by its antecedent, taken from the previous (already resolved) user
   question and the assistant's answer to it. Personal pronouns prefer the previous answer when
   it is a name ("Who edited the column?" "GONG Qian." "What else did she write?"); the others
   prefer the answer when the previous question asked "which/what <thing>" and the answer is a
   name ("Which consultancy ...?" "Trivium China." "Where is it based?"), and otherwise the
   previous question's topic, its first proper-noun phrase ("How long can Vidu videos be?" ...
   "Who developed it?" -> "Who developed Vidu?"). Possessives keep their "'s".
2. **Ellipsis** ("What about Japan?", "And the Republic of Korea?", "Japan?"): the previous
   question is repeated with its last proper-noun phrase replaced by the new one ("How many
   inventions did India file?" -> "How many inventions did Japan file?").
3. **Fallback**: a follow-up that neither rule can resolve (no name to substitute) is expanded
   with the previous question, which at least brings retrieval back to the topic.

A message with no pronoun and no ellipsis is used as it is, so a change of topic is never
rewritten. Retrieval, though, also gets the conversation's first question and the previous one
(`Rewrite.search`): on dialogues nobody here wrote, most follow-ups neither name their topic nor
point to it with a pronoun ("Can I use either when cooking?"), and searched alone they find
their conversation's passage first 61 % of the time, with the earlier questions 94 % (DoQA
cooking dev, benchmarks/RESULTS.md). The reader still reads the question alone, so it answers
this question, not the previous one. Earlier user turns are resolved first, in order, so a
chain of follow-ups keeps its topic. Proper-noun phrases are found by capitalisation (runs of
capitalised words, joined by "of", "and", "&"; a few capitalised terms such as "AI" or "CEO" are
not names), which is fast, deterministic and needs no model; the price is that a lower-case
topic ("the hydropower station") is not found, and then rule 3 applies. How much this helps is
measured by `benchmarks/followups.py` over `tests/data/followups.jsonl` (see the README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal, Sequence

from qa.errors import InvalidInput

Role = Literal["user", "assistant"]

PERSONAL = {"he": "", "him": "", "his": "'s", "she": "", "hers": "'s"}
IMPERSONAL = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "theirs": "'s"}
# "her" and "this"/"that" need context: see `_pronoun_at`.
_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|this|that)\b", re.I)
# The opening of an elliptical follow-up; what follows it is the new name (see `_elided`).
_ELLIPSIS_LEAD = re.compile(r"(?:(?:and|but|so)\s+)?(?:(?:what|how)\s+about\s+|and\s+)", re.I)
_TRAILING = " \t\n\r\f\v?!"
# Caps on what `rewrite` reads, so its time stays bounded whatever a client sends: a message as
# long as the HTTP schemas allow, and a whole conversation of a few dozen such turns.
MAX_MESSAGE_CHARS = 10_000
MAX_CONVERSATION_CHARS = 50_000
_LEADING_PREP = re.compile(r"^(?:in|for|at|of|on|from|by|with)\s+", re.I)
_WORD = re.compile(r"[\w][\w'’&.-]*")
_CONNECTORS = {"of", "and", "&", "de", "for"}
_NOT_NAMES = frozenset(
    "how what which who whom whose when where why is are was were do does did can could will would "
    "should has have had the a an and but so in on at of for to by with from i you we it its they "
    "he she this that these those there".split()
)
# Capitalised, but terms rather than names: "generative AI" is not a topic to substitute.
_TERMS = frozenset("ai genai agi ceo cto cfo gdp tv phd api id ok pdf faq".split())
_AUX_AFTER = frozenset("is was are were has have had does did do mean means meant cost costs".split())


@dataclass(frozen=True)
class Turn:
    """One chat message. The widget sends the page's history as a list of these."""

    role: Role
    content: str


@dataclass(frozen=True)
class Rewrite:
    """What the service asks instead of the raw last message, and why."""

    message: str  # the last user message, as sent
    query: str  # the question retrieval and the reader use
    rule: Literal["none", "pronoun", "ellipsis", "expand"]
    antecedent: str | None = None  # the words substituted in, when a rule fired
    context: str = ""  # the conversation's first and previous user questions (resolved), for retrieval

    @property
    def search(self) -> str:
        """What retrieval searches with: the question, then the earlier questions that keep a
        follow-up on its conversation's topic (see the module docstring)."""
        return f"{self.query} {self.context}" if self.context else self.query


def rewrite(turns: Sequence[Turn]) -> Rewrite:
    """Resolve the last user message against the earlier turns (see the module docstring)."""
    if not turns or turns[-1].role != "user":
        raise InvalidInput("the last message must be the user's question")
    check_length([turn.content for turn in turns])
    previous: tuple[str, str] | None = None  # (resolved question, answer) of the last exchange
    asked: list[str] = []  # the user's questions, resolved
    result = Rewrite(turns[0].content, turns[0].content, "none")
    for i, turn in enumerate(turns):
        if turn.role != "user":
            continue
        result = resolve(turn.content, previous)
        answer = turns[i + 1].content if i + 1 < len(turns) and turns[i + 1].role == "assistant" else ""
        previous = (result.query, answer)
        asked.append(result.query)
    earlier = asked[:-1]
    return replace(result, context=" ".join(dict.fromkeys(earlier[:1] + earlier[-1:])))


def check_length(messages: Sequence[str]) -> None:
    """Refuse a conversation over the caps (`MAX_MESSAGE_CHARS`, `MAX_CONVERSATION_CHARS`); HTTP
    routes call it on every message as sent, `rewrite` on the turns it reads."""
    for i, text in enumerate(messages):
        if len(text) > MAX_MESSAGE_CHARS:
            raise InvalidInput(f"message {i} is longer than {MAX_MESSAGE_CHARS} characters")
    total = sum(map(len, messages))
    if total > MAX_CONVERSATION_CHARS:
        raise InvalidInput(f"the conversation is {total} characters long; the limit is {MAX_CONVERSATION_CHARS}")


def resolve(message: str, previous: tuple[str, str] | None) -> Rewrite:
    """One step: `message` against the previous (resolved question, answer), if any."""
    message = message.strip()
    if previous is None:
        return Rewrite(message, message, "none")
    question, answer = previous
    elided = _elided(message) or _bare_name(message)
    new = _LEADING_PREP.sub("", elided).strip() if elided else ""
    if new.endswith(".") and not re.search(r"\b[A-Z]\.$", new):
        new = new[:-1].rstrip()  # a full stop, not the end of "U.S."
    if _is_fragment(new):
        return _resolve_ellipsis(message, new, question)
    found = _pronoun_at(message)
    if found is None:
        return Rewrite(message, message, "none")
    start, end, word = found
    personal = word in PERSONAL or word == "her"
    antecedent = _antecedent(question, answer, personal, demonstrative=word in ("this", "that"))
    if antecedent is None:
        return _expand(message, question)
    suffix = PERSONAL.get(word, IMPERSONAL.get(word, ""))
    if word == "her" and _next_word(message, end) not in _AUX_AFTER | {""}:
        suffix = "'s"  # "her book" is possessive; "ask her" is not
    return Rewrite(message, message[:start] + antecedent + suffix + message[end:], "pronoun", antecedent)


def proper_phrases(text: str) -> list[str]:
    """Runs of capitalised words ("Republic of Korea", "Shengshu Technology"), in order."""
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
    phrases: list[str] = []
    run: list[tuple[str, int, int]] = []

    def close() -> None:
        while run and run[-1][0].lower() in _CONNECTORS | {"the"}:
            run.pop()
        if run:
            phrases.append(text[run[0][1] : run[-1][2]].rstrip(".?!"))
        run.clear()

    for word, start, end in words:
        if _is_name_word(word):
            run.append((word, start, end))
        elif run and (word.lower() in _CONNECTORS or (word.lower() == "the" and run[-1][0].lower() == "of")):
            run.append((word, start, end))  # "Republic of Korea", "Voice of the World"
        else:
            close()
    close()
    return phrases


def _is_name_word(word: str) -> bool:
    return word[0].isupper() and word.lower() not in _NOT_NAMES and word.lower() not in _TERMS


def _is_name(text: str) -> bool:
    """A short answer that is all one proper-noun phrase: "Trivium China", "GONG Qian"."""
    phrases = proper_phrases(text)
    return len(phrases) == 1 and len(phrases[0]) >= len(text.strip().rstrip(".")) - 4 and len(text.split()) <= 8


def _asks_for_a_thing(question: str) -> bool:
    """ "Which consultancy ...?", "What model ...?": the answer becomes the new topic."""
    return re.match(r"^\s*(which|what)\s+(?!(is|are|was|were|do|does|did|can|could|will|would|has|have|had)\b)\w+", question, re.I) is not None


def _antecedent(question: str, answer: str, personal: bool, demonstrative: bool = False) -> str | None:
    """What a pronoun in the next message most likely refers to (see the module docstring)."""
    answer = answer.strip().rstrip(".")
    if demonstrative and answer:
        return answer  # "What does that mean?" asks about what was just said
    answer_is_name = bool(answer) and _is_name(answer)
    phrases = proper_phrases(question)
    if personal:
        if answer_is_name and len(answer.split()) >= 2:
            return answer  # "Who ...?" "Zhu Jun." "What did he say?"; one word is rarely a person
        if re.match(r"^\s*who\b", question, re.I):
            return None  # the person asked about is not in the question: expand instead
        people = [p for p in phrases if len(p.split()) >= 2]
        return (people or phrases or [None])[-1]
    if answer_is_name and _asks_for_a_thing(question):
        return answer
    return phrases[0] if phrases else None


def _pronoun_at(message: str) -> tuple[int, int, str] | None:
    """The first referring pronoun. "this"/"that" only refer when they stand alone ("What does that
    mean?"), not as a determiner or conjunction ("that year", "say that ...")."""
    for m in _PRONOUN.finditer(message):
        word = m.group(1).lower()
        if word in ("this", "that"):
            following = _next_word(message, m.end())
            if following not in _AUX_AFTER | {""}:
                continue
        return m.start(), m.end(), word
    return None


def _next_word(text: str, at: int) -> str:
    m = _WORD.search(text, at)
    return m.group().lower() if m else ""


def _is_fragment(text: str) -> bool:
    """ "the Republic of Korea", not "who developed it" (which is a question of its own)."""
    words = text.split()
    return 0 < len(words) <= 6 and words[0].lower() not in _NOT_NAMES - {"the", "a", "an"}


def _elided(message: str) -> str | None:
    """ "And the Republic of Korea?" -> "the Republic of Korea". Only the opening is a regex; the
    trailing "?!" and spaces are stripped by `rstrip`, because a lazy `.+?` before a pattern for them
    backtracks quadratically on a long run of " ?"."""
    lead = _ELLIPSIS_LEAD.match(message)
    rest = message[lead.end() :].rstrip(_TRAILING) if lead else ""
    return rest if rest and "\n" not in rest else None


def _bare_name(message: str) -> str | None:
    """ "Japan?" alone: a name and nothing else is an elliptical follow-up."""
    stripped = message.strip().rstrip("?.! ")
    if stripped and proper_phrases(stripped) == [stripped] and len(stripped.split()) <= 5:
        return stripped
    return None


def _resolve_ellipsis(message: str, new: str, question: str) -> Rewrite:
    """Repeat the previous question about the new name."""
    phrases = proper_phrases(question)
    if not phrases or not new:
        return _expand(message, question)
    old = phrases[-1]
    at = question.rfind(old)
    return Rewrite(message, question[:at] + new + question[at + len(old) :], "ellipsis", new)


def _expand(message: str, question: str) -> Rewrite:
    """No name to substitute: add the previous question so retrieval finds the topic again."""
    return Rewrite(message, f"{message.rstrip()} {question}".strip(), "expand")
