"""The main job (python -m kerasbig demo) runs and reports what it promises."""

import io

from kerasbig.__main__ import main
from kerasbig.demo import run_demo


def test_demo_prints_folds_mean_and_wall_time():
    out = io.StringIO()
    result = run_demo(n_splits=2, epochs=2, stream=out)
    text = out.getvalue()
    assert "fold 1/2: accuracy" in text and "fold 2/2: accuracy" in text
    assert "mean accuracy" in text and "wall time" in text
    assert len(result["scores"]) == 2
    assert 0.5 < result["mean"] <= 1.0  # 2 epochs already learn digits


def test_command_line_entry_point(capsys):
    assert main(["demo", "--folds", "2", "--epochs", "1"]) == 0
    assert "mean accuracy" in capsys.readouterr().out
