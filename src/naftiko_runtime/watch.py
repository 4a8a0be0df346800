"""`serve --watch`: what a build read, and whether any of it changed since.

A build's reads are recorded as it runs, through an audit hook (`sys.addaudithook`): every file it
opens (capabilities, binds files, companion documents, shared consumes, scripts, prompt templates,
schema files) and every directory it lists, wherever they are, with no list to keep in step with
the loaders. The hook is installed only under `--watch` and, outside a build, returns after one
test. The directory of each file read is watched too (its YAML and JSON files and subdirectories),
so a companion file that appears is seen.

Polling `stat` (no new dependency, and it works on network and container mounts, where change
events often do not arrive): a file counts as changed when its content hash differs, so a save
that writes the same bytes, or a `touch`, does not reload.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import naftiko_runtime

T = TypeVar("T")
WATCH_SECONDS = 1.0
_FILE_EVENTS = frozenset({"open"})
_DIRECTORY_EVENTS = frozenset({"os.scandir", "os.listdir"})
_DATA_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(slots=True)
class _Recording:
    thread: int
    files: set[str] = field(default_factory=set)
    directories: set[str] = field(default_factory=set)


_recording: _Recording | None = None
_hook_installed = False
_lock = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    recording = _recording
    if recording is None or threading.get_ident() != recording.thread:
        return
    if event in _FILE_EVENTS:
        target, mode = args[0], args[1]
        if isinstance(target, str | bytes | os.PathLike) and (mode is None or "r" in str(mode)):
            recording.files.add(os.path.abspath(os.fsdecode(target)))
    elif event in _DIRECTORY_EVENTS and args and isinstance(args[0], str | bytes | os.PathLike):
        recording.directories.add(os.path.abspath(os.fsdecode(args[0])))


def record_reads(build: Callable[[], T]) -> tuple[T | None, set[Path], BaseException | None]:
    """Run `build` (in this thread) and return its result or exception, and the files and directories it read."""
    global _recording, _hook_installed
    with _lock:  # one build at a time is recorded
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True
        recording = _Recording(threading.get_ident())
        _recording = recording
        try:
            result: T | None = build()
            failure: BaseException | None = None
        except Exception as exc:
            result, failure = None, exc
        finally:
            _recording = None
    read = {Path(path) for path in recording.files if _is_data(path)}
    read |= {Path(path) for path in recording.directories if _is_data(path)}
    return result, read, failure


def _ignored_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(naftiko_runtime.__file__)}
    return tuple(os.path.join(os.path.abspath(root), "") for root in roots)


_IGNORED_ROOTS = _ignored_roots()


def _is_data(path: str) -> bool:
    """Not the interpreter's, a library's or this package's own code (imports open files too)."""
    if path.startswith(_IGNORED_ROOTS) or "__pycache__" in path or path.endswith((".pyc", ".so")):
        return False
    return not path.startswith("/proc/") and not path.startswith("/dev/")


@dataclass(frozen=True, slots=True)
class _Seen:
    """A file's stat signature and content hash, or a directory's entries."""

    signature: tuple[int, int, int] | None
    content: str | frozenset[str] | None


class FileWatch:
    """The files and directories of the served build, and what they held then."""

    def __init__(self, paths: Iterable[Path] = ()) -> None:
        self._seen: dict[Path, _Seen] = {}
        self.watch(paths)

    @property
    def paths(self) -> list[Path]:
        return sorted(self._seen)

    def watch(self, paths: Iterable[Path]) -> None:
        """Remember these paths (and the directories of files among them) as they are now."""
        wanted = set()
        for path in paths:
            wanted.add(path)
            if not path.is_dir():
                wanted.add(path.parent)
        for path in wanted:
            self._seen[path] = _look(path)

    def replace(self, paths: Iterable[Path]) -> None:
        self._seen.clear()
        self.watch(paths)

    def changed(self) -> list[Path]:
        """Paths whose content changed since they were remembered (a stat first; hashed only if that moved)."""
        changed = []
        for path, seen in self._seen.items():
            signature = _signature(path)
            if signature == seen.signature:
                continue
            now = _look(path, signature)
            if now.content != seen.content or (now.signature is None) != (seen.signature is None):
                changed.append(path)
            else:
                self._seen[path] = now  # touched, not changed
        return changed


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


def _look(path: Path, signature: tuple[int, int, int] | None = None) -> _Seen:
    signature = signature or _signature(path)
    if signature is None:
        return _Seen(None, None)
    try:
        if path.is_dir():
            # What a load can pick up from a directory: YAML and JSON files, and subdirectories (not
            # editors' swap and backup files, nor a busy directory's unrelated files).
            with os.scandir(path) as entries:
                names = frozenset(
                    entry.name
                    for entry in entries
                    if not entry.name.startswith(".") and (entry.name.endswith(_DATA_SUFFIXES) or entry.is_dir())
                )
            return _Seen(signature, names)
        return _Seen(signature, hashlib.sha256(path.read_bytes()).hexdigest())
    except OSError:
        return _Seen(None, None)


def build_recorded(build: Callable[[], T], *, record: bool) -> tuple[T, set[Path]]:
    """`build()` and, when `record`, what it read; its exception raised as is."""
    if not record:
        return build(), set()
    result, reads, failure = record_reads(build)
    if failure is not None:
        raise failure
    assert result is not None
    return result, reads
