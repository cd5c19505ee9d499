"""One call in a Python process of its own, its result (or its exception) and its warnings handed back by pickle.

For work whose memory outlives it in-process: when DuckDB closes its connection, what its allocator, Arrow's pool
and glibc's heap keep is still the process's (0.4 GB after the coordination at 37M tweets). A child's exit gives
all of it back. The call travels as a module and a name, so the child imports it; nothing of ``__main__`` is run
again (as multiprocessing's spawn would, in a user's script without a ``__main__`` guard). The child imports from
the caller's ``sys.path``, without the working folder (``-P``): a ``helpers/`` there shadows nothing.
"""

import ctypes
import importlib
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

from helpers.errors import TractionError

CALL, RESULT = "call.pickle", "result.pickle"
# the child's first lines: the caller's import path, then the call (-c, since -m would import helpers first)
_BOOT = "import json, sys; sys.path[:] = json.loads(sys.argv[2]); from helpers import child; child.serve()"
PR_SET_PDEATHSIG = 1  # prctl: a signal for this process when its parent dies (Linux)


class ChildDied(RuntimeError):
    """The child process ended without handing back a result (killed: by the system for memory, or by a user)."""


def call(function, *args, **kwargs):
    """``function(*args, **kwargs)`` in a child process (same interpreter, environment, working folder and import
    path); its result, or its exception raised here with the child's traceback as a note. Warnings the call gave
    are given again here. ``function`` must be importable by module and name."""
    if "<" in function.__qualname__:  # <lambda>, <locals>: the child could not find it by name
        raise ValueError(f"{function.__module__}.{function.__qualname__} cannot run in a child process: only a "
                         "function importable by module and name can")
    paths = [os.path.abspath(p) for p in sys.path if p]
    with tempfile.TemporaryDirectory(prefix="traction-child-") as folder:
        folder = Path(folder)
        with open(folder / CALL, "wb") as out:
            pickle.dump((function.__module__, function.__qualname__, args, kwargs, os.getpid()), out)
        ended = subprocess.run([sys.executable, "-P", "-c", _BOOT, str(folder), json.dumps(paths)], check=False)
        if not (folder / RESULT).exists():
            raise ChildDied(f"{function.__qualname__} ran in a process of its own, which ended with status "
                            f"{ended.returncode} and no result{_why(ended.returncode)}")
        with open(folder / RESULT, "rb") as handed:
            outcome, value, caught = pickle.load(handed)
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno)
    if outcome == "raised":
        raise value
    return value


def _why(status: int) -> str:
    if status == 130:
        return " (interrupted)"
    if status < 0:
        name = {s.value: s.name for s in signal.Signals}.get(-status, f"signal {-status}")
        return " (killed; by the system when memory ran out?)" if name == "SIGKILL" else f" (ended by {name})"
    return " (its error is above, on standard error)"


def serve(folder: Path | None = None) -> None:
    """The child's side of ``call``: run the call in ``folder`` (``sys.argv[1]``) and write its outcome there."""
    folder, caught = Path(folder or sys.argv[1]), []
    try:
        module, name, args, kwargs, parent = pickle.loads((folder / CALL).read_bytes())
        _die_with(parent)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            handed = ("returned", _function(module, name)(*args, **kwargs))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the caller reports it, not a traceback here
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 (handed to the caller, who raises it)
        if not isinstance(error, TractionError):  # a user's error says all in its message; others need the where
            error.add_note("in the child process:\n" + "".join(traceback.format_exception(error)))
        handed = ("raised", error)
    warned = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
    partial = folder / (RESULT + ".partial")
    with open(partial, "wb") as out:
        try:
            pickle.dump((*handed, warned), out, protocol=pickle.HIGHEST_PROTOCOL)
            if handed[0] == "raised":
                pickle.loads(pickle.dumps(handed[1]))  # an exception that pickles may still not load (its __init__)
        except Exception as unpicklable:  # noqa: BLE001 (the caller still learns what happened, and where)
            out.seek(0)
            out.truncate()
            text = "".join(traceback.format_exception(handed[1])) if handed[0] == "raised" else ""
            pickle.dump(("raised", RuntimeError(f"the outcome could not be handed back ({unpicklable!r}):\n{text}"),
                         warned), out)
    os.replace(partial, folder / RESULT)  # whole or absent: a killed child leaves no half result


def _function(module: str, name: str):
    function = importlib.import_module(module)
    for part in name.split("."):
        function = getattr(function, part)
    return function


def _die_with(parent: int) -> None:
    """End this process when the caller's does (Linux): an orphan would hold its memory and work on for nothing."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError, TypeError):  # not Linux: an orphan runs to its end, then exits
        return
    if os.getppid() != parent:  # the caller ended before the signal was asked for
        os._exit(1)
