"""One build per output folder: an exclusive `flock` on `<out>/.lock`, held for the whole build.

Two builds in one folder would each resume the other's half-finished batches and rename files over each other's:
the result could mix two recipes. The second build fails at once instead. `flock` (not a pid file) because the
kernel drops the lock when its holder dies, however it dies: a `kill -9`'d build never leaves a stale lock that
someone has to delete by hand. The lock file stays (deleting it would let a third build lock a fresh inode while
the second still holds the old one); it holds the holder's pid, for the error message only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cmedins.parquet_io import cannot_write, ensure_dir

try:
    import fcntl
except ImportError:  # not POSIX: no locking (the runner's process handling is POSIX-only as well)
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class BuildInUse(RuntimeError):
    """Another live build holds the output folder; one line naming the folder and the holder's pid."""


@contextmanager
def build_lock(out_dir: Path) -> Iterator[Path]:
    """Hold `<out_dir>/.lock` exclusively until the block ends; raise `BuildInUse` if another build holds it.

    A folder that cannot be created or a lock file that cannot be opened for writing is `CannotWrite`: a build
    there would fail on its first write anyway, so it fails before doing any work.
    """
    ensure_dir(out_dir)
    path = out_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BuildInUse(f"{out_dir} is in use by another build (pid {_holder(fd)})") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            raise cannot_write(path, exc) from None
        yield path
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    """The pid the holder wrote, or 'unknown' if it has not written it yet (it locks first, then writes)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"
