"""The reader's training mix beyond SQuAD (issue 16), built here on the CPU into one compact file
that travels to the GPU machine (`--out .carry/mix/mix.json.gz`, a few MB gzipped).

Sources, all from `../shared/train/` (never from `../shared/eval/`: `training_path` refuses any
path with an `eval` folder in it, and any path outside the training folder):

| name | file | what it brings |
| --- | --- | --- |
| squad | squad-v2.0-style-train.json (minus the dev-overlap paragraphs) | a *replay* sample, so a continued fine-tune does not forget SQuAD |
| doqa | more/doqa-cooking-train.json (+ conversations) | dialogue questions on forum answers, 28 % unanswerable |
| subjqa | more/subjqa-train.json | opinion questions on reviews, 39 % unanswerable |
| tydiqa | more/tydiqa-goldp-english-train.json | questions written before seeing the passage |
| doc2dial | more/doc2dial-valsplit-train.json (+ conversations) | dialogues on government help pages, long answers |

Choices:
- **Dialogue turns** (DoQA, doc2dial) are trained as the product will ask them (`--dialogue
  rewrite`, the default): the conversations file gives each turn's earlier turns, with their gold
  answers as the assistant messages (`qa.eval.data.load_conversations`, the same history `qa eval`
  sends), and `qa.conversation.rewrite` turns them into the query `/chat` would read. `--dialogue
  bare` keeps the turn as written. Which is better is for the device run to measure.
- **Hard distractors** (`squad_utils.HardNegatives`, as the shipped release) for a share of every
  source's answerable questions: the question over its article's most question-like other
  paragraph, labelled unanswerable. Chosen among all the source's paragraphs, not the sample's.
- **Unanswerable repeat** applies to the SQuAD replay only: SQuAD's train file has half the
  official share of unanswerable questions (the second release's reason for repeating them);
  DoQA and SubjQA keep their own share.
- The file stores each context once (examples point at it), with per-source counts in `meta`.

    python training/reader_mix.py --train-dir ../shared/train --out .carry/mix/mix.json.gz \\
        --take squad=20000 --distractors 0.5 --unanswerable-repeat 2 --dialogue rewrite
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

TRAINING = Path(__file__).resolve().parent
ROOT = TRAINING.parent
sys.path.insert(0, str(TRAINING))
sys.path.insert(0, str(ROOT))

import squad_utils as su  # noqa: E402


@dataclass(frozen=True)
class Source:
    squad: str  # SQuAD 2.0 JSON, relative to the training folder
    conversations: str | None = None  # the same questions as dialogues, turns in order
    overlap: str | None = None  # paragraphs to drop (decontamination against a dev set)


SOURCES = {
    "squad": Source("squad-v2.0-style-train.json", overlap="squad-v1.1-train.dev-overlap.json"),
    "doqa": Source("more/doqa-cooking-train.json", "more/doqa-cooking-train-conversations.jsonl"),
    "subjqa": Source("more/subjqa-train.json"),
    "tydiqa": Source("more/tydiqa-goldp-english-train.json"),
    "doc2dial": Source("more/doc2dial-valsplit-train.json", "more/doc2dial-valsplit-train-conversations.jsonl"),
}
DEFAULT_TAKE = {"squad": 20000}  # the others: all of them


def training_path(train_dir: Path, relative: str) -> Path:
    """A file of the training folder; never one under an `eval` folder, never one outside."""
    root = Path(train_dir).resolve()
    path = (root / relative).resolve()
    if "eval" in path.parts or root not in path.parents:
        raise ValueError(f"{path}: not a training file (the mix reads only {root}, never an eval folder)")
    return path


def load_source(name: str, train_dir: Path, dialogue: str) -> tuple[list[su.Example], int]:
    """Every example of one source, tagged with its name, and how many turns a rewrite changed."""
    source = SOURCES[name]
    exclude = su.load_overlap(training_path(train_dir, source.overlap)) if source.overlap else set()
    examples = su.load_examples(training_path(train_dir, source.squad), exclude)
    queries = rewritten_queries(training_path(train_dir, source.conversations)) if source.conversations and dialogue == "rewrite" else {}
    changed = 0
    for ex in examples:
        ex.source = name
        if queries.get(ex.qid, ex.question) != ex.question:
            ex.turn, ex.question = ex.question, queries[ex.qid]
            changed += 1
    return examples, changed


def rewritten_queries(conversations: Path) -> dict[str, str]:
    """Each turn's query as `/chat` would read it, after its earlier turns with their gold answers."""
    from qa.conversation import Turn, rewrite
    from qa.eval.data import load

    return {q.qid: rewrite([Turn(r, c) for r, c in q.history] + [Turn("user", q.question)]).query
            for q in load(conversations).questions}


def hold_out(examples: list[su.Example], n: int, seed: int) -> tuple[list[su.Example], list[su.Example]]:
    """(kept, held out): whole articles drawn at random until they hold >= n questions, so no
    held-out paragraph or dialogue is ever trained on. The held-out questions calibrate the new
    reader's score on its new domains: a calibration fit on questions the reader was trained on
    would learn its overconfidence there."""
    titles = sorted({e.title for e in examples})
    random.Random(seed).shuffle(titles)
    chosen: set[str] = set()
    held = 0
    per_title = collections.Counter(e.title for e in examples)
    for title in titles:
        if held >= n:
            break
        chosen.add(title)
        held += per_title[title]
    return [e for e in examples if e.title not in chosen], [e for e in examples if e.title in chosen]


def write_squad(path: Path, examples: list[su.Example]) -> None:
    """SQuAD 2.0 JSON (what `qa eval` and fit_calibrator.py read), questions as the mix asks them."""
    articles: dict[str, dict[str, list]] = {}
    for e in examples:
        qa = {"id": e.qid, "question": e.question, "is_impossible": not e.answers,
              "answers": [{"text": a, "answer_start": s} for a, s in zip(e.answers, e.answer_starts)]}
        articles.setdefault(e.title, {}).setdefault(e.context, []).append(qa)
    data = [{"title": t, "paragraphs": [{"context": c, "qas": qas} for c, qas in paras.items()]} for t, paras in articles.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "v2.0", "data": data}, ensure_ascii=False))


def build(train_dir: Path, take: dict[str, int | None], distractors: float, unanswerable_repeat: int,
          dialogue: str, seed: int, held_out: dict[str, int] | None = None,
          held_out_dir: Path | None = None) -> tuple[list[su.Example], dict]:
    """The mix and its per-source counts. `take[name]` is how many questions to sample (None: all);
    `held_out[name]` questions (whole articles) are set aside first into `held_out_dir`."""
    mix: list[su.Example] = []
    counts: dict[str, dict] = {}
    for name, n in take.items():
        every, rewritten = load_source(name, train_dir, dialogue)
        if held_out and held_out.get(name):
            every, aside = hold_out(every, held_out[name], seed)
            write_squad(held_out_dir / f"{name}-held-out.json", aside)
        picked = every if n is None or n >= len(every) else random.Random(seed).sample(every, n)
        unanswerable = [e for e in picked if not e.answers]
        repeats = unanswerable * (unanswerable_repeat - 1) if name == "squad" else []
        hard = su.HardNegatives(every).distractors(picked, distractors, seed) if distractors else []
        turns = {f"{e.qid}-distractor": e.turn for e in picked}
        for d in hard:
            d.source, d.turn = name, turns[d.qid]
        mix += picked + repeats + hard
        counts[name] = {"available": len(every), "rewritten": rewritten, "questions": len(picked), "unanswerable": len(unanswerable),
                        "unanswerable_repeats": len(repeats), "distractors": len(hard),
                        "examples": len(picked) + len(repeats) + len(hard)}
    counts["total"] = {k: sum(c[k] for c in counts.values()) for k in next(iter(counts.values()))} if counts else {}
    return mix, counts


def save(path: Path, examples: list[su.Example], meta: dict) -> None:
    """gzip JSON: contexts once, examples as [qid, question, context index, answers, starts, title,
    source, turn as written ("" unless the question is its rewrite)]."""
    index: dict[str, int] = {}
    rows = [[e.qid, e.question, index.setdefault(e.context, len(index)), e.answers, e.answer_starts, e.title, e.source, e.turn]
            for e in examples]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump({"meta": meta, "contexts": list(index), "examples": rows}, fh, ensure_ascii=False)


def load(path: Path, sources: set[str] | None = None, bare: bool = False) -> tuple[list[su.Example], dict]:
    """The examples of a mix file, and its meta (arguments and per-source counts). `sources`
    keeps only those (an ablation: the mix without one set); `bare` asks the dialogue turns as
    written instead of as rewritten (the other ablation), so one file serves every variant."""
    whole = su.load_json(path)
    contexts = whole["contexts"]
    examples = [su.Example(qid, turn if bare and turn else q, contexts[c], answers, starts, title, source, turn)
                for qid, q, c, answers, starts, title, source, turn in whole["examples"]
                if sources is None or source in sources]
    return examples, whole["meta"]


def parse_take(specs: list[str]) -> dict[str, int | None]:
    """`name=N` (0 drops the source, `all` keeps every question); unnamed sources: all."""
    take: dict[str, int | None] = {name: DEFAULT_TAKE.get(name) for name in SOURCES}
    for spec in specs:
        name, _, n = spec.partition("=")
        if name not in SOURCES or not n:
            raise SystemExit(f"--take {spec!r}: expected NAME=N with NAME one of {', '.join(SOURCES)}")
        take[name] = None if n == "all" else int(n)
    return {name: n for name, n in take.items() if n != 0}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-dir", type=Path, default=ROOT.parent / "shared" / "train")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--take", action="append", default=[], metavar="NAME=N", help="questions per source (repeatable)")
    p.add_argument("--distractors", type=float, default=0.5)
    p.add_argument("--unanswerable-repeat", type=int, default=2, help="SQuAD replay's unanswerable questions, times")
    p.add_argument("--dialogue", choices=("rewrite", "bare"), default="rewrite")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--hold-out", action="append", default=[], metavar="NAME=N",
                   help="set aside whole articles with >= N questions of a source (for calibration), never trained on")
    args = p.parse_args(argv)
    take = parse_take(args.take)
    held_out = {name: int(n) for name, _, n in (spec.partition("=") for spec in args.hold_out)}
    examples, counts = build(args.train_dir, take, args.distractors, args.unanswerable_repeat, args.dialogue, args.seed,
                             held_out, args.out.parent)
    meta = {"take": take, "distractors": args.distractors, "unanswerable_repeat": args.unanswerable_repeat,
            "dialogue": args.dialogue, "seed": args.seed, "held_out": held_out, "counts": counts}
    save(args.out, examples, meta)
    print(json.dumps(meta, indent=1))
    return meta


if __name__ == "__main__":
    main()
