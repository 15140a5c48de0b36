"""The ``rustllm`` command: the Proxy Server.

``rustllm proxy --config config.yaml [--host H] [--port 4000] [--num_workers N]
[--detailed_debug]``, or LiteLLM's spelling ``rustllm --config config.yaml``. The
arguments go to the Rust server as they are (``rustllm --help`` lists them); Python does
nothing else, and runs nothing per request.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the proxy with ``argv`` (default: the command line) until SIGTERM or SIGINT;
    returns the exit code."""
    from rustllm import _core

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _core.serve_proxy(args)
    except KeyboardInterrupt:
        # Ctrl-C already stopped the server (it handles SIGINT itself); Python only saw
        # the signal once the server had returned.
        return 0


if __name__ == "__main__":
    sys.exit(main())
