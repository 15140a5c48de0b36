"""``Required`` for the TypedDicts of :mod:`rustllm.types` on every supported Python.

``typing.Required`` arrived in 3.11 and typing_extensions is not a dependency; before
3.11, ``Required[X]`` reads as plain ``X`` (the key then counts as optional in
``__required_keys__``, which affects introspection only, never a call).
"""

import sys

if sys.version_info >= (3, 11):
    from typing import Required
else:  # pragma: no cover - exercised on 3.9/3.10 only

    class _RequiredAlias:
        def __getitem__(self, item: object) -> object:
            return item

    Required = _RequiredAlias()

__all__ = ["Required"]
