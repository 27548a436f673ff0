"""Every file the build writes goes through here: fixed Parquet settings (same rows, same bytes) and atomic writes.

Atomic means temp file + rename: a killed build, a full disk or a read-only folder never leaves a half-written file
under its real name, and a failed write removes its temp file too. Temp names carry the writer's pid, so two
processes writing the same file (a resumed build and a dying orphan worker of the killed one) never share a temp
file. A write that fails raises `CannotWrite`, one line naming the file and the OS's reason (never a value).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

WRITE_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True, "use_dictionary": True}
TMP_SUFFIX = ".tmp"


class CannotWrite(Exception):
    """A file or folder of the build could not be written (read-only folder, full disk, quota...).

    Not an OSError on purpose: the nested write helpers convert OSError only once, and this crosses process
    boundaries intact (its args pickle), so a worker's full disk reads the same as the main process's.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


def cannot_write(path: Path | str, exc: OSError) -> CannotWrite:
    """The one-line error for `exc`: the OS's short reason (pyarrow's own text repeats paths and details)."""
    reason = os.strerror(exc.errno) if exc.errno else (exc.strerror or type(exc).__name__)
    return CannotWrite(str(path), reason)


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Turn an OSError raised while writing `path` (or a file the OSError names) into `CannotWrite`.

    For code that writes through other modules (synthetic sources, report, charts): the error names the file.
    """
    try:
        yield
    except OSError as exc:
        raise cannot_write(exc.filename or path, exc) from None


def tmp_path(path: Path) -> Path:
    """This process's temp name for `path`, in the same folder (so the final rename is atomic)."""
    return path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")


def discard(path: Path) -> None:
    """Remove a temp file if it is there; never raises (it runs while another error is on its way out)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def remove_stale_tmp(folder: Path) -> None:
    """Remove temp files a killed writer left in `folder` (they are never read: only renamed files count)."""
    if folder.is_dir():
        for p in folder.glob(f"*{TMP_SUFFIX}"):
            discard(p)


def ensure_dir(path: Path) -> Path:
    """`mkdir -p`, with a read-only parent reported as `CannotWrite`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    return path


def _replace_atomically(path: Path, write_tmp: Callable[[Path], object]) -> None:
    """Write via `write_tmp(temp)` then rename; on any failure the temp file goes and `path` is untouched."""
    tmp = tmp_path(path)
    try:
        write_tmp(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise cannot_write(path, exc) from None
    except BaseException:
        discard(tmp)
        raise


def write_table(table: pa.Table, path: Path, row_group_rows: int = 10_000) -> None:
    """Write atomically: a killed build never leaves a half-written file under `path`."""
    _replace_atomically(path, lambda tmp: pq.write_table(table, tmp, row_group_size=row_group_rows,
                                                         **WRITE_OPTIONS))


def write_text(text: str, path: Path) -> None:
    """Write UTF-8 text atomically (manifests, batch stats: their presence marks work as done)."""
    _replace_atomically(path, lambda tmp: tmp.write_bytes(text.encode("utf-8")))


def copy_file(src: Path, dst: Path) -> None:
    """Copy atomically, so a reader of `dst` (the published output) never sees half a file."""
    _replace_atomically(dst, lambda tmp: shutil.copyfile(src, tmp))


class RowGroupWriter:
    """Streams batches into one parquet file with row groups of exactly `rows` rows (the last may be shorter).

    The runner hands row group i of a stage's output to the next stage as its batch i, so fixed-size row groups
    make batching independent of how the upstream stage happened to chunk its output.

    Use it as a context manager: leaving the block normally closes it (renames the temp file into place), an
    exception aborts it (removes the temp file), so a failed stage leaves no half-written output behind.
    """

    def __init__(self, path: Path, schema: pa.Schema, rows: int) -> None:
        self.path, self.rows = path, rows
        self._tmp = tmp_path(path)
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows_written = 0
        self.closed = False
        with self._guard():
            self._writer = pq.ParquetWriter(self._tmp, schema, **WRITE_OPTIONS)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            self.abort()
            raise cannot_write(self.path, exc) from None

    def __enter__(self) -> RowGroupWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.closed:
            self.close()

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self.rows:
            self._flush(self.rows)

    def _flush(self, n: int) -> None:
        buffered = pa.concat_tables(self._pending)
        head, tail = buffered.slice(0, n), buffered.slice(n)
        assert self._writer is not None
        with self._guard():
            self._writer.write_table(head.combine_chunks(), row_group_size=n)
        self.rows_written += head.num_rows
        self._pending = [tail] if tail.num_rows else []
        self._pending_rows = tail.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        assert self._writer is not None
        with self._guard():
            self._writer.close()
            os.replace(self._tmp, self.path)
        self.closed = True

    def abort(self) -> None:
        """Drop the temp file; the real `path` is left as it was (absent, or a previous complete file)."""
        if self.closed:
            return
        self.closed = True
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # already failing: the temp file goes either way
                pass
        discard(self._tmp)
