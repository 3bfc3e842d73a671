"""The one safe way to write a file: never over an input, never half a file, never through a planted link.

``open_output`` writes into a new temporary file created exclusively in the output's folder and renames it
over the output only once it is complete, so a failed, interrupted or concurrent run leaves either the old
file or one whole new one. It is not synced to disk (a power cut is not guarded against): fsync of a report
of hundreds of megabytes costs more than the rest of the write. On Linux the temporary file has no name while it is written
(O_TMPFILE), so even kill -9 leaves nothing behind; elsewhere it gets a recognisable name, and the next
write in that folder removes those of processes that no longer exist.
Problems are diagnostics: KR001 (cannot write there) and KR005 (the output is an input of the run).

``plan_outputs`` reads the --output options of a run that writes several (``--output report.md --output
scores.json``, ``--output html=report.htm``, ``-`` for the terminal) and checks every file before any work.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
import stat
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from kpi_rules.diagnostics import Diagnostic, InputError, did_you_mean

if TYPE_CHECKING:
    from kpi_rules.model import ClientGroupDef

# The host is in the name so that a folder shared between machines (NFS) never has a live writer's file
# taken for a dead one's.
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"
_TEMPORARY = re.compile(rf"\.kpi-rules-{re.escape(_HOST)}-(\d+)-[0-9a-f]+\.tmp")


def inputs_of(groups: Iterable[ClientGroupDef]) -> list[str]:
    """Every file a check of these client files reads: the files, their playbooks' layers, their data and
    their competitors' data."""
    return [
        file
        for group in groups
        for sources in (group.template.sources, *(data for _, data in group.template.competitors))
        for file in (group.path, *group.playbook.files, *(str(source.path) for source in sources))
    ]


STDOUT = "-"
# FORMAT=PATH: a format's name is a word; anything else before "=" is part of a file name (./a=b.csv).
_NAMED = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)=(.*)", re.DOTALL)


@dataclass(frozen=True)
class PlannedOutput:
    format: str
    path: Path | None  # None: the terminal (standard output)
    folder: bool = False  # a folder of files (an HTML report's index and pages), written by kpi_rules.folders


def plan_outputs(
    values: Iterable[str],
    explicit_format: str | None,
    *,
    formats: Collection[str],
    suffixes: Mapping[str, str],
    binary: Collection[str] = (),
    folders: Collection[str] = (),
    default_format: str = "table",
    inputs: Iterable[str | Path] = (),
) -> list[PlannedOutput]:
    """Where a run writes and in which format; InputError (every problem at once) unless all can be written.

    Each value is PATH (the format follows the suffix, else ``explicit_format``), FORMAT=PATH, or ``-`` (the
    terminal, in ``explicit_format``). A PATH ending with / (or FORMAT=PATH naming a folder) is a folder, for
    the ``folders`` formats (the first of them unless one is named). No value: the terminal. An explicit format that no output uses is an error
    (``--format json --output report.txt`` would otherwise write a table).
    """
    values = list(values)
    inputs = list(inputs)
    if not values:
        values = [STDOUT]
    planned: list[PlannedOutput] = []
    problems: list[Diagnostic] = []
    seen: dict[str, str] = {}
    listed = ", ".join(sorted(formats))
    for value in values:
        named = _NAMED.fullmatch(value)
        name, text = (named[1].lower(), named[2]) if named else (None, value)
        if name is not None and name not in formats:
            problems.append(_option_problem(
                f'--output {value}: unknown format "{name}"{did_you_mean(name, formats)}; formats: {listed} '
                f"(a file whose name has =: ./{value})"
            ))
            continue
        if text == STDOUT:
            chosen = name or explicit_format or default_format
            if chosen in binary:
                problems.append(_option_problem(f"{chosen} is written to a file: give --output report{_suffix_of(chosen, suffixes)}"))
            elif STDOUT in seen:
                problems.append(_option_problem("- (the terminal) is named twice"))
            else:
                seen[STDOUT] = value
                planned.append(PlannedOutput(chosen, None))
            continue
        path = Path(text)
        # A folder is asked for by a trailing slash, or by naming a folder format (html=reports): `--output .`
        # keeps meaning a file that cannot be written.
        if folders and (text.endswith(("/", os.sep)) or (name in folders and os.path.isdir(text))):
            from kpi_rules.folders import check_output_folder

            chosen = name or explicit_format or next(iter(folders))
            if chosen not in folders:
                problems.append(_option_problem(f"--output {value}: {chosen} is written to a file, not a folder; folders take {', '.join(folders)}"))
                continue
            try:
                check_output_folder(path, inputs)
            except InputError as error:
                problems += error.diagnostics
                continue
            planned.append(PlannedOutput(chosen, path, folder=True))
            seen[os.path.realpath(path)] = value
            continue
        try:
            check_output(path, inputs)
        except InputError as error:
            problems += error.diagnostics
            continue
        chosen = name or suffixes.get(path.suffix.lower()) or explicit_format
        if chosen is None:
            known = ", ".join(f"{suffix} ({format})" for suffix, format in suffixes.items())
            problems.append(_option_problem(
                f'--output {value}: the suffix "{path.suffix}" names no format: use {known}, name it ({default_format}={value}) or give --format'
            ))
            continue
        key = os.path.realpath(path)
        if key in seen:
            problems.append(_option_problem(f"--output {value}: the same file as --output {seen[key]}: each output needs a file of its own"))
            continue
        seen[key] = value
        planned.append(PlannedOutput(chosen, path))
    if not problems and explicit_format is not None and all(output.format != explicit_format for output in planned):
        problems.append(_option_problem(
            f"--format {explicit_format} is used by no output ("
            + ", ".join(f"{output.path} is {output.format}" for output in planned)
            + f"): name it ({explicit_format}=FILE), or add --output - for the terminal"
        ))
    if problems:
        raise InputError(problems)
    return planned


def _suffix_of(format: str, suffixes: Mapping[str, str]) -> str:
    return next((suffix for suffix, name in suffixes.items() if name == format), "")


def _option_problem(message: str) -> Diagnostic:
    return Diagnostic("--output", None, None, "KR401", message)


def check_output(output: Path, inputs: Iterable[str | Path] = ()) -> None:
    """Raise InputError unless ``output`` can be written without harming a file; cheap, so call it early."""
    target = Path(os.path.realpath(output))
    for source in inputs:
        if _same_file(target, Path(source)):
            raise _problem(output, "KR005", f'is "{source}", an input of this run: write the report to another file')
    try:
        existing, folder = _stat_or_none(target), _stat_or_none(target.parent)
    except OSError as error:  # a name too long, a loop of links
        raise _cannot_write(output, error) from None
    if existing and stat.S_ISDIR(existing.st_mode):
        raise _problem(output, "KR001", "is a folder: give the name of a file to write")
    if not folder or not stat.S_ISDIR(folder.st_mode):
        raise _problem(output, "KR001", f'cannot write: folder "{target.parent}" {"is not a folder" if folder else "does not exist"}')
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise _problem(output, "KR001", f'cannot write: no permission to create files in folder "{target.parent}"')
    if existing and not stat.S_ISREG(existing.st_mode):
        # A device or pipe (/dev/stdout): renaming over it would replace it; leave --output out to write to the terminal.
        raise _problem(output, "KR001", "cannot write: not a regular file")
    if existing and not os.access(target, os.W_OK):
        raise _problem(output, "KR001", "cannot write: the file is read-only")


@contextmanager
def open_output(output: Path, *, binary: bool = False, inputs: Iterable[str | Path] = ()) -> Iterator[IO]:
    """A stream (text in UTF-8, or bytes) whose content replaces ``output`` atomically when the block ends.

    If the block raises (KeyboardInterrupt too), the temporary file is removed and ``output`` is untouched.
    A symlinked output is written where the link points, keeping the link. OSError becomes KR001.
    """
    check_output(output, inputs)
    target = Path(os.path.realpath(output))
    _remove_stale_temporaries(target.parent)
    try:
        descriptor, name = _create_temporary(target.parent)
    except OSError as error:
        raise _cannot_write(output, error) from None
    stream = os.fdopen(descriptor, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"}))
    try:
        _keep_mode(descriptor, target)
        yield stream
        stream.flush()
        name = name or _give_name(descriptor, target.parent)
        stream.close()
        os.replace(name, target)
    except BaseException as error:
        with suppress(OSError):
            stream.close()
        if name is not None:
            name.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _cannot_write(output, error) from None
        raise


def _same_file(target: Path, source: Path) -> bool:
    # (device, inode) after following links: catches "a/../b", symlinks and hard links, which paths alone miss.
    try:
        return os.path.samestat(os.stat(target), os.stat(source))
    except OSError:
        return False  # an input that is not there cannot be overwritten


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _create_temporary(folder: Path) -> tuple[int, Path | None]:
    """A new file in ``folder``, mode 0666 less the umask like any new file: nameless if the system allows."""
    if hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o666), None
        except OSError as error:
            # Not every file system has O_TMPFILE (NFS, some FUSE): take a named file then.
            if error.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
    while True:
        name = _temporary_name(folder)
        try:
            # O_EXCL: never an existing file, nor a symlink planted under the name (O_NOFOLLOW as well).
            return os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o666), name
        except FileExistsError:
            continue


def _give_name(descriptor: int, folder: Path) -> Path:
    """A name for a nameless temporary file, so that it can be renamed over the output."""
    folder_descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        while True:
            name = _temporary_name(folder)
            try:
                # With dst_dir_fd Python calls linkat(2) with AT_SYMLINK_FOLLOW, which links the open file
                # itself (plain link(2) would try to link /proc's symlink); it refuses an existing name.
                os.link(f"/proc/self/fd/{descriptor}", name.name, dst_dir_fd=folder_descriptor)
                return name
            except FileExistsError:
                continue
    finally:
        os.close(folder_descriptor)


def _temporary_name(folder: Path) -> Path:
    # Short whatever the output's name, so a 255-character file name still has room for its temporary file.
    return folder / f".kpi-rules-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files that killed writers left here: ours by name, owner and a dead process id.

    Best effort: a folder we may write in but not list must not stop the report.
    """
    if os.name != "posix":
        return  # os.kill(pid, 0) asks about a process only on POSIX; on Windows it sends Ctrl+C
    with suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMPORARY.fullmatch(entry.name)
            if match and entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.geteuid():
                if not _process_exists(int(match[1])):
                    Path(entry.path).unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, run by someone else
    return True


def _keep_mode(descriptor: int, target: Path) -> None:
    """A replaced output keeps its permissions; a new one has what the umask gives any new file."""
    try:
        os.chmod(descriptor, stat.S_IMODE(target.stat().st_mode))
    except FileNotFoundError:
        pass


def _cannot_write(output: Path, error: OSError) -> InputError:
    reason = error.strerror or str(error)
    return _problem(output, "KR001", f"cannot write: {reason[:1].lower()}{reason[1:]}")


def _problem(output: Path, code: str, message: str) -> InputError:
    return InputError([Diagnostic(str(output), None, None, code, message)])
