"""RunDir: one directory per run, run.json kept up to date, refusal of a non-run directory."""

import pytest

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.refstack.rundir import RunDir


def test_new_run_dirs_never_collide(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = RunDir.create(), RunDir.create()
    assert first.path != second.path and first.path.is_dir() and second.path.is_dir()
    assert first.path.parent.name == "tcup-runs"


def test_record_merges_into_run_json(tmp_path):
    run = RunDir.create(tmp_path / "r")
    run.record(guideline="2020.06")
    run.record(exit_code=1)
    assert run.info() == {"guideline": "2020.06", "exit_code": 1}
    args = run.pytest_args(verdict=False)
    assert str(run.junit) in args and str(run.body) in args and "--verdict-json" not in args
    assert "--verdict-json" in run.pytest_args(verdict=True)


def test_open_refuses_a_directory_without_results(tmp_path):
    with pytest.raises(TcupError) as caught:
        RunDir.open(tmp_path)
    assert caught.value.exit_code == ExitCode.INPUT_FILE
    assert "not a tcup run directory" in str(caught.value)
