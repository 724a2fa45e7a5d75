"""Atomic output: write beside the target, then rename over it.

A build that fails, or is interrupted, never leaves a half-written file and
never removes an earlier good one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

Blob = bytes | Path  # the bytes of an output, or a file already rendered (on the same disk) to put there


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes | str, mode: int | None = None) -> None:
    """One file written atomically; `mode` keeps a file's own permissions (else the umask's)."""
    write_all_atomic({path: data.encode("utf-8") if isinstance(data, str) else data}, {path: mode} if mode else None)


def write_all_atomic(files: dict[Path, Blob], modes: dict[Path, int] | None = None) -> None:
    """Write several outputs as one: every file is staged first, then all are renamed into place.

    A failure while staging (a full disk, a folder where a file should go) leaves every earlier
    output as it was. A rendered file is hard-linked into its place (copied where links fail), so one
    render can fill two outputs (the stems and the Logic template's stems).
    """
    for path in files:
        if path.is_dir():
            raise IsADirectoryError(21, "a folder stands where this output goes", str(path))
        blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
        if blocking is not None:
            raise NotADirectoryError(20, "a file stands where this output folder goes", str(blocking))
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((temporary, path))
            if isinstance(data, Path):
                os.close(handle)
                _place(data, Path(temporary))
            else:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
            os.chmod(temporary, (modes or {}).get(path) or 0o666 & ~_umask())
        for temporary, path in staged:
            os.replace(temporary, path)
    except BaseException:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise


def _place(rendered: Path, temporary: Path) -> None:
    temporary.unlink()
    try:
        os.link(rendered, temporary)
    except OSError:  # another file system, or one without links
        shutil.copyfile(rendered, temporary)
    with open(temporary, "rb") as stream:
        os.fsync(stream.fileno())
