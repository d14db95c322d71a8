"""Ctrl-C that is never lost: a SIGINT handler that remembers, and checks at points of progress.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be. Raised
inside a finalizer or a weakref callback (``WeakKeyDictionary``'s, for one), it is printed as
"Exception ignored in ..." and dropped: the command goes on and exits 0. Inside
:func:`handling` (what every ``onerecord`` command runs in) the handler also sets a flag, the
"Exception ignored" report of a dropped ``KeyboardInterrupt`` is silenced, and :func:`check`,
called where work advances (after each replicate, each finished sweep run, before a result
folder is renamed into place), raises it again. Outside :func:`handling` (a notebook, the API)
nothing changes and :func:`check` is a no-op.

Worker processes ignore SIGINT (:func:`ignore_in_worker`): a terminal's Ctrl-C reaches the
whole process group, and the parent alone decides what is kept; it stops its workers itself.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

_FLAG = threading.Event()


def _handler(signum, frame) -> None:
    _FLAG.set()
    raise KeyboardInterrupt


def _unraisable(hook_args) -> None:
    """Drop the report of a KeyboardInterrupt that a finalizer swallowed (:func:`check` raises it again)."""
    if hook_args.exc_type is not None and issubclass(hook_args.exc_type, KeyboardInterrupt):
        return
    sys.__unraisablehook__(hook_args)


@contextmanager
def handling():
    """Install the remembering SIGINT handler (main thread only) for the duration; check once more on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _FLAG.clear()
    previous, previous_hook = signal.signal(signal.SIGINT, _handler), sys.unraisablehook
    sys.unraisablehook = _unraisable
    try:
        yield
        check()
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook


def requested() -> bool:
    """Whether a Ctrl-C came since :func:`handling` started."""
    return _FLAG.is_set()


def check() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came (also one that a finalizer swallowed)."""
    if _FLAG.is_set():
        raise KeyboardInterrupt


def ignore_in_worker() -> None:
    """In a worker process: ignore SIGINT (the parent stops its workers) and forget a parent's flag."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _FLAG.clear()
