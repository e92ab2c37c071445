"""The ``ipadrop`` command's exit statuses, one home (documented in README.md,
"Command line"). A build script can tell a bad build from a flaky network."""

from __future__ import annotations

OK = 0
FAILED = 1  # anything else that went wrong (an API refusal, S3 access denied, ...)
USAGE = 2  # bad arguments or a missing file: nothing was sent
REJECTED = 3  # the IPA was rejected (here before uploading, or by the stack)
TIMED_OUT = 4  # uploaded, but no result within --timeout
UNREACHABLE = 5  # the stack, its API or its bucket could not be reached
UNINSTALLABLE = 6  # published, but no device can install it (``--allow-uninstallable``: 0)
INTERRUPTED = 130  # Ctrl-C
