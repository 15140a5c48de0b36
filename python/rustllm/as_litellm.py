"""Run a program you do not edit with rustllm standing in for litellm.

    python -m rustllm.as_litellm app.py [args...]
    python -m rustllm.as_litellm -m package.module [args...]

:func:`rustllm.install_as_litellm` is called, then the program runs as ``python app.py``
or ``python -m package.module`` would run it: as ``__main__``, with the ``sys.argv`` it
expects, and its exit code passed through. Nothing is installed into the environment:
only this process sees the substitution.
"""

from __future__ import annotations

import os
import runpy
import sys

_USAGE = "usage: python -m rustllm.as_litellm (script.py | -m module) [args ...]"


def main(argv: list[str] | None = None) -> int:
    """Run the script or module named in ``argv`` (default ``sys.argv[1:]``)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__ if args else _USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    import rustllm

    rustllm.install_as_litellm()
    if args[0] == "-m":
        if len(args) < 2:
            print(_USAGE, file=sys.stderr)
            return 2
        # run_module sets argv[0] to the module's file, as `python -m` does.
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        return 0
    script = args[0]
    sys.argv = list(args)
    # `python app.py` puts the script's directory first on sys.path.
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
