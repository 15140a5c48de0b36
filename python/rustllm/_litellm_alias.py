"""The import hook behind :func:`rustllm.install_as_litellm`.

A ``sys.meta_path`` finder that answers ``import litellm`` and ``import litellm.x.y``
with the rustllm module objects themselves (``litellm.utils is rustllm.utils``), for
the modules listed in :mod:`rustllm._litellm_tree`. Nothing is copied and nothing runs
at interpreter start: this module is imported only when ``install_as_litellm()`` is
called, so ``import rustllm`` pays nothing for it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from typing import Any

from rustllm._litellm_tree import MODULES

_PREFIX = "litellm."
_PROVIDED = frozenset(MODULES)


class LiteLLMAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``litellm`` and its listed submodules to the ``rustllm`` modules."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == "litellm":
            suffix = ""
        elif fullname.startswith(_PREFIX):
            suffix = fullname[len(_PREFIX) :]
            if suffix not in _PROVIDED:
                # Raising (instead of returning None) keeps an installed real litellm from
                # filling in the gaps: half of one library and half of the other would
                # fail in ways much harder to read than this.
                raise ModuleNotFoundError(
                    f"No module named {fullname!r}: rustllm stands in for litellm here "
                    f"(rustllm.install_as_litellm()) and does not provide {fullname!r}; it is "
                    "out of scope (rustllm provides LiteLLM's public SDK modules, listed in "
                    "rustllm._litellm_tree.MODULES, not its provider internals or proxy).",
                    name=fullname,
                )
        else:
            return None
        target_name = f"rustllm.{suffix}" if suffix else "rustllm"
        return importlib.machinery.ModuleSpec(fullname, self, loader_state=target_name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        module = importlib.import_module(spec.loader_state)
        # The import system overwrites __spec__ of the module we return; remember the
        # real one so exec_module can put it back (rustllm.x keeps its own identity).
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: Any) -> None:
        spec = module.__spec__
        original = getattr(spec, "loader_state", None)
        if isinstance(original, importlib.machinery.ModuleSpec):
            module.__spec__ = original


def install() -> None:
    """Install the finder once; refuse if the real litellm is already imported."""
    rustllm = sys.modules["rustllm"]
    present = sys.modules.get("litellm")
    if present is not None and present is not rustllm:
        raise RuntimeError(
            "rustllm.install_as_litellm(): the real litellm is already imported "
            f"({getattr(present, '__file__', present)!r}), so modules that imported it would keep "
            "using it. Call install_as_litellm() before anything imports litellm (first thing in "
            "your entry point), or run your program with `python -m rustllm.as_litellm app.py`."
        )
    if any(isinstance(finder, LiteLLMAliasFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, LiteLLMAliasFinder())
    _answer_to_litellm_module_checks()


def _answer_to_litellm_module_checks() -> None:
    """Response classes report ``litellm.types.utils`` as their module while rustllm stands
    in for litellm: frameworks tell LiteLLM's objects by it (dspy's streamify keeps only
    chunks whose ``type(chunk).__module__`` starts with ``litellm``). Pickles then name
    ``litellm.types.utils``, which this process (and any child that installs the hook)
    resolves to the same classes."""
    from rustllm.types import utils

    for value in vars(utils).values():
        if isinstance(value, type) and value.__module__ == "rustllm.types.utils":
            value.__module__ = "litellm.types.utils"
