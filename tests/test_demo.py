"""The main job (python -m kerasbig demo) runs and reports what it promises."""

import io

from kerasbig import CNNClassifier
from kerasbig.__main__ import main
from kerasbig.demo import make_demo_pipeline, run_demo


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_demo_prints_folds_mean_and_wall_time_as_plain_lines():
    out = io.StringIO()
    result = run_demo(n_splits=2, epochs=3, stream=out)
    text = out.getvalue()
    assert "\r" not in text  # not a terminal: no status line, no progress bar
    lines = text.splitlines()
    assert "Pipeline(ImageScaler, CNNClassifier)" in lines[0]
    assert lines[1].startswith("fold 1/2: accuracy ")
    assert lines[2].startswith("fold 2/2: accuracy ")
    assert lines[3].startswith("mean accuracy") and "wall time" in lines[3]
    assert len(lines) == 4
    assert len(result["scores"]) == 2
    assert 0.3 < result["mean"] <= 1.0  # chance is 0.1; 3 epochs learn a lot


def test_a_terminal_gets_one_status_line_per_epoch():
    out = _Terminal()
    run_demo(n_splits=2, epochs=2, stream=out)
    text = out.getvalue()
    assert "\rfold 1/2: epoch 1/2 loss " in text
    assert "\rfold 2/2: epoch 2/2 loss " in text


def test_the_demo_is_a_family_estimator_in_a_pipeline():
    pipeline = make_demo_pipeline()
    assert isinstance(pipeline.steps[-1][1], CNNClassifier)
    assert pipeline.get_params()["cnnclassifier__verbose"] == 0  # no progress bars


def test_command_line_entry_point(capsys):
    assert main(["demo", "--folds", "2", "--epochs", "1"]) == 0
    assert "mean accuracy" in capsys.readouterr().out
