"""The reader's training mix (training/reader_mix.py): per-source counts, dialogue turns asked as
`/chat` would ask them, and never a file outside the training folder (no eval/ file, ever)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

import reader_mix  # noqa: E402

GOLD = "The Normans conquered England in 1066 under William the Conqueror."
NEAR = "William the Conqueror was crowned in London; the Normans built castles across England."
BAKERY = "Acme Bakery was founded by Jane Doe in Lyon. She opened it in 1998."


def squad(articles: list[tuple[str, list[tuple[str, list[tuple[str, str, str | None]]]]]]) -> dict:
    """SQuAD 2.0 JSON from (title, [(context, [(id, question, answer or None)])])."""
    return {"data": [{"title": title, "paragraphs": [
        {"context": ctx, "qas": [{"id": qid, "question": q, "is_impossible": a is None,
                                  "answers": [] if a is None else [{"text": a, "answer_start": ctx.index(a)}]}
                                 for qid, q, a in qas]} for ctx, qas in paragraphs]} for title, paragraphs in articles]}


@pytest.fixture
def train_dir(tmp_path: Path) -> Path:
    """A training folder shaped like ../shared/train: SQuAD (4 questions, 1 unanswerable, two
    paragraphs of one article) and DoQA (a two-turn dialogue with its conversations file)."""
    root = tmp_path / "train"
    (root / "more").mkdir(parents=True)
    (root / "squad-v2.0-style-train.json").write_text(json.dumps(squad([("Normans", [
        (GOLD, [("s1", "When did the Normans conquer England?", "1066"),
                ("s2", "Who led the Normans into England?", "William the Conqueror"),
                ("s3", "Why did the Normans leave England?", None)]),
        (NEAR, [("s4", "Where was William crowned?", "London")])])])))
    (root / "squad-v1.1-train.dev-overlap.json").write_text("[]")
    (root / "more/doqa-cooking-train.json").write_text(json.dumps(squad([("Acme Bakery", [
        (BAKERY, [("d#0", "Who founded Acme Bakery?", "Jane Doe"), ("d#1", "When did she open it?", "1998")])])])))
    dialogue = {"dialog_id": "d", "title": "Acme Bakery", "context": BAKERY, "turns": [
        {"id": "d#0", "question": "Who founded Acme Bakery?", "answers": [{"text": "Jane Doe", "answer_start": 27}]},
        {"id": "d#1", "question": "When did she open it?", "answers": [{"text": "1998", "answer_start": BAKERY.index("1998")}]}]}
    (root / "more/doqa-cooking-train-conversations.jsonl").write_text(json.dumps(dialogue) + "\n")
    return root


def test_counts_per_source_with_replay_sample_repeats_and_distractors(train_dir):
    mix, counts = reader_mix.build(train_dir, {"squad": 3, "doqa": None}, distractors=1.0,
                                   unanswerable_repeat=2, dialogue="rewrite", seed=0)
    squad_c, doqa_c = counts["squad"], counts["doqa"]
    assert squad_c["available"] == 4 and squad_c["questions"] == 3
    assert squad_c["unanswerable_repeats"] == squad_c["unanswerable"]  # repeated once more: twice in all
    assert doqa_c == {"available": 2, "rewritten": 1, "questions": 2, "unanswerable": 0, "unanswerable_repeats": 0,
                      "distractors": 0, "examples": 2}  # one paragraph: no other to distract with
    assert len(mix) == counts["total"]["examples"] == squad_c["examples"] + 2
    by_source = {name: [e for e in mix if e.source == name] for name in ("squad", "doqa")}
    assert len(by_source["squad"]) == squad_c["examples"] and len(by_source["doqa"]) == 2
    distractors = [e for e in mix if e.qid.endswith("-distractor")]
    assert len(distractors) == squad_c["distractors"] >= 1
    assert all(not d.answers and d.source == "squad" for d in distractors)


def test_dialogue_turns_are_rewritten_as_chat_would_or_kept_bare(train_dir):
    rewritten, _ = reader_mix.build(train_dir, {"doqa": None}, 0.0, 1, "rewrite", 0)
    bare, counts = reader_mix.build(train_dir, {"doqa": None}, 0.0, 1, "bare", 0)
    assert {e.qid: e.question for e in rewritten}["d#1"] == "When did Jane Doe open it?"
    assert {e.qid: e.question for e in bare}["d#1"] == "When did she open it?" and counts["doqa"]["rewritten"] == 0


def test_reads_only_the_training_folder(train_dir, monkeypatch):
    opened: list[Path] = []
    real_open = open

    def recording_open(file, *args, **kwargs):
        opened.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", recording_open)
    monkeypatch.setattr("io.open", recording_open)  # what Path.read_text opens with
    reader_mix.build(train_dir, {"squad": None, "doqa": None}, 0.5, 2, "rewrite", 0)
    assert {p.name for p in opened} >= {"squad-v2.0-style-train.json", "doqa-cooking-train-conversations.jsonl"}
    assert all(train_dir.resolve() in p.parents and "eval" not in p.parts for p in opened)


def test_eval_paths_are_refused(train_dir):
    (train_dir.parent / "eval").mkdir()
    for bad in ("../eval/squad-v1.1-dev.json", "/work/shared/eval/ood/doqa-cooking-dev.json", "../elsewhere.json"):
        with pytest.raises(ValueError, match="not a training file"):
            reader_mix.training_path(train_dir, bad)
    assert reader_mix.training_path(train_dir, "more/doqa-cooking-train.json").is_file()


def test_every_source_points_into_the_training_folder():
    for source in reader_mix.SOURCES.values():
        for rel in (source.squad, source.conversations, source.overlap):
            assert rel is None or ("eval" not in Path(rel).parts and not Path(rel).is_absolute())


def test_mix_file_round_trip(train_dir, tmp_path):
    mix, counts = reader_mix.build(train_dir, {"squad": None, "doqa": None}, 1.0, 2, "rewrite", 0)
    reader_mix.save(tmp_path / "mix.json.gz", mix, {"counts": counts})
    again, meta = reader_mix.load(tmp_path / "mix.json.gz")
    assert again == mix and meta["counts"] == counts


def test_take_specs():
    assert reader_mix.parse_take(["doqa=0", "squad=all"]) == {"squad": None, "subjqa": None, "tydiqa": None, "doc2dial": None}
    assert reader_mix.parse_take([])["squad"] == 20000
    with pytest.raises(SystemExit):
        reader_mix.parse_take(["squadd=5"])


def test_one_mix_file_serves_the_ablations(train_dir, tmp_path):
    mix, counts = reader_mix.build(train_dir, {"squad": None, "doqa": None}, 1.0, 2, "rewrite", 0)
    reader_mix.save(tmp_path / "mix.json.gz", mix, {"counts": counts})
    without_squad, _ = reader_mix.load(tmp_path / "mix.json.gz", sources={"doqa"})
    assert {e.source for e in without_squad} == {"doqa"} and len(without_squad) == counts["doqa"]["examples"]
    bare, _ = reader_mix.load(tmp_path / "mix.json.gz", bare=True)
    asked = {e.qid: e.question for e in bare}
    assert asked["d#1"] == "When did she open it?" and asked["d#0"] == "Who founded Acme Bakery?"
    assert len(bare) == len(mix) and {e.qid: e.question for e in mix}["d#1"] == "When did Jane Doe open it?"


def test_device_summary_gathers_every_variant(tmp_path, capsys):
    import device_summary

    ev = {"squad_v1.1_dev": {"f1": 81.25}, "doqa": {"answer_all": {"f1": 20.0}, "margin_0": {"HasAns_f1": 12.5, "NoAns_f1": 61.0}}}
    for name, loss in (("main", 1.5), ("bare", 1.75)):
        (tmp_path / name / "export").mkdir(parents=True)
        metrics = {"total_steps": 1020, "epochs": [{"mean_loss": loss, "eval": ev}]}
        (tmp_path / name / "export" / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "eval-int8.json").write_text(json.dumps({"squad_v1.1_dev": {"f1": 80.5}}))
    device_summary.main(tmp_path, tmp_path / "metrics.json")
    summary = json.loads((tmp_path / "metrics.json").read_text())
    assert set(summary["variants"]) == {"main", "bare"} and summary["export"]["eval-int8"]["squad_v1.1_dev"]["f1"] == 80.5
    table = capsys.readouterr().out
    main_row = next(line for line in table.splitlines() if line.strip().startswith("main"))
    assert main_row.split()[1:5] == ["1020", "1.500", "81.2", "-"] and "12.5" in main_row and "61.0" in main_row


def test_held_out_articles_are_never_in_the_mix_and_load_as_squad(train_dir, tmp_path):
    """`--hold-out doqa=1` sets aside whole articles (here the one DoQA article) before sampling,
    written as a SQuAD 2.0 file `qa eval` and fit_calibrator.py read; the mix keeps none of it."""
    from qa.eval.data import load

    mix, counts = reader_mix.build(train_dir, {"squad": None, "doqa": None}, distractors=0.0, unanswerable_repeat=1,
                                   dialogue="rewrite", seed=0, held_out={"doqa": 1}, held_out_dir=tmp_path)
    assert "doqa" not in {e.source for e in mix} and counts["doqa"]["questions"] == 0
    held = load(tmp_path / "doqa-held-out.json")
    assert {q.qid for q in held.questions} == {"d#0", "d#1"}
    assert next(q for q in held.questions if q.qid == "d#1").question == "When did Jane Doe open it?"  # as rewritten for /chat
    assert not {e.qid for e in mix} & {"d#0", "d#1"}


def test_cap_empty_windows_keeps_every_answer_window():
    import squad_utils as su

    feats = su.Features(input_ids=[[i] for i in range(7)], type_ids=[[0]] * 7, offsets=[[None]] * 7,
                        example_index=[0, 0, 0, 0, 1, 1, 2], start_positions=[0, 5, 0, 0, 0, 0, 3],
                        end_positions=[0, 6, 0, 0, 0, 0, 4])
    kept = su.cap_empty_windows(feats, keep=1, seed=0)
    per_example = {}
    for ex, s in zip(kept.example_index, kept.start_positions):
        per_example.setdefault(ex, []).append(s)
    assert per_example[0].count(0) == 1 and 5 in per_example[0]  # the answer window stays, one empty one
    assert per_example[1] == [0] and per_example[2] == [3]
    assert len(kept.input_ids) == len(kept.offsets) == len(kept.end_positions) == 4
