"""LiteLLM-compatible response objects, in pure Python and without pydantic.

These classes mirror ``litellm.types.utils`` (reference: litellm 1.75.8): keyword
construction with LiteLLM's defaults, attribute *and* item access, ``model_dump`` and
friends, LiteLLM's exact ``repr``, pickling, copying and value equality. They are plain
Python objects so that ``import rustllm`` stays fast (no pydantic, openai or httpx).

Storage model (shared by every class, see ``_ResponseObject``): all public fields and
provider extras live in the instance ``__dict__``, in the order LiteLLM shows them;
private attributes (``_hidden_params``, ``_response_ms``, ...) live there too but start
with ``_`` and are skipped by repr, dumps, iteration and ``==``. A field that LiteLLM
deletes when it is None (``Message.reasoning_content``, ``Choices.logprobs``, ...) is
simply not stored, so it is absent from repr and dumps and reading it raises
AttributeError, exactly as with LiteLLM.

Each class has one "filler" function that turns a mapping (keyword arguments, or the
provider's parsed OpenAI-format JSON) into fields, converting nested dicts into the
nested classes. Keyword construction and the ``_from_openai`` fast path used by the
Rust core share these fillers, so both give identical objects.

Fast-path timings (CPython 3.11 on the 2-core build machine, ``timeit`` best of 5 runs
of 100k; payloads parsed from real OpenAI JSON):
  * ``ModelResponse._from_openai``, 1 choice + usage with both details + service_tier:
    ~5.6 us (keyword ``ModelResponse(**d)``: ~6.3 us);
  * ``ModelResponseStream._from_openai``, ``{"content": "Hel"}`` delta: ~1.8 us; with
    OpenAI's extra chunk keys (service_tier, ``usage: null``, obfuscation): ~2.3 us;
  * ``EmbeddingResponse._from_openai``, 1 item: ~2.0 us.
Module import: ~0.8 ms from .pyc (json is imported lazily).
"""

from __future__ import annotations

import builtins
import enum
import time as _time
from os import urandom as _urandom
from typing import TYPE_CHECKING, Any, ClassVar
from typing import TypedDict as _TypedDict

if TYPE_CHECKING:
    from rustllm.types._model_info import ModelInfo as ModelInfo

__all__ = [
    "CallTypes",
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "ChoiceLogprobs",
    "Choices",
    "CompletionTokensDetailsWrapper",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "FieldInfo",
    "FieldNotFoundError",
    "Function",
    "FunctionCall",
    "GenericStreamingChunk",
    "HiddenParams",
    "Logprobs",
    "Message",
    "ModelInfo",
    "ModelResponse",
    "ModelResponseBase",
    "ModelResponseStream",
    "PromptTokensDetailsWrapper",
    "ServerToolUse",
    "StreamingChoices",
    "TextChoices",
    "TextCompletionResponse",
    "TopLogprob",
    "TranscriptionResponse",
    "Usage",
    "all_litellm_params",
    "map_finish_reason",
]

_new = object.__new__
_now = _time.time

# json costs ~2 ms to import; it is only needed for dict tool arguments and JSON dumps.
_json_module = None


def _json():
    global _json_module
    if _json_module is None:
        import json

        _json_module = json
    return _json_module


def _uuid4() -> str:
    """``str(uuid.uuid4())`` without importing uuid (and about 3x faster)."""
    b = bytearray(_urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _generate_id() -> str:
    return "chatcmpl-" + _uuid4()


_FINISH_REASONS = {
    # Anthropic
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    # Vertex AI / Gemini, Cohere
    "STOP": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "COMPLETE": "stop",
    "ERROR_TOXIC": "content_filter",
    "ERROR": "stop",
    # Hugging Face TGI, Ollama
    "eos_token": "stop",
    "eos": "stop",
    # Bedrock
    "content_filtered": "content_filter",
}


def map_finish_reason(finish_reason: Any) -> Any:
    """Map a provider's finish reason to OpenAI's (``stop``, ``length``, ``tool_calls``,
    ``content_filter``, ...). Unknown values are returned unchanged."""
    try:
        return _FINISH_REASONS.get(finish_reason, finish_reason)
    except TypeError:  # unhashable
        return finish_reason


class FieldNotFoundError(KeyError, AttributeError):
    """Raised by ``obj["missing"]``.

    It is both a KeyError (what a dict user catches) and an AttributeError (what
    LiteLLM raises, since its ``__getitem__`` is ``getattr``). ``key`` holds the key.
    """

    def __init__(self, message: str, key: Any = None):
        super().__init__(message)
        self.key = key
        self.name = key  # AttributeError's field (KeyError's __init__ is the one that ran)

    def __reduce__(self) -> Any:
        return (type(self), (self.args[0], self.key))

    def __str__(self) -> str:
        return str(self.args[0])


# --------------------------------------------------------------------------------------
# shared base
# --------------------------------------------------------------------------------------


def _spec_allows(spec: Any, key: Any) -> tuple[bool, Any]:
    """pydantic-style ``include`` lookup: (is key included, nested spec)."""
    if spec is None:
        return True, None
    if isinstance(spec, dict):
        if key in spec:
            sub = spec[key]
        elif "__all__" in spec:
            sub = spec["__all__"]
        else:
            return False, None
        if sub is True or sub is ... or not sub:
            return True, None
        return True, sub
    return key in spec, None


def _spec_excludes(spec: Any, key: Any) -> tuple[bool, Any]:
    """pydantic-style ``exclude`` lookup: (is key wholly excluded, nested spec)."""
    if spec is None:
        return False, None
    if isinstance(spec, dict):
        if key in spec:
            sub = spec[key]
        elif "__all__" in spec:
            sub = spec["__all__"]
        else:
            return False, None
        if sub is True or sub is ...:
            return True, None
        return False, (sub or None)
    return key in spec, None


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _dump_value(v: Any, inc: Any, exc: Any, exclude_none: bool) -> Any:
    t = type(v)
    if t in _SCALARS:
        return v
    if isinstance(v, _ResponseObject):
        return v._dump(inc, exc, exclude_none)
    if t is list or t is tuple:
        if inc is None and exc is None:
            return [_dump_value(x, None, None, exclude_none) for x in v]
        out_l = []
        for i, x in enumerate(v):
            ok, sub_inc = _spec_allows(inc, i)
            if not ok:
                continue
            gone, sub_exc = _spec_excludes(exc, i)
            if gone:
                continue
            out_l.append(_dump_value(x, sub_inc, sub_exc, exclude_none))
        return out_l
    if t is dict:
        out_d = {}
        for k, x in v.items():
            if inc is not None or exc is not None:
                ok, sub_inc = _spec_allows(inc, k)
                if not ok:
                    continue
                gone, sub_exc = _spec_excludes(exc, k)
                if gone:
                    continue
            else:
                sub_inc = sub_exc = None
            out_d[k] = _dump_value(x, sub_inc, sub_exc, exclude_none)
        return out_d
    dump = getattr(v, "model_dump", None)  # a foreign pydantic model
    if dump is not None and callable(dump):
        try:
            return dump(exclude_none=exclude_none)
        except TypeError:
            return dump()
    return v


def _json_default(o: Any) -> Any:
    dump = getattr(o, "model_dump", None)
    if dump is not None and callable(dump):
        return dump()
    if isinstance(o, (set, frozenset)):
        return list(o)
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _mk(cls: type, filler: Any, src: Any) -> Any:
    """Create ``cls`` without ``__init__`` and fill its ``__dict__`` from ``src``."""
    o = _new(cls)
    filler(o.__dict__, src)
    return o


def _coerce(value: Any, cls: type) -> Any:
    """dict -> cls; foreign pydantic object -> cls(**dump); anything else unchanged."""
    if type(value) is dict:
        return _mk(cls, cls._fill, value)
    if isinstance(value, _ResponseObject):
        return value
    dump = getattr(value, "model_dump", None)
    if dump is not None and callable(dump):
        return _mk(cls, cls._fill, dump())
    return value


class FieldInfo:
    """An entry of ``Model.model_fields``, as pydantic shows one: frameworks list the
    declared fields (``name in type(resp).model_fields``); nothing validates them."""

    __slots__ = ("annotation", "default")

    def __init__(self, annotation: Any = Any, default: Any = None) -> None:
        self.annotation = annotation
        self.default = default

    def is_required(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"FieldInfo(annotation={self.annotation!r}, required=False, default={self.default!r})"


def _fields(*names: str) -> builtins.dict[str, FieldInfo]:
    return {name: FieldInfo() for name in names}


class _ResponseObject:
    """Base of all response objects: dict-style access, dumps, copy, equality, repr.

    Subclasses set ``_declared`` (the names LiteLLM declares as pydantic fields; they
    come first in repr and dumps, extras follow in insertion order), optionally
    ``_dump_exclude`` (fields shown in repr but never dumped), and ``_fill(d, src)``, a
    static function filling the instance dict ``d`` from the mapping ``src``.
    """

    _declared: frozenset = frozenset()
    _dump_exclude: frozenset = frozenset()
    # The fields LiteLLM's pydantic class declares, in its order; everything else an
    # instance holds is pydantic's "extra" (``ModelResponse.usage`` among them, which is
    # why crewai reads ``response.model_extra.get("usage")``).
    model_fields: ClassVar[builtins.dict[str, FieldInfo]] = {}

    @staticmethod
    def _fill(d: dict, src: dict) -> None:  # pragma: no cover - overridden
        d.update(src)

    # ---- pydantic introspection (computed on access: nothing is stored per instance) --
    @property
    def model_extra(self) -> builtins.dict[str, Any]:
        """The public attributes that are not declared fields (provider extras, and
        ``usage`` on ``ModelResponse`` and on the stream chunk that carries it)."""
        fields = self.model_fields
        return {k: v for k, v in self.__dict__.items() if k[:1] != "_" and k not in fields}

    @property
    def model_fields_set(self) -> set[str]:
        """The names of the fields and extras this instance holds."""
        return {k for k in self.__dict__ if k[:1] != "_"}

    # ---- field listing -------------------------------------------------------------
    def _public_items(self) -> list:
        items = self.__dict__.items()
        declared = self._declared
        if declared:
            out = [kv for kv in items if kv[0] in declared]
            out.extend(kv for kv in items if kv[0] not in declared and kv[0][:1] != "_")
            return out
        return [kv for kv in items if kv[0][:1] != "_"]

    def __repr__(self) -> str:
        fields = ", ".join([f"{k}={v!r}" for k, v in self._public_items()])
        return f"{type(self).__name__}({fields})"

    __str__ = __repr__

    def __iter__(self):
        """Yield ``(name, value)`` pairs, like a pydantic model."""
        return iter(self._public_items())

    # ---- dict-style access -----------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        try:
            return self.__dict__[key]
        except (KeyError, TypeError):
            pass
        if isinstance(key, str):
            try:
                return getattr(self, key)
            except AttributeError:
                pass
        msg = f"{type(self).__name__!r} object has no attribute {key!r}"
        raise FieldNotFoundError(msg, key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the field or extra ``key``, or ``default`` when it is absent."""
        d = self.__dict__
        try:
            if key in d:
                return d[key]
        except TypeError:
            return default
        if isinstance(key, str):
            return getattr(self, key, default)
        return default

    def __contains__(self, key: Any) -> bool:
        # Deliberate fix: LiteLLM's Message has no __contains__, so ``"content" in msg``
        # iterates (name, value) tuples and is always False. Here it is True whenever
        # the field or extra is present.
        try:
            return key in self.__dict__
        except TypeError:
            return False

    def __delattr__(self, name: str) -> None:
        # Like LiteLLM's SafeAttributeModel: deleting an absent attribute is a no-op.
        try:
            object.__delattr__(self, name)
        except AttributeError:
            pass

    # ---- equality --------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        # Values only: private attributes (_hidden_params, _response_ms) are ignored,
        # so a cache hit or a re-timed copy still equals the original.
        if type(other) is not type(self):
            return NotImplemented
        a = self.__dict__
        b = other.__dict__
        if a == b:
            return True
        return {k: v for k, v in a.items() if k[:1] != "_"} == {k: v for k, v in b.items() if k[:1] != "_"}

    __hash__ = None  # type: ignore[assignment]  # mutable, like pydantic models

    # ---- serialisation ---------------------------------------------------------------
    def _dump(self, inc: Any, exc: Any, exclude_none: bool) -> dict:
        out = {}
        skip = self._dump_exclude
        for k, v in self._public_items():
            if k in skip or (exclude_none and v is None):
                continue
            if inc is not None or exc is not None:
                ok, sub_inc = _spec_allows(inc, k)
                if not ok:
                    continue
                gone, sub_exc = _spec_excludes(exc, k)
                if gone:
                    continue
                out[k] = _dump_value(v, sub_inc, sub_exc, exclude_none)
            else:
                out[k] = _dump_value(v, None, None, exclude_none)
        return out

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Any = None,
        exclude: Any = None,
        exclude_none: bool = False,
        **kwargs: Any,
    ) -> builtins.dict[str, Any]:
        """Return the object as a dict of plain values (nested objects dumped too).

        ``include``/``exclude`` take a set of names or a nested dict, as in pydantic.
        Other pydantic keywords (``by_alias``, ``exclude_unset``, ...) are accepted and
        ignored.
        """
        return self._dump(include, exclude, exclude_none)

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        include: Any = None,
        exclude: Any = None,
        exclude_none: bool = False,
        **kwargs: Any,
    ) -> str:
        """Return the object as a JSON string (compact unless ``indent`` is given)."""
        data = self._dump(include, exclude, exclude_none)
        if indent is None:
            return _json().dumps(data, separators=(",", ":"), ensure_ascii=False, default=_json_default)
        return _json().dumps(data, indent=indent, ensure_ascii=False, default=_json_default)

    def json(self, **kwargs: Any) -> builtins.dict[str, Any]:
        """LiteLLM compatibility: returns ``model_dump()``, a dict (not a string)."""
        return self._dump(None, None, False)

    def dict(self, **kwargs: Any) -> builtins.dict[str, Any]:
        """pydantic v1 style alias of ``model_dump``; returns a dict."""
        return self.model_dump(**kwargs)

    def to_dict(self, *, exclude_none: bool = False, **kwargs: Any) -> builtins.dict[str, Any]:
        """openai-SDK style: returns the object as a dict."""
        return self._dump(None, None, exclude_none)

    def to_json(self, *, indent: int | None = 2, exclude_none: bool = False, **kwargs: Any) -> str:
        """openai-SDK style: returns a pretty-printed JSON string (indent 2)."""
        return self.model_dump_json(indent=indent, exclude_none=exclude_none)

    # ---- copying / construction helpers ----------------------------------------------
    def model_copy(self, *, update: builtins.dict[str, Any] | None = None, deep: bool = False) -> Any:
        """Return a copy (shallow unless ``deep``), private attributes included;
        ``update`` sets fields on the copy without validation, as pydantic does."""
        if deep:
            import copy

            new = copy.deepcopy(self)
        else:
            new = _new(type(self))
            new.__dict__.update(self.__dict__)
        if update:
            new.__dict__.update(update)
        return new

    def copy(self, **kwargs: Any) -> Any:
        """pydantic v1 style alias of ``model_copy``."""
        return self.model_copy(update=kwargs.get("update"), deep=kwargs.get("deep", False))

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        """Build an instance from a dict (or return ``obj`` if it already is one)."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, dict):
            return cls(**obj)
        dump = getattr(obj, "model_dump", None)
        if dump is not None and callable(dump):
            return cls(**dump())
        raise TypeError(f"cannot build {cls.__name__} from {type(obj).__name__}")

    @classmethod
    def model_validate_json(cls, data: Any, **kwargs: Any) -> Any:
        """Build an instance from a JSON string (e.g. a cached ``model_dump_json``)."""
        return cls(**_json().loads(data))

    @classmethod
    def model_construct(cls, **values: Any) -> Any:
        """Build an instance from keyword values (same as calling the class)."""
        return cls(**values)


class _SimpleObject(_ResponseObject):
    """A flat object described by ``_spec``: ``(name, hide_when_none, converter)``."""

    _spec: tuple = ()
    _known: frozenset = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._known = frozenset(name for name, _, _ in cls._spec)
        cls._declared = cls._known
        cls.model_fields = _fields(*(name for name, _, _ in cls._spec))
        spec = cls._spec
        known = cls._known

        def _fill(d: dict, src: dict) -> None:
            get = src.get
            for name, hide, conv in spec:
                v = get(name)
                if v is None:
                    if hide:
                        continue
                elif conv is not None:
                    v = conv(v)
                d[name] = v
            if not src.keys() <= known:
                for k, val in src.items():
                    if k not in known:
                        d[k] = val

        cls._fill = staticmethod(_fill)

    def __init__(self, **kwargs: Any) -> None:
        self._fill(self.__dict__, kwargs)


# --------------------------------------------------------------------------------------
# usage
# --------------------------------------------------------------------------------------


class CompletionTokensDetailsWrapper(_SimpleObject):
    """Breakdown of completion tokens (``reasoning_tokens``, ``audio_tokens``, ...)."""

    accepted_prediction_tokens: int | None
    audio_tokens: int | None
    reasoning_tokens: int | None
    rejected_prediction_tokens: int | None
    text_tokens: int | None

    _spec = (
        ("accepted_prediction_tokens", False, None),
        ("audio_tokens", False, None),
        ("reasoning_tokens", False, None),
        ("rejected_prediction_tokens", False, None),
        ("text_tokens", False, None),
    )


class PromptTokensDetailsWrapper(_SimpleObject):
    """Breakdown of prompt tokens (``cached_tokens``, ``audio_tokens``, ...).

    ``web_search_requests``, ``character_count``, ``image_count``,
    ``video_length_seconds`` and ``cache_creation_tokens`` are only present when set.
    """

    audio_tokens: int | None
    cached_tokens: int | None
    text_tokens: int | None
    image_tokens: int | None

    _spec = (
        ("audio_tokens", False, None),
        ("cached_tokens", False, None),
        ("text_tokens", False, None),
        ("image_tokens", False, None),
        ("web_search_requests", True, None),
        ("character_count", True, None),
        ("image_count", True, None),
        ("video_length_seconds", True, None),
        ("cache_creation_tokens", True, None),
    )


def _details(value: Any, cls: type) -> Any:
    if not value:
        return None
    if type(value) is dict:
        return _mk(cls, cls._fill, value)
    if isinstance(value, _ResponseObject):
        return value
    dump = getattr(value, "model_dump", None)
    if dump is not None and callable(dump):
        return _mk(cls, cls._fill, dump())
    return value


class ServerToolUse(_SimpleObject):
    """``usage.server_tool_use``: how many server-side tool calls the provider ran
    (Anthropic's ``web_search_requests``); other counters are kept as extras."""

    web_search_requests: int | None

    _spec = (("web_search_requests", False, None),)


_USAGE_KNOWN = frozenset(
    (
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "reasoning_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
        "server_tool_use",
        "cost",
    )
)


def _fill_usage(d: dict, src: dict) -> None:
    get = src.get
    pt = get("prompt_tokens") or 0
    ct = get("completion_tokens") or 0
    tt = get("total_tokens")
    if tt is None:
        # Deliberate fix: LiteLLM leaves total_tokens at 0 when it is not given;
        # the sum is what every caller expects.
        tt = pt + ct
    ctd = _details(get("completion_tokens_details"), CompletionTokensDetailsWrapper)
    ptd = _details(get("prompt_tokens_details"), PromptTokensDetailsWrapper)
    rt = get("reasoning_tokens")
    if rt:
        if ctd is None:
            ctd = CompletionTokensDetailsWrapper(reasoning_tokens=rt)
        elif getattr(ctd, "reasoning_tokens", None) is None:
            ctd.reasoning_tokens = rt
    d["completion_tokens"] = ct
    d["prompt_tokens"] = pt
    d["total_tokens"] = tt
    d["completion_tokens_details"] = ctd
    d["prompt_tokens_details"] = ptd
    v = get("server_tool_use")
    if v is not None:
        d["server_tool_use"] = _coerce(v, ServerToolUse)
    v = get("cost")
    if v is not None:
        d["cost"] = v
    if src.keys() <= _USAGE_KNOWN:
        return
    # Provider extras: Anthropic cache_*_input_tokens, DeepSeek prompt_cache_hit_tokens.
    cached = get("cache_read_input_tokens")
    if type(cached) is not int:
        cached = get("prompt_cache_hit_tokens")
    created = get("cache_creation_input_tokens")
    if type(cached) is int or type(created) is int:
        if ptd is None:
            ptd = d["prompt_tokens_details"] = PromptTokensDetailsWrapper()
        if type(cached) is int:
            ptd.cached_tokens = cached
            d["_cache_read_input_tokens"] = cached
        if type(created) is int:
            ptd.cache_creation_tokens = created
            d["_cache_creation_input_tokens"] = created
    for k, val in src.items():
        if k not in _USAGE_KNOWN:
            d[k] = val


class Usage(_ResponseObject):
    """Token usage: ``prompt_tokens``, ``completion_tokens``, ``total_tokens`` (0 by
    default) and the ``*_tokens_details`` wrappers. Extra provider fields such as
    ``cache_read_input_tokens`` are kept as attributes.

    Unlike LiteLLM, ``total_tokens`` defaults to ``prompt_tokens + completion_tokens``
    when it is not given.
    """

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    completion_tokens_details: CompletionTokensDetailsWrapper | None
    prompt_tokens_details: PromptTokensDetailsWrapper | None

    _declared = frozenset(
        (
            "completion_tokens",
            "prompt_tokens",
            "total_tokens",
            "completion_tokens_details",
            "prompt_tokens_details",
            "server_tool_use",
            "cost",
        )
    )
    model_fields = _fields(
        "completion_tokens",
        "prompt_tokens",
        "total_tokens",
        "completion_tokens_details",
        "prompt_tokens_details",
        "server_tool_use",
        "cost",
    )
    _fill = staticmethod(_fill_usage)
    _cache_creation_input_tokens = 0
    _cache_read_input_tokens = 0

    def __init__(
        self,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        total_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        prompt_tokens_details: Any = None,
        completion_tokens_details: Any = None,
        server_tool_use: Any = None,
        cost: float | None = None,
        **params: Any,
    ) -> None:
        params["prompt_tokens"] = prompt_tokens
        params["completion_tokens"] = completion_tokens
        params["total_tokens"] = total_tokens
        params["reasoning_tokens"] = reasoning_tokens
        params["prompt_tokens_details"] = prompt_tokens_details
        params["completion_tokens_details"] = completion_tokens_details
        params["server_tool_use"] = server_tool_use
        params["cost"] = cost
        _fill_usage(self.__dict__, params)


def _usage(value: Any) -> Any:
    if type(value) is dict:
        return _mk(Usage, _fill_usage, value)
    if isinstance(value, Usage) or value is None:
        return value
    dump = getattr(value, "model_dump", None)
    if dump is not None and callable(dump):
        return _mk(Usage, _fill_usage, dump())
    return value


# --------------------------------------------------------------------------------------
# functions and tool calls
# --------------------------------------------------------------------------------------


def _fill_function(d: dict, src: dict) -> None:
    get = src.get
    args = get("arguments")
    if args is None:
        args = ""
    elif type(args) is dict:
        args = _json().dumps(args)
    d["arguments"] = args
    d["name"] = get("name")
    if not src.keys() <= _FUNCTION_KNOWN:
        for k, val in src.items():
            if k not in _FUNCTION_KNOWN:
                d[k] = val


_FUNCTION_KNOWN = frozenset(("arguments", "name"))


class Function(_ResponseObject):
    """A tool call's function: ``name`` and ``arguments`` (a JSON string).

    A dict ``arguments`` is JSON-encoded (``json.dumps`` defaults); None becomes ``""``.
    """

    arguments: str
    name: str | None

    _declared = _FUNCTION_KNOWN
    model_fields = _fields("arguments", "name")
    _fill = staticmethod(_fill_function)

    def __init__(self, arguments: Any = None, name: str | None = None, **params: Any) -> None:
        params["arguments"] = arguments
        params["name"] = name
        _fill_function(self.__dict__, params)


class FunctionCall(_ResponseObject):
    """A legacy ``function_call``: ``arguments`` (JSON string) and ``name``."""

    arguments: str
    name: str | None

    _declared = _FUNCTION_KNOWN
    model_fields = _fields("arguments", "name")
    _fill = staticmethod(_fill_function)

    def __init__(self, arguments: Any = None, name: str | None = None, **params: Any) -> None:
        params["arguments"] = arguments
        params["name"] = name
        _fill_function(self.__dict__, params)


def _function(value: Any, cls: type = Function) -> Any:
    if type(value) is dict:
        return _mk(cls, _fill_function, value)
    if value is None:
        return _mk(cls, _fill_function, {})
    return value


_TOOL_CALL_KNOWN = frozenset(("function", "id", "type"))


def _fill_tool_call(d: dict, src: dict) -> None:
    # LiteLLM passes extras to the pydantic constructor first and sets function, id
    # and type afterwards, so extras (e.g. Anthropic's ``index``) come first.
    if not src.keys() <= _TOOL_CALL_KNOWN:
        for k, val in src.items():
            if k not in _TOOL_CALL_KNOWN:
                d[k] = val
    get = src.get
    d["function"] = _function(get("function"))
    tid = get("id")
    d["id"] = _uuid4() if tid is None else tid
    ttype = get("type")
    d["type"] = "function" if ttype is None else ttype


class ChatCompletionMessageToolCall(_ResponseObject):
    """A tool call in a ``Message``: ``function`` (a ``Function``), ``id`` (default
    ``str(uuid4())``) and ``type`` (default ``"function"``)."""

    function: Function
    id: str
    type: str

    _fill = staticmethod(_fill_tool_call)

    def __init__(
        self,
        function: Any = None,
        id: str | None = None,
        type: str | None = None,
        **params: Any,
    ) -> None:
        params["function"] = function
        params["id"] = id
        params["type"] = type
        _fill_tool_call(self.__dict__, params)


_DELTA_TOOL_CALL_KNOWN = frozenset(("id", "function", "type", "index"))


def _fill_delta_tool_call(d: dict, src: dict) -> None:
    get = src.get
    d["id"] = get("id")
    d["function"] = _function(get("function"))
    d["type"] = get("type")
    d["index"] = get("index", 0)
    if not src.keys() <= _DELTA_TOOL_CALL_KNOWN:
        for k, val in src.items():
            if k not in _DELTA_TOOL_CALL_KNOWN:
                d[k] = val


class ChatCompletionDeltaToolCall(_ResponseObject):
    """A tool-call fragment in a stream ``Delta``: ``id``, ``function``, ``type``,
    ``index``."""

    id: str | None
    function: Function
    type: str | None
    index: int

    _declared = _DELTA_TOOL_CALL_KNOWN
    model_fields = _fields("id", "function", "type", "index")
    _fill = staticmethod(_fill_delta_tool_call)

    def __init__(
        self,
        id: str | None = None,
        function: Any = None,
        type: str | None = None,
        index: int = 0,
        **params: Any,
    ) -> None:
        params["id"] = id
        params["function"] = function
        params["type"] = type
        params["index"] = index
        _fill_delta_tool_call(self.__dict__, params)


# --------------------------------------------------------------------------------------
# logprobs
# --------------------------------------------------------------------------------------


class TopLogprob(_SimpleObject):
    """One of the most likely tokens at a position: ``token``, ``bytes``, ``logprob``."""

    _spec = (("token", False, None), ("bytes", False, None), ("logprob", False, None))


def _validation_error(model: str, loc: tuple, value: Any, kind: str, message: str, **ctx: Any) -> Exception:
    """pydantic's ValidationError for a value LiteLLM's pydantic model would reject (a
    ValueError with the same text when pydantic is not installed)."""
    try:
        from pydantic_core import ValidationError
    except ImportError:
        where = ".".join(str(part) for part in loc)
        return ValueError(f"1 validation error for {model}\n{where}\n  {message} [type={kind}, input_value={value!r}]")
    error: dict[str, Any] = {"type": kind, "loc": loc, "input": value}
    if ctx:
        error["ctx"] = ctx
    return ValidationError.from_exception_data(model, [error])


def _top_logprobs(v: Any) -> list:
    # LiteLLM's pydantic field is a list of TopLogprob: a provider's null becomes [] (as
    # in current LiteLLM), anything else that is not a list is rejected.
    if v is None:
        return []
    if type(v) is not list and type(v) is not tuple:
        raise _validation_error(
            "ChatCompletionTokenLogprob", ("top_logprobs",), v, "list_type", "Input should be a valid list"
        )
    out = []
    for i, x in enumerate(v):
        if type(x) is dict:
            x = _mk(TopLogprob, TopLogprob._fill, x)
        elif not isinstance(x, TopLogprob):
            x = _coerce(x, TopLogprob)
            if not isinstance(x, TopLogprob):
                raise _validation_error(
                    "ChatCompletionTokenLogprob",
                    ("top_logprobs", i),
                    x,
                    "model_type",
                    "Input should be a valid dictionary or instance of TopLogprob",
                    class_name="TopLogprob",
                )
        out.append(x)
    return out


class ChatCompletionTokenLogprob(_SimpleObject):
    """Log probability of one output token, with its ``top_logprobs`` (a list of
    :class:`TopLogprob`; None is read as ``[]``, a value that is not a list raises
    pydantic's ValidationError, as LiteLLM's model does)."""

    _spec = (
        ("token", False, None),
        ("bytes", False, None),
        ("logprob", False, None),
        ("top_logprobs", False, None),
    )


# The generated filler skips converters for None; top_logprobs converts None too.
_fill_token_logprob_fields = ChatCompletionTokenLogprob._fill


def _fill_token_logprob(d: dict, src: dict) -> None:
    _fill_token_logprob_fields(d, src)
    d["top_logprobs"] = _top_logprobs(d["top_logprobs"])


ChatCompletionTokenLogprob._fill = staticmethod(_fill_token_logprob)  # type: ignore[method-assign]


def _token_logprobs(v: Any) -> Any:
    cls = ChatCompletionTokenLogprob
    return [_mk(cls, cls._fill, x) if type(x) is dict else x for x in v]


class ChoiceLogprobs(_SimpleObject):
    """``choice.logprobs``: ``content`` is a list of ``ChatCompletionTokenLogprob``."""

    _spec = (("content", False, _token_logprobs),)


class Logprobs(_SimpleObject):
    """Legacy text-completion logprobs (``tokens``, ``token_logprobs``, ...)."""

    _spec = (
        ("text_offset", False, None),
        ("token_logprobs", False, None),
        ("tokens", False, None),
        ("top_logprobs", False, None),
    )


def _logprobs(value: Any, cls: type = ChoiceLogprobs) -> Any:
    if type(value) is dict:
        return _mk(cls, cls._fill, value)
    return value


# --------------------------------------------------------------------------------------
# messages and choices
# --------------------------------------------------------------------------------------

# A Message's declared fields, in LiteLLM's order (model_fields), and as a set for lookups.
_MESSAGE_FIELDS = (
    "content",
    "role",
    "tool_calls",
    "function_call",
    "audio",
    "reasoning_content",
    "thinking_blocks",
    "provider_specific_fields",
    "annotations",
)
_MESSAGE_KNOWN = frozenset(_MESSAGE_FIELDS)


def _fill_message(d: dict, src: dict) -> None:
    get = src.get
    d["content"] = get("content")
    d["role"] = get("role") or "assistant"
    tcs = get("tool_calls")
    if tcs:
        d["tool_calls"] = [
            _mk(ChatCompletionMessageToolCall, _fill_tool_call, t) if type(t) is dict else t for t in tcs
        ]
    else:
        d["tool_calls"] = None  # LiteLLM stores [] as None
    fc = get("function_call")
    d["function_call"] = _mk(FunctionCall, _fill_function, fc) if type(fc) is dict else fc
    v = get("audio")
    if v is not None:
        d["audio"] = v
    v = get("reasoning_content")
    if v is not None:
        d["reasoning_content"] = v
    v = get("thinking_blocks")
    if v is not None:
        d["thinking_blocks"] = v
    d["provider_specific_fields"] = get("provider_specific_fields")
    v = get("annotations")
    if v is not None:
        d["annotations"] = v
    if not src.keys() <= _MESSAGE_KNOWN:
        for k, val in src.items():
            if k not in _MESSAGE_KNOWN:
                d[k] = val


class Message(_ResponseObject):
    """A chat message: ``content``, ``role`` (default ``"assistant"``), ``tool_calls``
    (list of ``ChatCompletionMessageToolCall``; ``[]`` is stored as None),
    ``function_call``, ``provider_specific_fields``.

    ``audio``, ``reasoning_content``, ``thinking_blocks`` and ``annotations`` exist only
    when not None. ``provider_specific_fields`` shows in repr but is never dumped.
    """

    content: str | None
    role: str
    tool_calls: list[ChatCompletionMessageToolCall] | None
    function_call: FunctionCall | None
    provider_specific_fields: dict[str, Any] | None

    _declared = _MESSAGE_KNOWN
    model_fields = _fields(*_MESSAGE_FIELDS)
    _dump_exclude = frozenset(("provider_specific_fields",))
    _fill = staticmethod(_fill_message)

    def __init__(
        self,
        content: str | None = None,
        role: str = "assistant",
        function_call: Any = None,
        tool_calls: list | None = None,
        audio: Any = None,
        provider_specific_fields: dict[str, Any] | None = None,
        reasoning_content: str | None = None,
        thinking_blocks: list | None = None,
        annotations: list | None = None,
        **params: Any,
    ) -> None:
        params["content"] = content
        params["role"] = role
        params["function_call"] = function_call
        params["tool_calls"] = tool_calls
        params["audio"] = audio
        params["provider_specific_fields"] = provider_specific_fields
        params["reasoning_content"] = reasoning_content
        params["thinking_blocks"] = thinking_blocks
        params["annotations"] = annotations
        _fill_message(self.__dict__, params)


_DELTA_DECLARED = frozenset(("reasoning_content", "thinking_blocks", "provider_specific_fields"))
_DELTA_KNOWN = frozenset(
    (
        "content",
        "role",
        "function_call",
        "tool_calls",
        "audio",
        "reasoning_content",
        "thinking_blocks",
        "provider_specific_fields",
        "annotations",
    )
)


_DELTA_COMMON = frozenset(("content", "role"))


def _delta_tool_calls(tcs: list) -> list:
    out = []
    next_index = 0
    for tc in tcs:
        if type(tc) is dict:
            if tc.get("index") is None or tc.get("type") is None:
                tc = dict(tc)
                if tc.get("index") is None:
                    tc["index"] = next_index
                    next_index += 1
                if tc.get("type") is None:
                    tc["type"] = "function"
            out.append(_mk(ChatCompletionDeltaToolCall, _fill_delta_tool_call, tc))
        else:
            out.append(tc)
    return out


def _fill_delta(d: dict, src: dict) -> None:
    # Order follows LiteLLM: declared fields (reasoning_content?, thinking_blocks?,
    # provider_specific_fields), then extras, then content, role, function_call,
    # tool_calls, audio (which LiteLLM sets as attributes after construction).
    get = src.get
    if src.keys() <= _DELTA_COMMON:  # fast path: a plain content/role delta
        d["provider_specific_fields"] = None
        d["content"] = get("content")
        d["role"] = get("role")
        d["function_call"] = None
        d["tool_calls"] = None
        d["audio"] = None
        return
    v = get("reasoning_content")
    if v is not None:
        d["reasoning_content"] = v
    v = get("thinking_blocks")
    if v is not None:
        d["thinking_blocks"] = v
    d["provider_specific_fields"] = get("provider_specific_fields")
    if not src.keys() <= _DELTA_KNOWN:
        for k, val in src.items():
            if k not in _DELTA_KNOWN:
                d[k] = val
    d["content"] = get("content")
    d["role"] = get("role")
    fc = get("function_call")
    d["function_call"] = _mk(FunctionCall, _fill_function, fc) if type(fc) is dict else fc
    tcs = get("tool_calls")
    d["tool_calls"] = _delta_tool_calls(tcs) if type(tcs) is list else tcs
    d["audio"] = get("audio")
    v = get("annotations")
    if v is not None:
        d["annotations"] = v


class Delta(_ResponseObject):
    """The incremental message in a stream chunk: ``content``, ``role``,
    ``function_call``, ``tool_calls`` (``ChatCompletionDeltaToolCall``), ``audio``,
    ``provider_specific_fields``; ``reasoning_content``/``thinking_blocks`` only when
    set."""

    content: str | None
    role: str | None
    function_call: FunctionCall | None
    tool_calls: list[ChatCompletionDeltaToolCall] | None
    audio: Any
    provider_specific_fields: dict[str, Any] | None

    _declared = _DELTA_DECLARED
    model_fields = _fields("reasoning_content", "thinking_blocks", "provider_specific_fields")
    _fill = staticmethod(_fill_delta)

    def __init__(
        self,
        content: str | None = None,
        role: str | None = None,
        function_call: Any = None,
        tool_calls: list | None = None,
        audio: Any = None,
        reasoning_content: str | None = None,
        thinking_blocks: list | None = None,
        annotations: list | None = None,
        **params: Any,
    ) -> None:
        params["content"] = content
        params["role"] = role
        params["function_call"] = function_call
        params["tool_calls"] = tool_calls
        params["audio"] = audio
        params["reasoning_content"] = reasoning_content
        params["thinking_blocks"] = thinking_blocks
        params["annotations"] = annotations
        _fill_delta(self.__dict__, params)


_CHOICES_KNOWN = frozenset(
    ("finish_reason", "index", "message", "logprobs", "provider_specific_fields", "enhancements")
)


def _fill_choices(d: dict, src: dict) -> None:
    get = src.get
    fr = get("finish_reason")
    d["finish_reason"] = "stop" if fr is None else map_finish_reason(fr)
    idx = get("index")
    d["index"] = 0 if idx is None else idx
    m = get("message")
    if type(m) is dict:
        m = _mk(Message, _fill_message, m)
    elif m is None:
        m = _mk(Message, _fill_message, {})
    elif not isinstance(m, Message):
        m = _coerce(m, Message)
    d["message"] = m
    v = get("logprobs")
    if v is not None:
        d["logprobs"] = _logprobs(v)
    v = get("provider_specific_fields")
    if v is not None:
        d["provider_specific_fields"] = v
    if not src.keys() <= _CHOICES_KNOWN:
        for k, val in src.items():
            if k not in _CHOICES_KNOWN:
                d[k] = val
    v = get("enhancements")
    if v is not None:
        d["enhancements"] = v


class Choices(_ResponseObject):
    """One choice of a ``ModelResponse``: ``finish_reason`` (mapped by
    ``map_finish_reason``, default ``"stop"``), ``index``, ``message``;
    ``logprobs``/``provider_specific_fields`` only when not None."""

    finish_reason: str
    index: int
    message: Message

    _declared = frozenset(("finish_reason", "index", "message", "logprobs", "provider_specific_fields"))
    model_fields = _fields("finish_reason", "index", "message", "logprobs", "provider_specific_fields")
    _fill = staticmethod(_fill_choices)

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        message: Any = None,
        logprobs: Any = None,
        enhancements: Any = None,
        provider_specific_fields: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        params["finish_reason"] = finish_reason
        params["index"] = index
        params["message"] = message
        params["logprobs"] = logprobs
        params["enhancements"] = enhancements
        params["provider_specific_fields"] = provider_specific_fields
        _fill_choices(self.__dict__, params)


_SCHOICES_KNOWN = frozenset(("finish_reason", "index", "delta", "logprobs", "enhancements", "message"))
_SCHOICES_COMMON = frozenset(("finish_reason", "index", "delta", "logprobs"))


def _fill_streaming_choices(d: dict, src: dict) -> None:
    # LiteLLM sets every field after construction, so extras come first. A ``message``
    # key next to ``delta`` (Perplexity) is dropped, as in LiteLLM.
    common = src.keys() <= _SCHOICES_COMMON
    if not common:
        for k, val in src.items():
            if k not in _SCHOICES_KNOWN:
                d[k] = val
    get = src.get
    fr = get("finish_reason")
    d["finish_reason"] = map_finish_reason(fr) if fr else None
    d["index"] = get("index", 0)
    dl = get("delta")
    if type(dl) is dict:
        o = _new(Delta)
        _fill_delta(o.__dict__, dl)
        dl = o
    elif dl is None:
        dl = _mk(Delta, _fill_delta, {})
    elif not isinstance(dl, Delta):
        dl = _coerce(dl, Delta)
    d["delta"] = dl
    if not common:
        v = get("enhancements")
        if v is not None:
            d["enhancements"] = v
    lp = get("logprobs")
    d["logprobs"] = None if lp is None else _logprobs(lp)


class StreamingChoices(_ResponseObject):
    """One choice of a stream chunk: ``finish_reason`` (mapped; None while streaming),
    ``index``, ``delta`` (a ``Delta``), ``logprobs``."""

    finish_reason: str | None
    index: int
    delta: Delta
    logprobs: Any

    _fill = staticmethod(_fill_streaming_choices)

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        delta: Any = None,
        logprobs: Any = None,
        enhancements: Any = None,
        **params: Any,
    ) -> None:
        params["finish_reason"] = finish_reason
        params["index"] = index
        params["delta"] = delta
        params["logprobs"] = logprobs
        params["enhancements"] = enhancements
        _fill_streaming_choices(self.__dict__, params)


# --------------------------------------------------------------------------------------
# top-level responses
# --------------------------------------------------------------------------------------

_MODEL_RESPONSE_KNOWN = frozenset(
    (
        "id",
        "choices",
        "created",
        "model",
        "object",
        "system_fingerprint",
        "usage",
        "stream",
        "stream_options",
        "response_ms",
        "hidden_params",
        "_response_headers",
    )
)


def _choice_list(ch: Any, cls: type, filler: Any) -> list:
    return [_mk(cls, filler, c) if type(c) is dict else (c if isinstance(c, cls) else _coerce(c, cls)) for c in ch]


def _fill_model_response(d: dict, src: dict) -> None:
    get = src.get
    rid = get("id")
    created = get("created")
    ch = get("choices")
    if get("stream") is True:
        obj = "chat.completion.chunk"
        if type(ch) is list:
            ch = _choice_list(ch, StreamingChoices, _fill_streaming_choices)
        else:
            ch = [_mk(StreamingChoices, _fill_streaming_choices, {})]
        usage = _usage(get("usage"))
    else:
        obj = "chat.completion"
        if type(ch) is list:
            ch = _choice_list(ch, Choices, _fill_choices)
        else:
            ch = [_mk(Choices, _fill_choices, {})]
        usage = get("usage")
        usage = _mk(Usage, _fill_usage, {}) if usage is None else _usage(usage)
    d["id"] = _generate_id() if rid is None else rid
    d["created"] = int(_now()) if created is None else created
    d["model"] = get("model")
    d["object"] = obj
    d["system_fingerprint"] = get("system_fingerprint")
    d["choices"] = ch
    if usage is not None:
        d["usage"] = usage
    if not src.keys() <= _MODEL_RESPONSE_KNOWN:
        for k, val in src.items():
            if k not in _MODEL_RESPONSE_KNOWN:
                d[k] = val


class ModelResponseBase(_ResponseObject):
    """The base LiteLLM gives :class:`ModelResponse` and :class:`ModelResponseStream`:
    ``isinstance(x, ModelResponseBase)`` holds for a reply and for a stream chunk."""

    model_fields = _fields("id", "created", "model", "object", "system_fingerprint")


class ModelResponse(ModelResponseBase):
    """The result of ``completion()``: ``id``, ``created``, ``model``, ``object``
    (``"chat.completion"``), ``system_fingerprint``, ``choices`` (``Choices``),
    ``usage`` (``Usage``) plus any extra provider fields (e.g. ``service_tier``).

    ``ModelResponse()`` has one empty ``Choices`` and ``Usage(0, 0, 0)``;
    ``ModelResponse(stream=True)`` is a ``chat.completion.chunk`` with
    ``StreamingChoices``. Private: ``_hidden_params`` (dict) and ``_response_ms``.
    Item assignment is not supported (TypeError), as in LiteLLM.
    """

    id: str
    created: int
    model: str | None
    object: str
    system_fingerprint: str | None
    choices: list[Choices]
    usage: Usage
    _hidden_params: dict[str, Any]
    _response_ms: float | None
    _response_headers: dict[str, Any] | None = None

    _declared = frozenset(("id", "created", "model", "object", "system_fingerprint", "choices", "usage"))
    model_fields = _fields("id", "created", "model", "object", "system_fingerprint", "choices")
    _fill = staticmethod(_fill_model_response)

    def __init__(
        self,
        id: str | None = None,
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        object: str | None = None,
        system_fingerprint: str | None = None,
        usage: Any = None,
        stream: bool | None = None,
        stream_options: dict | None = None,
        response_ms: float | None = None,
        hidden_params: dict | None = None,
        _response_headers: dict | None = None,
        **params: Any,
    ) -> None:
        params["id"] = id
        params["choices"] = choices
        params["created"] = created
        params["model"] = model
        params["system_fingerprint"] = system_fingerprint
        params["usage"] = usage
        params["stream"] = stream
        d = self.__dict__
        _fill_model_response(d, params)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = response_ms
        if _response_headers:
            d["_response_headers"] = _response_headers

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError(f"{type(self).__name__!r} object does not support item assignment")

    def _repr_html_(self) -> str:
        from rustllm.display import response_html

        return response_html(self)

    def _repr_markdown_(self) -> str:
        from rustllm.display import response_markdown

        return response_markdown(self)

    @classmethod
    def _from_openai(
        cls,
        d: dict[str, Any],
        hidden_params: dict[str, Any] | None = None,
        response_ms: float | None = None,
    ) -> ModelResponse:
        """Fast path for the Rust core: build from a provider's parsed OpenAI-format
        chat completion (plain dicts and lists; not copied, not validated). Missing keys
        get LiteLLM's defaults; unknown keys are kept as extras. A reply the core already
        built (the common shape, see src/py/objects.rs) is returned as it is."""
        if type(d) is cls:
            return d
        o = _new(cls)
        od = o.__dict__
        _fill_model_response(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o


_STREAM_KNOWN = frozenset(
    (
        "id",
        "created",
        "model",
        "object",
        "system_fingerprint",
        "choices",
        "provider_specific_fields",
        "hidden_params",
        "response_ms",
    )
)


def _fill_stream(d: dict, src: dict) -> None:
    get = src.get
    ch = get("choices")
    if type(ch) is list:
        new_ch = []
        for c in ch:
            if type(c) is dict:
                o = _new(StreamingChoices)
                _fill_streaming_choices(o.__dict__, c)
                c = o
            elif not isinstance(c, StreamingChoices):
                c = _coerce(c, StreamingChoices)
            new_ch.append(c)
        ch = new_ch
    else:
        ch = [_mk(StreamingChoices, _fill_streaming_choices, {})]
    rid = get("id")
    created = get("created")
    d["id"] = _generate_id() if rid is None else rid
    d["created"] = int(_now()) if created is None else created
    d["model"] = get("model")
    d["object"] = "chat.completion.chunk"
    d["system_fingerprint"] = get("system_fingerprint")
    d["choices"] = ch
    d["provider_specific_fields"] = get("provider_specific_fields")
    if not src.keys() <= _STREAM_KNOWN:
        for k, v in src.items():
            if k not in _STREAM_KNOWN:
                if k != "usage":
                    d[k] = v
                elif v is not None:
                    # ``usage`` exists only on the chunk that carries it (OpenAI sends
                    # ``"usage": null`` on every other chunk with include_usage).
                    d[k] = _usage(v)


class ModelResponseStream(ModelResponseBase):
    """One streamed chunk: ``id``, ``created``, ``model``, ``object``
    (``"chat.completion.chunk"``), ``system_fingerprint``, ``choices``
    (``StreamingChoices``), ``provider_specific_fields``; ``usage`` only on the chunk
    that carries it. Private: ``_hidden_params``, ``_response_ms``."""

    id: str
    created: int
    model: str | None
    object: str
    system_fingerprint: str | None
    choices: list[StreamingChoices]
    provider_specific_fields: dict[str, Any] | None
    _hidden_params: dict[str, Any]
    _response_ms: float | None

    _declared = frozenset(
        (
            "id",
            "created",
            "model",
            "object",
            "system_fingerprint",
            "choices",
            "provider_specific_fields",
        )
    )
    model_fields = _fields(
        "id", "created", "model", "object", "system_fingerprint", "choices", "provider_specific_fields"
    )
    _fill = staticmethod(_fill_stream)

    def __init__(
        self,
        choices: list | None = None,
        id: str | None = None,
        created: int | None = None,
        provider_specific_fields: dict[str, Any] | None = None,
        hidden_params: dict | None = None,
        response_ms: float | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["choices"] = choices
        kwargs["id"] = id
        kwargs["created"] = created
        kwargs["provider_specific_fields"] = provider_specific_fields
        d = self.__dict__
        _fill_stream(d, kwargs)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = response_ms

    def _repr_html_(self) -> str:
        from rustllm.display import chunk_html

        return chunk_html(self)

    @classmethod
    def _from_openai(
        cls,
        d: dict[str, Any],
        hidden_params: dict[str, Any] | None = None,
        response_ms: float | None = None,
    ) -> ModelResponseStream:
        """Fast path for the Rust core: build from one parsed OpenAI-format
        ``chat.completion.chunk`` (plain dicts; not copied, not validated)."""
        o = _new(cls)
        od = o.__dict__
        _fill_stream(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o


_EMBEDDING_KNOWN = frozenset(("model", "data", "object", "usage", "response_ms", "hidden_params", "_response_headers"))


def _fill_embedding(d: dict, src: dict) -> None:
    get = src.get
    data = get("data")
    usage = get("usage")
    d["model"] = get("model")
    d["data"] = data if data else []
    d["object"] = "list"
    d["usage"] = _usage(usage) if usage else _mk(Usage, _fill_usage, {})
    if not src.keys() <= _EMBEDDING_KNOWN:
        for k, val in src.items():
            if k not in _EMBEDDING_KNOWN:
                d[k] = val


_EMBEDDING_ITEM_KEYS = frozenset(("embedding", "index", "object"))


def _embedding_item(item: Any) -> Any:
    # LiteLLM shows items as {'embedding': [...], 'index': 0, 'object': 'embedding'};
    # OpenAI sends them in another key order.
    if type(item) is not dict:
        return item
    get = item.get
    out = {
        "embedding": get("embedding"),
        "index": get("index"),
        "object": get("object", "embedding"),
    }
    if not item.keys() <= _EMBEDDING_ITEM_KEYS:
        for k, val in item.items():
            if k not in _EMBEDDING_ITEM_KEYS:
                out[k] = val
    return out


class Embedding(_ResponseObject):
    """One embedding: ``embedding`` (a list of floats, or a base64 string), ``index``,
    ``object`` (``"embedding"``). ``embedding()`` returns its items as plain dicts of the
    same shape; this class is for building responses by hand."""

    embedding: list | str
    index: int | None
    object: str

    _declared = frozenset(("embedding", "index", "object"))
    model_fields = _fields("embedding", "index", "object")

    @staticmethod
    def _fill(d: dict, src: dict) -> None:
        get = src.get
        v = get("embedding")
        d["embedding"] = [] if v is None else v
        d["index"] = get("index")
        d["object"] = get("object", "embedding")
        for k, val in src.items():
            if k not in _EMBEDDING_ITEM_KEYS:
                d[k] = val

    def __init__(
        self, embedding: list | str | None = None, index: int | None = None, object: str = "embedding", **params: Any
    ) -> None:
        params["embedding"] = embedding
        params["index"] = index
        params["object"] = object
        self._fill(self.__dict__, params)


class EmbeddingResponse(_ResponseObject):
    """The result of ``embedding()``: ``model``, ``data`` (a list of plain dicts
    ``{'embedding': [...], 'index': 0, 'object': 'embedding'}``), ``object``
    (``"list"``), ``usage``. Private: ``_hidden_params``, ``_response_ms``."""

    model: str | None
    data: list
    object: str
    usage: Usage
    _hidden_params: dict[str, Any]
    _response_ms: float | None
    _response_headers: dict[str, Any] | None = None

    _declared = frozenset(("model", "data", "object", "usage"))
    model_fields = _fields("model", "data", "object", "usage")
    _fill = staticmethod(_fill_embedding)

    def __init__(
        self,
        model: str | None = None,
        usage: Any = None,
        response_ms: float | None = None,
        data: list | None = None,
        hidden_params: dict | None = None,
        _response_headers: dict | None = None,
        **params: Any,
    ) -> None:
        params["model"] = model
        params["usage"] = usage
        params["data"] = data
        d = self.__dict__
        _fill_embedding(d, params)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = response_ms
        if _response_headers:
            d["_response_headers"] = _response_headers

    def _repr_html_(self) -> str:
        from rustllm.display import embedding_html

        return embedding_html(self)

    @classmethod
    def _from_openai(
        cls,
        d: dict[str, Any],
        hidden_params: dict[str, Any] | None = None,
        response_ms: float | None = None,
    ) -> EmbeddingResponse:
        """Fast path for the Rust core: build from a parsed OpenAI-format embeddings
        response (``data`` items must already hold float lists, not base64)."""
        data = d.get("data")
        if data:
            d = dict(d)
            d["data"] = [_embedding_item(x) for x in data]
        o = _new(cls)
        od = o.__dict__
        _fill_embedding(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o


_TEXT_CHOICES_KNOWN = frozenset(("finish_reason", "index", "text", "logprobs"))


def _fill_text_choices(d: dict, src: dict) -> None:
    if not src.keys() <= _TEXT_CHOICES_KNOWN:
        for k, val in src.items():
            if k not in _TEXT_CHOICES_KNOWN:
                d[k] = val
    get = src.get
    fr = get("finish_reason")
    d["finish_reason"] = map_finish_reason(fr) if fr else None
    d["index"] = get("index", 0)
    d["text"] = get("text")
    lp = get("logprobs")
    d["logprobs"] = _logprobs(lp, Logprobs) if lp is not None else None


class TextChoices(_ResponseObject):
    """One choice of a ``TextCompletionResponse``: ``finish_reason``, ``index``,
    ``text``, ``logprobs``."""

    finish_reason: str | None
    index: int
    text: str | None
    logprobs: Any

    _fill = staticmethod(_fill_text_choices)

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        text: str | None = None,
        logprobs: Any = None,
        **params: Any,
    ) -> None:
        params["finish_reason"] = finish_reason
        params["index"] = index
        params["text"] = text
        params["logprobs"] = logprobs
        _fill_text_choices(self.__dict__, params)


_TEXT_RESPONSE_KNOWN = frozenset(
    (
        "id",
        "choices",
        "created",
        "model",
        "usage",
        "stream",
        "response_ms",
        "object",
        "hidden_params",
    )
)


def _fill_text_response(d: dict, src: dict) -> None:
    get = src.get
    if get("stream"):
        obj = "text_completion.chunk"
        ch = [_mk(TextChoices, _fill_text_choices, {})]
    else:
        obj = "text_completion"
        ch = get("choices")
        if type(ch) is list:
            ch = _choice_list(ch, TextChoices, _fill_text_choices)
        else:
            ch = [_mk(TextChoices, _fill_text_choices, {})]
    rid = get("id")
    created = get("created")
    usage = get("usage")
    d["id"] = _generate_id() if rid is None else rid
    d["object"] = obj
    d["created"] = int(_now()) if created is None else created
    d["model"] = get("model")
    d["choices"] = ch
    d["usage"] = _usage(usage) if usage else _mk(Usage, _fill_usage, {})
    if not src.keys() <= _TEXT_RESPONSE_KNOWN:
        for k, val in src.items():
            if k not in _TEXT_RESPONSE_KNOWN:
                d[k] = val


class TextCompletionResponse(_ResponseObject):
    """The result of ``text_completion()``: ``id``, ``object`` (``"text_completion"``),
    ``created``, ``model``, ``choices`` (``TextChoices``), ``usage``; extras such as
    ``system_fingerprint`` follow. Private: ``_hidden_params``, ``_response_ms``."""

    id: str
    object: str
    created: int
    model: str | None
    choices: list[TextChoices]
    usage: Usage
    _hidden_params: dict[str, Any]
    _response_ms: float | None

    _declared = frozenset(("id", "object", "created", "model", "choices", "usage"))
    model_fields = _fields("id", "object", "created", "model", "choices", "usage")
    _fill = staticmethod(_fill_text_response)

    def __init__(
        self,
        id: str | None = None,
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        usage: Any = None,
        stream: bool = False,
        response_ms: float | None = None,
        object: str | None = None,
        hidden_params: dict | None = None,
        **params: Any,
    ) -> None:
        params["id"] = id
        params["choices"] = choices
        params["created"] = created
        params["model"] = model
        params["usage"] = usage
        params["stream"] = stream
        d = self.__dict__
        _fill_text_response(d, params)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = response_ms

    @classmethod
    def _from_openai(
        cls,
        d: dict[str, Any],
        hidden_params: dict[str, Any] | None = None,
        response_ms: float | None = None,
    ) -> TextCompletionResponse:
        """Fast path for the Rust core: build from a parsed OpenAI ``/completions``
        response (plain dicts; not copied, not validated)."""
        o = _new(cls)
        od = o.__dict__
        _fill_text_response(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o


def _core_litellm_params() -> list[str]:
    from rustllm import _core

    return _core.litellm_params()


class TranscriptionResponse(_ResponseObject):
    """LiteLLM's reply type for audio transcription (what ``transcription`` returns):
    ``text``, plus what the provider sent beside it (``task``, ``language``,
    ``duration``, ``segments``, ``words``, ``usage`` for verbose_json). Priced with
    ``completion_cost(completion_response=r, call_type="transcription")``."""

    text: str | None
    _hidden_params: dict[str, Any]
    _response_headers: dict[str, Any] | None = None

    _declared = frozenset(("text",))
    model_fields = _fields("text")

    def __init__(self, text: str | None = None) -> None:
        d = self.__dict__
        d["text"] = text
        d["_hidden_params"] = {}

    @classmethod
    def _from_core(
        cls, body: dict[str, Any], hidden_params: dict[str, Any] | None = None, response_ms: float | None = None
    ) -> TranscriptionResponse:
        """Build from the reply the Rust core returns (the provider's JSON, or
        ``{"text": ...}`` for the text formats)."""
        o = cls(body.get("text"))
        d = o.__dict__
        for k, v in body.items():
            if k != "text":
                d[k] = v
        d["_hidden_params"] = {} if hidden_params is None else hidden_params
        d["_response_ms"] = response_ms
        return o


class HiddenParams(_ResponseObject):
    """LiteLLM's typed form of a response's ``_hidden_params``: ``original_response``,
    ``model_id``, ``api_base``, ``response_cost`` and extras. ``_response_ms``, when set,
    is dumped too (LiteLLM's model does that)."""

    original_response: Any
    model_id: str | None
    api_base: str | None
    response_cost: float | None
    _response_ms: float | None = None

    _declared = frozenset(("original_response", "model_id", "api_base", "response_cost"))
    model_fields = _fields("original_response", "model_id", "api_base", "response_cost")

    @staticmethod
    def _fill(d: dict, src: dict) -> None:
        for name in ("original_response", "model_id", "api_base", "response_cost"):
            d[name] = src.get(name)
        for k, val in src.items():
            if k not in d:
                d[k] = val

    def __init__(self, **params: Any) -> None:
        self._fill(self.__dict__, params)

    def _dump(self, inc: Any, exc: Any, exclude_none: bool) -> dict:
        out = super()._dump(inc, exc, exclude_none)
        ms = self.__dict__.get("_response_ms")
        if not (exclude_none and ms is None) and _spec_allows(inc, "_response_ms")[0]:
            if not _spec_excludes(exc, "_response_ms")[0]:
                out["_response_ms"] = ms
        return out


class CallTypes(enum.Enum):
    """The kinds of call LiteLLM names in callbacks, caching and cost calculation
    (``CallTypes("acompletion")``, ``CallTypes.embedding.value``). rustllm serves
    completion, text completion, embedding, responses, anthropic messages, rerank,
    moderation, image generation and speech calls; the other members exist so that code naming them keeps
    working."""

    embedding = "embedding"
    aembedding = "aembedding"
    completion = "completion"
    acompletion = "acompletion"
    atext_completion = "atext_completion"
    text_completion = "text_completion"
    image_generation = "image_generation"
    aimage_generation = "aimage_generation"
    image_edit = "image_edit"
    aimage_edit = "aimage_edit"
    moderation = "moderation"
    amoderation = "amoderation"
    atranscription = "atranscription"
    transcription = "transcription"
    aspeech = "aspeech"
    speech = "speech"
    rerank = "rerank"
    arerank = "arerank"
    arealtime = "_arealtime"
    create_batch = "create_batch"
    acreate_batch = "acreate_batch"
    aretrieve_batch = "aretrieve_batch"
    retrieve_batch = "retrieve_batch"
    pass_through = "pass_through_endpoint"
    anthropic_messages = "anthropic_messages"
    get_assistants = "get_assistants"
    aget_assistants = "aget_assistants"
    create_assistants = "create_assistants"
    acreate_assistants = "acreate_assistants"
    delete_assistant = "delete_assistant"
    adelete_assistant = "adelete_assistant"
    acreate_thread = "acreate_thread"
    create_thread = "create_thread"
    aget_thread = "aget_thread"
    get_thread = "get_thread"
    a_add_message = "a_add_message"
    add_message = "add_message"
    aget_messages = "aget_messages"
    get_messages = "get_messages"
    arun_thread = "arun_thread"
    run_thread = "run_thread"
    arun_thread_stream = "arun_thread_stream"
    run_thread_stream = "run_thread_stream"
    afile_retrieve = "afile_retrieve"
    file_retrieve = "file_retrieve"
    afile_delete = "afile_delete"
    file_delete = "file_delete"
    afile_list = "afile_list"
    file_list = "file_list"
    acreate_file = "acreate_file"
    create_file = "create_file"
    afile_content = "afile_content"
    file_content = "file_content"
    create_fine_tuning_job = "create_fine_tuning_job"
    acreate_fine_tuning_job = "acreate_fine_tuning_job"
    acancel_fine_tuning_job = "acancel_fine_tuning_job"
    cancel_fine_tuning_job = "cancel_fine_tuning_job"
    alist_fine_tuning_jobs = "alist_fine_tuning_jobs"
    list_fine_tuning_jobs = "list_fine_tuning_jobs"
    aretrieve_fine_tuning_job = "aretrieve_fine_tuning_job"
    retrieve_fine_tuning_job = "retrieve_fine_tuning_job"
    responses = "responses"
    aresponses = "aresponses"
    alist_input_items = "alist_input_items"
    llm_passthrough_route = "llm_passthrough_route"
    allm_passthrough_route = "allm_passthrough_route"
    generate_content = "generate_content"
    agenerate_content = "agenerate_content"
    generate_content_stream = "generate_content_stream"
    agenerate_content_stream = "agenerate_content_stream"
    call_mcp_tool = "call_mcp_tool"


def _register_with_core() -> None:
    # The core builds common chat replies straight into these classes.
    from rustllm import _core

    _core.register_reply_types(
        ModelResponse, Choices, Message, Usage, PromptTokensDetailsWrapper, CompletionTokensDetailsWrapper
    )


_register_with_core()


class GenericStreamingChunk(_TypedDict, total=False):
    """One item a custom provider's ``streaming``/``astreaming`` yields (see
    :mod:`rustllm.custom_llm`): ``text``, ``is_finished``, ``finish_reason`` and ``usage``
    are required; ``index``, ``tool_use`` and ``provider_specific_fields`` optional."""

    text: str
    tool_use: dict | None
    is_finished: bool
    finish_reason: str
    usage: dict | None
    index: int
    provider_specific_fields: dict | None


# LiteLLM's own keyword arguments: consumed or dropped, never sent to a provider. The one
# list lives in Rust (src/types/litellm_params.rs); this is LiteLLM's public name for it.
all_litellm_params: list[str] = _core_litellm_params()


def __getattr__(name: str) -> Any:
    # ModelInfo (get_model_info's TypedDict) costs ~3 ms to build: built on first use.
    if name == "ModelInfo":
        from rustllm.types._model_info import ModelInfo

        return ModelInfo
    if name in ("ImageResponse", "ImageObject"):
        from rustllm.types import _images

        return getattr(_images, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
