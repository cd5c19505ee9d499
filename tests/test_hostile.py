"""The CLI over hostile input: each ends with exit status 2 and one message that names the problem, never a
traceback. Run as a user runs it (a subprocess), so nothing is caught on the way."""

import os
import subprocess
import sys
import zipfile

import pytest

from helpers import defaults
from test_archive import tweet_row, user_row, write_csv

MACOS_CR = "carriage return alone"


def users_csv(folder, name="c_users_csv_hashed.csv"):
    return write_csv(folder / name, [user_row("u1"), user_row("u2")])


def zipped(folder, patch=None, compression=zipfile.ZIP_STORED):
    """c_users.zip holding the users file; ``patch(bytes, local, central)`` damages it as a tool might."""
    source = users_csv(folder / "staging")
    target = folder / "data" / "c_users.zip"
    with zipfile.ZipFile(target, "w", compression) as archive:
        archive.write(source, "c_users_csv_hashed.csv")
    data = bytearray(target.read_bytes())
    patch(data, data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02"))
    target.write_bytes(bytes(data))


def encrypted(data, local, central):  # the general-purpose flag's bit 0
    data[local + 6] |= 1
    data[central + 8] |= 1


def deflate64(data, local, central):  # compression method 9
    data[local + 8], data[central + 10] = 9, 9


def bad_crc(data, local, central):  # one byte of the stored member changed
    data[local + 30 + len("c_users_csv_hashed.csv") + 5] ^= 0x20


def setup_case(name, tmp_path):
    data = tmp_path / "data"
    for folder in (data, tmp_path / "staging"):
        folder.mkdir()
    ingest = ["ingest", "--data-dir", str(data), "--campaign", "c", "--out", str(tmp_path / "out")]
    if name == "cr_only":
        text = users_csv(tmp_path / "staging").read_text()
        (data / "c_users_csv_hashed.csv").write_text(text.replace("\n", "\r"), newline="")
    elif name == "utf16":
        (data / "c_users_csv_hashed.csv").write_bytes(users_csv(tmp_path / "staging").read_text().encode("utf-16-le"))
    elif name in ("encrypted", "deflate64", "bad_crc"):
        zipped(tmp_path, {"encrypted": encrypted, "deflate64": deflate64, "bad_crc": bad_crc}[name])
    else:
        users_csv(data)
    if name == "out_is_a_file":
        (tmp_path / "taken").write_text("mine")
        ingest[-1] = str(tmp_path / "taken")
    if name == "out_under_a_file":
        (tmp_path / "taken").write_text("mine")
        ingest[-1] = str(tmp_path / "taken" / "out")
    return {"memory": ingest + ["--memory-limit", "lots"], "threads": ingest + ["--threads", "-1"],
            "run_out_is_a_file": ["run", "--out", str(tmp_path / "taken")],
            # a name that, resolved under reports/ (as the old code did), lands in tmp_path, not elsewhere
            "traversal": ["run", "--data-dir", str(data), "--campaign",
                          os.path.relpath(tmp_path / "somewhere", defaults.project_root() / "reports")],
            **{pair: ["run", "--data-dir", str(data), "--campaign", "c", "--out", str(tmp_path / "run"), "-p", pair]
               for pair in ("n_boot=-5", "seed=-1", "date_order=xyz")}}.get(name, ingest)


CASES = [
    ("cr_only", "c_users_csv_hashed.csv: line 1: lines end with a " + MACOS_CR),
    ("utf16", "c_users_csv_hashed.csv: line 1: NUL bytes: the file looks like UTF-16"),
    ("encrypted", "c_users.zip/c_users_csv_hashed.csv: the zip member is encrypted"),
    ("deflate64", "c_users.zip/c_users_csv_hashed.csv: compressed with Deflate64, which Python's zipfile cannot read"),
    ("bad_crc", "c_users.zip/c_users_csv_hashed.csv: the zip member is corrupt (Bad CRC-32"),
    ("out_is_a_file", "argument --out: "),
    ("out_under_a_file", "argument --out: "),
    ("memory", "argument --memory-limit: 'lots' is not a size; write it like 2GB"),
    ("threads", "argument --threads: '-1': give a whole number of 1 or more"),
    ("run_out_is_a_file", "argument --out: "),
    ("traversal", "argument --campaign: campaign '../"),
    ("n_boot=-5", "parameter n_boot=-5: expected a whole number of 1 or more"),
    ("seed=-1", "parameter seed=-1: expected a whole number of 0 or more"),
    ("date_order=xyz", "parameter date_order='xyz': expected one of auto, ymd, mdy, dmy"),
]


@pytest.mark.parametrize("name, message", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_ends_with_status_2_and_one_message(tmp_path, name, message):
    if name == "run_out_is_a_file":
        (tmp_path / "taken").write_text("mine")
    argv = setup_case(name, tmp_path)
    done = subprocess.run([sys.executable, "-m", "helpers", *argv], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TRACTION_DEBUG": ""})
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "somewhere").exists()


def test_ctrl_c_ends_in_one_line_without_a_traceback(monkeypatch, capsys):
    """Found by review: KeyboardInterrupt is no Exception, so Ctrl-C during a run printed papermill's traceback."""
    from helpers import cli

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_run", interrupted)  # build_parser binds the subcommand when main calls it
    assert cli.main(["run"]) == 130
    error = capsys.readouterr().err
    assert error.strip() == "traction run: interrupted; nothing half-written was published"

