"""One command style: every recognition command spells the same thing the same way."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from recognition.evaluation.__main__ import main as evaluation_main

REPO = Path(__file__).resolve().parents[2]
COMMANDS = (
    "recognition.cli",
    "recognition.evaluation.reading",
    "recognition.evaluation.detection",
    "recognition.evaluation.endtoend",
    "recognition.training.fit_reader_check",
    "recognition.training.fit_unsure_bar",
    "recognition.training.detector.train",
    "recognition.training.detector.average_weights",
    "recognition.training.reader.train",
    "recognition.training.reader.detected_crops",
    "recognition.training.reader.ppocr_convert",
    "recognition.synth.scenes",
)
# Spellings retired for one per concept (--out, --models, --limit).
RETIRED = {"--output-dir", "--models-dir", "--limit-real", "--model", "--output"}


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Every option of `parser` and of its subcommands."""
    found: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.update(options(sub))
        for flag in action.option_strings:
            found[flag] = action
    return found


@pytest.mark.parametrize("module", COMMANDS)
def test_a_command_uses_the_common_spellings(module: str) -> None:
    parser = importlib.import_module(module).get_args_parser()
    flags = options(parser)
    assert not RETIRED & set(flags)
    if "--models" in flags and flags["--models"].default is not None:
        # --models is always the folder that holds detector/ and ocr/
        models = REPO / flags["--models"].default
        assert (models / "detector").is_dir()
        assert (models / "ocr").is_dir()


def test_the_evaluation_command_names_its_benchmarks_when_called_without_one(capsys) -> None:
    assert evaluation_main([]) == 2
    usage = capsys.readouterr().err
    for name in ("detect", "read", "e2e"):
        assert f"python -m recognition.evaluation {name}" in usage


@pytest.mark.parametrize("name", ["detect", "read", "e2e"])
def test_each_benchmark_answers_help_under_the_one_command(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        evaluation_main([name, "--help"])
    assert done.value.code == 0
    assert f"python -m recognition.evaluation {name}" in capsys.readouterr().out
