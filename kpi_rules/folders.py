"""Writing a folder of files (an HTML report's index and a page per client) whole or not at all.

The files go into a new hidden folder beside the output, created exclusively; only once every file is written
is it renamed into place, and a folder written by an earlier run is moved aside first and removed after. A
failed or interrupted run leaves the old folder untouched (a kill -9 leaves a hidden folder that the next run
in the same place removes). The moment between the two renames is the one gap: a reader then finds no folder,
never half of one.

kpi-rules replaces a whole folder, so it writes only into a new folder, an empty one, or one it wrote before
(it leaves MARKER there): never over a folder of the user's files, and never over one holding an input.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kpi_rules.diagnostics import Diagnostic, InputError
from kpi_rules.output import _HOST, _cannot_write, _process_exists

MARKER = ".kpi-rules-report"
_TEMPORARY = re.compile(rf"\.kpi-rules-{re.escape(_HOST)}-(\d+)-\w+\.(tmpdir|old)")


def check_output_folder(output: Path, inputs: Iterable[str | Path] = ()) -> None:
    """Raise InputError unless ``output`` can be (re)written as a whole folder; cheap, so call it early."""
    target = Path(os.path.realpath(output))
    if target.exists():
        if not target.is_dir():
            raise _problem(output, "KR001", "is not a folder: give the name of a folder (ending with /) or of a file")
        if any(True for _ in target.iterdir()) and not (target / MARKER).is_file():
            raise _problem(output, "KR001", "is a folder with other files in it: the report replaces the whole folder, so give a new or empty one")
    for source in inputs:
        if Path(os.path.realpath(source)).is_relative_to(target):
            raise _problem(output, "KR005", f'holds "{source}", an input of this run: write the report to another folder')
    if not target.parent.is_dir():
        raise _problem(output, "KR001", f'cannot write: folder "{target.parent}" does not exist')
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise _problem(output, "KR001", f'cannot write: no permission to create folders in "{target.parent}"')


@contextmanager
def open_output_folder(output: Path, *, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """A new, empty folder to fill; it replaces ``output`` when the block ends, or is removed if the block raises."""
    check_output_folder(output, inputs)
    target = Path(os.path.realpath(output))
    _remove_stale(target.parent)
    prefix = f".kpi-rules-{_HOST}-{os.getpid()}-"
    try:
        new = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmpdir", dir=target.parent))
    except OSError as error:
        raise _cannot_write(output, error) from None
    try:
        yield new
        (new / MARKER).write_text("Written by kpi-rules, which replaces this whole folder when it writes the report again.\n", encoding="utf-8")
        # mkdtemp makes a private folder (0700): a report folder gets what the umask gives any new folder.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(new, 0o777 & ~umask)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=target.parent))
            os.replace(target, old)
            os.replace(new, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(new, target)
    except BaseException as error:
        shutil.rmtree(new, ignore_errors=True)
        if isinstance(error, OSError):
            raise _cannot_write(output, error) from None
        raise


def _remove_stale(folder: Path) -> None:
    """Remove the hidden folders of writers that died here (ours by name, owner and a dead process id)."""
    if os.name != "posix":
        return
    with suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMPORARY.fullmatch(entry.name)
            ours = match and entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.geteuid()
            if ours and not _process_exists(int(match[1])):
                shutil.rmtree(entry.path, ignore_errors=True)


def _problem(output: Path, code: str, message: str) -> InputError:
    return InputError([Diagnostic(str(output), None, None, code, message)])
