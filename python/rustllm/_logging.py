"""rustllm's diagnostic logs, on LiteLLM's loggers; silent unless asked.

The loggers are LiteLLM's: ``LiteLLM`` (each call, and at DEBUG each HTTP request and
raw reply), ``LiteLLM Router`` (routing decisions, each deployment call's outcome,
retries, cooldowns, fallbacks) and ``LiteLLM Proxy``. ``from litellm._logging import
verbose_logger`` gives the same objects under :func:`rustllm.install_as_litellm`.

What turns them on:

* ``rustllm.set_verbose = True``: everything at DEBUG, raw requests and replies included
  (takes effect at the next call);
* ``LITELLM_LOG=DEBUG`` (or ``INFO``, ...) in the environment, read once at import;
* ``rustllm.turn_on_debug()``: everything at DEBUG;
* ``Router(set_verbose=True, debug_level="INFO" | "DEBUG")``: that Router's lines.

Nothing is logged, and nothing printed, until one of them is used. The HTTP records are
made by the Rust core, which reads one atomic per call to know whether to make them:
:func:`_push` sets it whenever what is asked for changes.

**Where the lines go.** A switch sets the loggers' levels and attaches
:class:`_FallbackHandler`, which prints a record on stderr in LiteLLM's format only when
no handler of the program's own would receive it (the loggers propagate as usual). So a
program that never configured logging sees the lines, a program that did (``basicConfig``,
``dictConfig``, pytest's ``caplog``) gets them through its own handlers, and neither sees
a line twice, whether logging was configured before or after the switch. (LiteLLM gives
its loggers a stderr handler at import and lets them propagate as well, which doubles
every line once the program configures logging.)

**Secrets** are masked before any text reaches a logger: credential headers, credential
query parameters, passwords in URLs, and the call's key wherever it appears.
"""

from __future__ import annotations

import logging
import sys
import threading

from rustllm import _core

verbose_logger = logging.getLogger("LiteLLM")
verbose_router_logger = logging.getLogger("LiteLLM Router")
verbose_proxy_logger = logging.getLogger("LiteLLM Proxy")
_LOGGERS = (verbose_logger, verbose_router_logger, verbose_proxy_logger)

# LiteLLM's line format (without its colour codes, which make files and log collectors
# unreadable).
LOG_FORMAT = "%(asctime)s - %(name)s:%(levelname)s: %(filename)s:%(lineno)s - %(message)s"


def _shown_elsewhere(record: logging.LogRecord, mine: logging.Handler) -> bool:
    """Whether a handler other than ``mine`` (and not a NullHandler) will receive
    ``record``, walking the loggers as ``Logger.callHandlers`` does."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        for handler in logger.handlers:
            if handler is mine or isinstance(handler, logging.NullHandler):
                continue
            if record.levelno >= handler.level:
                return True
        if not logger.propagate:
            return False
        logger = logger.parent  # type: ignore[assignment]
    return False


class _FallbackHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Prints on the current ``sys.stderr`` the records no other handler receives: like
    ``logging.lastResort``, but for the levels a switch asked for."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)
        self.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))

    @property
    def stream(self) -> object:  # type: ignore[override]
        return sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        if not _shown_elsewhere(record, self):
            super().emit(record)


_handler = _FallbackHandler()

# What the switches ask for (Python level numbers; None: nothing).
_env_level: int | None = None
_debug = False
_verbose = False
# The most verbose level a ``Router(set_verbose=True)`` asked for.
_router_level: int | None = None
# Levels the loggers had before a switch changed them, put back when it is turned off
# (unless the program set another level since), and the levels the switches set.
_saved: dict[str, int] = {}
_set: dict[str, int] = {}
# Held while a switch changes and its levels are applied: two threads that both see a
# changed switch (two calls right after ``set_verbose = True``) apply it one after the
# other, and ``_saved`` / ``_set`` are never edited by two at once.
_lock = threading.RLock()


def _after_fork_in_child() -> None:
    """A lock another thread held at a fork would never be released in the child."""
    global _lock
    _lock = threading.RLock()


def _wanted() -> int | None:
    """The level every logger is set to by the process-wide switches."""
    levels = [level for level in (_env_level, logging.DEBUG if (_debug or _verbose) else None) if level is not None]
    return min(levels) if levels else None


def _level_for(logger: logging.Logger) -> int | None:
    wanted = _wanted()
    if logger is verbose_router_logger and _router_level is not None:
        return _router_level if wanted is None else min(wanted, _router_level)
    return wanted


def _push() -> None:
    """Apply what the switches ask for: the loggers' levels (never less verbose than a
    level the program set itself), the fallback handler, and the Rust core's thresholds."""
    on = False
    for logger in _LOGGERS:
        level = _level_for(logger)
        if level is None:
            if logger.name in _saved:
                saved, ours = _saved.pop(logger.name), _set.pop(logger.name)
                if logger.level == ours:
                    logger.setLevel(saved)
            continue
        on = True
        if logger.name in _saved and logger.level != _set[logger.name]:
            _saved[logger.name] = logger.level  # the program set a level of its own since
        own = _saved.setdefault(logger.name, logger.level)
        _set[logger.name] = min(level, own) if own != logging.NOTSET else level
        logger.setLevel(_set[logger.name])
    for logger in _LOGGERS:
        if not on:
            logger.removeHandler(_handler)
        elif _handler not in logger.handlers:
            logger.addHandler(_handler)
    wanted = _wanted()
    _core.set_log_level("LiteLLM", wanted)
    _core.set_log_level("LiteLLM Router", wanted)


def set_verbose(on: bool) -> None:
    """``rustllm.set_verbose`` changed (pushed by the next call)."""
    global _verbose
    with _lock:
        if _verbose != on:
            _verbose = on
            _push()


def turn_on_debug() -> None:
    """Every logger at DEBUG, raw HTTP requests and replies included."""
    global _debug
    with _lock:
        _debug = True
        _push()


def from_env(value: str | None) -> bool:
    """Apply ``LITELLM_LOG``; True when it asks for per-call lines (DEBUG or INFO)."""
    global _env_level
    name = (value or "").strip().upper()
    if name not in ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"):
        return False
    with _lock:
        _env_level = logging.getLevelName(name)
        _push()
    return name in ("DEBUG", "INFO")


def router_verbose(level: int) -> None:
    """A ``Router(set_verbose=True)`` was made: let Router records through at ``level``
    (the Router itself tells the core to make them), as LiteLLM's Router sets the
    ``LiteLLM Router`` logger's level."""
    global _router_level
    with _lock:
        _router_level = level if _router_level is None else min(level, _router_level)
        _push()


def _is_debugging_on() -> bool:
    """LiteLLM's check: the ``LiteLLM`` logger logs DEBUG, or ``set_verbose`` is on."""
    return verbose_logger.isEnabledFor(logging.DEBUG) or _verbose


def _turn_on_debug() -> None:
    """LiteLLM's name for :func:`turn_on_debug`."""
    import rustllm

    rustllm.turn_on_debug()


def _reset() -> None:
    """Every switch off, the loggers' levels put back, the handler removed (tests)."""
    global _env_level, _debug, _verbose, _router_level
    with _lock:
        _env_level, _debug, _verbose, _router_level = None, False, False, None
        _push()
