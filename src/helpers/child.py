"""One call in a Python process of its own, its result (or its exception) handed back by pickle.

For work whose memory outlives it in-process: when DuckDB closes its connection, what its allocator, Arrow's pool
and glibc's heap keep is still the process's (0.4 GB after the coordination at 37M tweets). A child's exit gives
all of it back. The call travels as a module and a name, so the child imports it; nothing of ``__main__`` is run
again (as multiprocessing's spawn would, in a user's script without a ``__main__`` guard).

    python -m helpers.child FOLDER   # reads FOLDER/call.pickle, writes FOLDER/result.pickle
"""

import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from helpers.errors import TractionError

CALL, RESULT = "call.pickle", "result.pickle"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # where the child imports helpers from, as this process does


class ChildDied(RuntimeError):
    """The child process ended without handing back a result (killed: by the system for memory, or by a user)."""


def call(function, *args, **kwargs):
    """``function(*args, **kwargs)``, run in a child process (same interpreter, same environment); its result, or
    its exception raised here with the child's traceback as a note. ``function`` must be importable by name."""
    with tempfile.TemporaryDirectory(prefix="traction-child-") as folder:
        folder = Path(folder)
        (folder / CALL).write_bytes(pickle.dumps((function.__module__, function.__qualname__, args, kwargs)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT),
                                                                          os.environ.get("PYTHONPATH")]))}
        # -P: the working folder is not put first on the path, so a user's helpers/ or pandas.py there shadows nothing
        ended = subprocess.run([sys.executable, "-P", "-m", __name__, str(folder)], env=env, check=False)
        if not (folder / RESULT).exists():
            raise ChildDied(f"{function.__qualname__} ran in a process of its own, which ended with status "
                            f"{ended.returncode} and no result" + (" (killed; by the system when memory ran out?)"
                                                                    if ended.returncode < 0 else ""))
        outcome, value = pickle.loads((folder / RESULT).read_bytes())
    if outcome == "raised":
        raise value
    return value


def _serve(folder: Path) -> None:
    module, name, args, kwargs = pickle.loads((folder / CALL).read_bytes())
    function = importlib.import_module(module)
    for part in name.split("."):
        function = getattr(function, part)
    try:
        handed = ("returned", function(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 (handed to the caller, who raises it)
        if not isinstance(error, TractionError):  # a user's error says all in its message; others need the where
            error.add_note("in the child process:\n" + "".join(traceback.format_exception(error)))
        handed = ("raised", error)
    try:
        data = pickle.dumps(handed, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as unpicklable:  # noqa: BLE001 (the caller still learns what happened)
        data = pickle.dumps(("raised", RuntimeError(f"{name}'s outcome could not be handed back: {unpicklable!r}")))
    partial = folder / (RESULT + ".partial")
    partial.write_bytes(data)
    os.replace(partial, folder / RESULT)  # whole or absent: a killed child leaves no half result


if __name__ == "__main__":
    _serve(Path(sys.argv[1]))
