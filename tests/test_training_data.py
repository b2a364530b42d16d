"""The reader's hard distractors (training/squad_utils.HardNegatives): the neighbouring paragraph
that looks most like the question's own must be chosen, and never one that holds the answer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

import squad_utils as su  # noqa: E402

GOLD = "The Normans conquered England in 1066 under William the Conqueror."
NEAR = "William the Conqueror was crowned in London; the Normans built castles across England."
HAS_ANSWER = "In 1066 the Normans won at Hastings."
FAR = "Norman architecture is known for its round arches."


def example(qid: str, context: str, answers: list[str], title: str = "Normans") -> su.Example:
    starts = [context.find(a) for a in answers]
    return su.Example(qid, "When did the Normans conquer England under William?", context, answers, starts, title)


def corpus() -> list[su.Example]:
    return [
        example("q1", GOLD, ["1066"]),
        example("q2", NEAR, ["London"]),
        example("q3", HAS_ANSWER, ["Hastings"]),
        example("q4", FAR, ["round arches"]),
        example("q5", "William the Conqueror and the Normans in England.", ["Normans"], title="Other article"),
    ]


def test_picks_the_most_similar_paragraph_of_the_same_article_without_the_answer() -> None:
    hn = su.HardNegatives(corpus())
    # NEAR shares the most question words; HAS_ANSWER contains "1066"; q5's paragraph is another article.
    assert hn.pick(corpus()[0]) == NEAR


def test_none_when_the_article_has_no_other_paragraph() -> None:
    examples = corpus()
    assert su.HardNegatives(examples).pick(examples[4]) is None


def test_distractors_are_unanswerable_copies_of_a_share_of_the_questions() -> None:
    examples = corpus()
    hn = su.HardNegatives(examples)
    every = hn.distractors(examples, 1.0, seed=0)
    assert {d.qid for d in every} == {"q1-distractor", "q2-distractor", "q3-distractor", "q4-distractor"}
    for d in every:
        original = next(e for e in examples if f"{e.qid}-distractor" == d.qid)
        assert d.answers == [] and d.question == original.question
        assert d.context != original.context
        assert all(a.lower() not in d.context.lower() for a in original.answers)
    assert hn.distractors(examples, 0.0, seed=0) == []
