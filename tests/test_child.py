"""``helpers.child.call``: one call in a process of its own, its result, exception or warnings handed back."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

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


class TwoPartError(Exception):
    def __init__(self, what, where):
        super().__init__(f"{what} at {where}")


def raise_two_part():
    raise TwoPartError("a bad row", "line 7")


def test_an_exception_that_cannot_be_rebuilt_here_still_says_what_and_where():
    with pytest.raises(RuntimeError, match=r"could not be handed back") as raised:
        child.call(raise_two_part)
    assert "TwoPartError: a bad row at line 7" in str(raised.value) and "raise_two_part" in str(raised.value)


def test_a_function_the_child_cannot_import_is_an_error_naming_it():
    with pytest.raises(ValueError, match="<lambda> cannot run in a child process"):
        child.call(lambda: 1)


def warn_and_return():
    warnings.warn("few tweets in this window", UserWarning, stacklevel=1)
    return 3


def test_the_childs_warnings_are_given_again_here():
    with pytest.warns(UserWarning, match="few tweets in this window"):
        assert child.call(warn_and_return) == 3


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_killed_before_its_result_is_named_with_its_status():
    with pytest.raises(child.ChildDied, match=rf"kill_self ran .* status -{int(signal.SIGKILL)} and no result \(killed"):
        child.call(kill_self)
    with pytest.raises(child.ChildDied, match=r"status -6 and no result \(ended by SIGABRT\)"):
        child.call(os.abort)


def test_a_module_in_the_working_folder_shadows_nothing_in_the_child(tmp_path, monkeypatch):
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("raise ImportError('the working folder was searched first')\n")
    (tmp_path / "pandas.py").write_text("raise ImportError('the working folder was searched first')\n")
    monkeypatch.chdir(tmp_path)
    assert child.call(os.getcwd) == str(tmp_path)  # the child works where the caller does
    assert child.call(pd.Series, [1, 2]).sum() == 3  # the child imported pandas itself, not ./pandas.py


def write_pid_and_wait(path):
    Path(path).write_text(str(os.getpid()))
    time.sleep(60)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_child_ends_when_its_caller_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    caller = subprocess.Popen([sys.executable, "-c", "import sys; sys.path[:0] = [sys.argv[1]]; from helpers import "
                               "child; import test_child; child.call(test_child.write_pid_and_wait, sys.argv[2])",
                               str(Path(__file__).parent), str(pid_file)])
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    caller.kill()
    caller.wait()
    for _ in range(100):
        if _gone(pid):
            break
        time.sleep(0.05)
    assert _gone(pid), "the child outlived its killed caller"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and the signal as a terminal sends it")
def test_ctrl_c_in_a_terminal_prints_no_traceback_from_the_child(tmp_path):
    pid_file = tmp_path / "child.pid"
    caller = subprocess.Popen([sys.executable, "-c", "import sys; sys.path[:0] = [sys.argv[1]]; from helpers import "
                               "child; import test_child; child.call(test_child.write_pid_and_wait, sys.argv[2])",
                               str(Path(__file__).parent), str(pid_file)], stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    os.killpg(caller.pid, signal.SIGINT)  # a terminal's Ctrl-C: every process of the foreground group
    _, stderr = caller.communicate(timeout=30)
    assert "KeyboardInterrupt" in stderr  # the caller's own, which traction's CLI turns into one line
    assert "in write_pid_and_wait" not in stderr and "in serve" not in stderr
    assert _gone(int(pid_file.read_text()))
