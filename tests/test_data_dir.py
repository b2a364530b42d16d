"""Where the data lives does not depend on the current directory, a command that finds nothing
says where it looked, and the CLI prints scores that explain an abstention."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import cli, config
from qa.cli.ask import result_text
from qa.config import PROJECT_ROOT, Settings, default_data_dir


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A current directory outside the checkout, with no QA_DATA_DIR."""
    monkeypatch.delenv("QA_DATA_DIR", raising=False)
    folder = tmp_path / "somewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_in_the_checkout_it_is_the_checkouts_qa_data_from_any_folder(elsewhere):
    assert default_data_dir() == PROJECT_ROOT / ".qa-data"
    assert Settings().data_dir == PROJECT_ROOT / ".qa-data"
    os.chdir(PROJECT_ROOT / "tests")
    assert Settings().data_dir == PROJECT_ROOT / ".qa-data"


def test_installed_outside_a_checkout_it_is_the_user_data_folder(elsewhere, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path / "site-packages")  # no pyproject.toml there
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "verbatim"
    other = tmp_path / "site-packages"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "someone-else"\n')
    assert default_data_dir() == tmp_path / "xdg" / "verbatim"  # another project's checkout is not ours


def test_qa_data_dir_still_wins(elsewhere, monkeypatch, tmp_path):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "mine"))
    assert Settings().data_dir == tmp_path / "mine"
    assert Settings(data_dir=Path("flag")).data_dir == Path("flag")


def test_not_found_names_the_data_directory_and_a_stray_qa_data_is_reported(elsewhere):
    """(No model loads: the collection is looked up before the question is embedded.)"""
    (elsewhere / ".qa-data").mkdir()  # left by an older version, which used the current directory
    result = CliRunner().invoke(cli.main, ["ask", "Who?", "-c", "docs"])
    assert result.exit_code == 1
    assert f"Error: collection 'docs' does not exist; index some documents into it first (data directory {PROJECT_ROOT / '.qa-data'})" \
        in result.output
    assert "./.qa-data is not used" in result.output
    assert not list((elsewhere / ".qa-data").iterdir())  # and nothing was built here


def body(answer, scores, threshold=0.15):
    source = {"title": "T", "section": "S", "start": 0, "end": 4, "page": None}
    return {"answer": answer, "answers": [{"text": f"a{i}", "score": s, "source": source} for i, s in enumerate(scores)],
            "min_score": threshold}


def test_scores_are_printed_with_the_digits_that_explain_an_abstention():
    text = result_text(body(None, [0.1451]))
    assert text.startswith("No answer found in the documents (none reaches the 0.1500 threshold).")
    assert "score 0.1451, below the 0.1500 threshold" in text and "0.15 " not in text
    answered = result_text(body("a0", [0.7071, 0.05]))
    assert "Answer: a0" in answered and "score 0.7071 —" in answered and "score 0.0500, below the 0.1500 threshold" in answered
