"""The mock provider every benchmark talks to, in a process of its own.

Starts ``rustllm.testing.MockServer(record=False)`` (recording off, so memory stays flat
over hundreds of thousands of calls), prints its base URL on one line, and serves until
its standard input closes (the parent exited or closed the pipe) or it gets SIGTERM.
"""

from __future__ import annotations

import signal
import sys

from rustllm.testing import MockServer


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with MockServer(record=False) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
