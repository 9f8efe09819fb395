"""The command line: --version, help for every option, the program's name, and a
first run with nothing from TensorFlow's start-up on stderr."""

import argparse
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version

import pytest

import kerasbig
from kerasbig.__main__ import main, make_parser, program_name
from kerasbig.startup import STARTUP_LINE


def test_version_matches_the_installed_distribution(capsys):
    assert kerasbig.__version__ == version("kerasbig")
    with pytest.raises(SystemExit) as exit_:
        main(["--version"], prog="kerasbig")
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"kerasbig {kerasbig.__version__}"


def _actions(parser):
    for action in parser._actions:  # argparse has no public walk of its tree
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield parser.prog, choice
            for sub in action.choices.values():
                yield from _actions(sub)
        else:
            yield parser.prog, action


def test_every_option_and_command_has_help():
    missing = [
        f"{prog}: {action.dest}"
        for prog, action in _actions(make_parser("kerasbig"))
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert not missing


@pytest.mark.parametrize(
    "argv0, expected",
    [
        ("/usr/local/bin/kerasbig", "kerasbig"),
        ("/home/me/.venv/bin/kb", "kb"),
        ("/src/kerasbig/__main__.py", "python -m kerasbig"),
        ("-m", "python -m kerasbig"),
        ("", "python -m kerasbig"),
    ],
)
def test_program_name_is_the_one_invoked(argv0, expected):
    assert program_name(argv0) == expected


def test_usage_line_names_the_program(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"], prog="kb")
    assert capsys.readouterr().out.startswith("usage: kb demo ")


@pytest.mark.parametrize("argv", [["demo", "--folds", "1"], ["demo", "--epochs", "x"]])
def test_bad_option_values_are_refused_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv, prog="kerasbig")
    assert exit_.value.code == 2
    assert "kerasbig demo: error: argument --" in capsys.readouterr().err


def _run(*args, **kwargs):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERASBIG_TF_STARTUP_LOGS")
    }
    env["KERAS_BACKEND"] = "tensorflow"
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        **kwargs,
    )


# Lines TensorFlow 2.21 prints while it loads, as reported in issue 13.
NOISE = re.compile(
    r"oneDNN custom operations|Could not find cuda drivers|absl::InitializeLog"
    r"|cuInit|cpu_feature_guard|rebuild TensorFlow|retracing"
)


def test_python_m_kerasbig_demo_prints_nothing_from_tensorflow(tmp_path):
    done = _run("-m", "kerasbig", "demo", "--folds", "2", "--epochs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not NOISE.search(done.stderr), done.stderr
    assert done.stderr.strip() == ""
    assert "\r" not in done.stdout  # a pipe gets plain lines
    assert "usage" not in done.stdout and "mean accuracy" in done.stdout
    assert done.stdout.splitlines()[1].startswith("fold 1/2: accuracy")


@pytest.mark.parametrize("how", ["python -m kerasbig", "the kerasbig script"])
def test_version_is_quiet_however_it_is_invoked(how, tmp_path):
    if how == "python -m kerasbig":
        command = ["-m", "kerasbig"]
    else:  # the console script pip installed (a Python file)
        script = shutil.which("kerasbig", path=os.path.dirname(sys.executable))
        if script is None:
            pytest.skip("no kerasbig script beside this Python")
        command = [script]
    done = _run(*command, "--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kerasbig {kerasbig.__version__}"
    assert done.stderr == ""


def test_the_noise_pattern_matches_what_tensorflow_prints(tmp_path):
    # Without kerasbig's filter, TensorFlow does print these lines: the test
    # above would not notice if TensorFlow changed them.
    done = _run(
        "-c",
        "import tensorflow as tf; tf.config.list_physical_devices()",
        cwd=tmp_path,
    )
    lines = [line for line in done.stderr.splitlines() if NOISE.search(line)]
    assert lines, "TensorFlow printed no start-up lines: update this test"
    assert all(STARTUP_LINE.match(line) for line in lines), lines
