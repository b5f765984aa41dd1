# SPDX-License-Identifier: GPL-2.0-or-later
"""No orphaned VMMs: a test harness killed by its own timeout (meson's, say)
must not leave a vessel-vmm running a guest on a CPU for ever, stealing time
from every later test and benchmark."""

import ctypes
import signal

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """subprocess preexec_fn: the child gets SIGKILL when its parent dies."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
