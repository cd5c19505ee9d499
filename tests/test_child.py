"""``helpers.child.call``: one call in a process of its own, its result or its exception handed back."""

import os
import signal

import pandas as pd
import pytest

from helpers import child, frames
from helpers.errors import TractionError


def test_the_call_runs_in_another_process_and_returns_its_value():
    assert child.call(os.getpid) != os.getpid()
    frame = child.call(pd.DataFrame, {"userid": pd.Categorical(["a", "b", "a"]), "weight": [1, 2, 3]})
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"userid": pd.Categorical(["a", "b", "a"]), "weight": [1, 2, 3]}))


def test_an_error_in_the_child_is_raised_here_with_its_traceback_as_a_note():
    with pytest.raises(ValueError, match="invalid literal") as raised:
        child.call(int, "ten")
    assert "in the child process" in raised.value.__notes__[0]


def test_a_users_error_comes_back_as_it_was_raised(tmp_path):
    with pytest.raises(TractionError, match="run 01_load.ipynb first") as raised:
        child.call(frames.load, tmp_path / "nothing here")
    assert not getattr(raised.value, "__notes__", None)  # its message says it all, as the CLI prints it


def test_a_child_killed_before_its_result_is_named_with_its_status():
    with pytest.raises(child.ChildDied, match=rf"abort ran .* status -{signal.SIGABRT} and no result \(killed"):
        child.call(os.abort)


def test_a_module_in_the_working_folder_shadows_nothing_in_the_child(tmp_path, monkeypatch):
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("raise ImportError('the working folder was searched first')\n")
    (tmp_path / "pandas.py").write_text("raise ImportError('the working folder was searched first')\n")
    monkeypatch.chdir(tmp_path)
    assert child.call(os.getcwd) == str(tmp_path)  # the child works where the caller does
