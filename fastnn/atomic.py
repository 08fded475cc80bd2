"""Atomic file writes: a temporary file in the same folder, renamed over the target.

Readers see the old file or the new one, never a part; a crash mid-write leaves the old
file in place and no temporary file behind.
"""
from __future__ import annotations

import os
import stat
import tempfile


def _umask():
    """The process umask, read without changing it (os.umask would, racing other threads)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_folder(folder):
    """Make the rename itself durable (best effort: not every OS/filesystem allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path, write):
    """Call ``write(handle)`` on a binary temporary file, then rename it to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    # The file gets the permissions open() would have given it (mkstemp creates 0600),
    # or those of the file it replaces.
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fastnn-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
