"""The types users' checkers see are true at run time, and stay in step with the code.

``make lint`` type-checks ``tests/typing/user_code.py`` with mypy and pyright; these tests
run that same code against the MockServer (so it is real code, whose values have the
types it asserts) and check that what the type stubs and overloads declare holds: the
overloads list the parameters of the functions they describe, every ``routing_strategy``
the ``Literal`` admits builds a Router, ``get_model_info`` answers have ``ModelInfo``'s keys
and value types for every catalogued model, and the exceptions rustllm raises carry
``status_code`` / ``message`` / ``llm_provider`` / ``model`` of the types
``exceptions.pyi`` declares.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

import rustllm
from rustllm.router import RoutingStrategyName
from rustllm.types.utils import ModelInfo

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "python" / "rustllm"
sys.path.insert(0, str(HERE / "typing"))
import user_code  # noqa: E402  (tests/typing is not a package)

sys.path.remove(str(HERE / "typing"))


# -- the user code runs, and does what it says -----------------------------------------


def test_chat_stream_and_async(server):
    url = server.base_url
    assert user_code.chat(url) == "Hello from MockServer!"
    assert server.last_request.body["model"] == "qwen-turbo"
    assert user_code.stream(url) == "Hello from MockServer!"
    assert server.last_request.body["stream"] is True
    assert asyncio.run(user_code.achat(url)) == "Hello from MockServer!" * 2


def test_tool_calls_run_and_their_results_go_back(server):
    tool_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location": "Shanghai"}'},
    }
    server.respond(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "deepseek-chat",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": None, "tool_calls": [tool_call]},
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }
    )
    assert user_code.tools(server.base_url) == "Hello from MockServer!"
    first, second = server.requests
    assert first.body["tools"][0]["function"]["name"] == "get_weather"
    sent = second.body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1"
    assert sent[2]["tool_call_id"] == "call_1"
    assert json.loads(sent[2]["content"]) == {"location": "Shanghai", "temperature": "10", "unit": "celsius"}


def test_embedding_and_text_completion(server):
    vector = user_code.embed(server.base_url)
    assert len(vector) == 8 and all(isinstance(x, float) for x in vector)
    assert server.last_request.path.endswith("/embeddings")
    assert user_code.text(server.base_url) == "Hello from MockServer!" * 2
    assert server.last_request.path.endswith("/completions")
    assert "prompt" in server.last_request.body


def test_router_calls(server):
    assert user_code.route(server.base_url) == "Hello from MockServer!" * 5
    assert server.request_count == 6


def test_exception_attributes(server, monkeypatch):
    monkeypatch.setattr(rustllm, "num_retries", 0)
    server.respond(status=429)
    assert user_code.errors(server.base_url) == 430
    server.respond(status=400)
    assert user_code.errors(server.base_url) == 400
    assert user_code.errors(server.base_url) == 0


def test_catalogue_figures():
    assert user_code.catalogue() > 0


# -- the overloads list the parameters of what they describe ---------------------------


def _overloads(path: Path, name: str, cls: str | None = None) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The ``@overload`` definitions of ``name`` (a method of ``cls`` if given) in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scope: Any = tree
    if cls is not None:
        scope = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    found = []
    for node in ast.walk(scope):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            if any(isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list):
                found.append(node)
    return found


def _shape(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[tuple[str, str | None]], bool, bool]:
    """(named parameters in order with their defaults' source, has *args, has **kwargs)."""
    a = fn.args
    named = a.posonlyargs + a.args + a.kwonlyargs
    pos_defaults = [None] * (len(a.posonlyargs + a.args) - len(a.defaults)) + list(a.defaults)
    defaults = pos_defaults + list(a.kw_defaults)
    params = [(p.arg, None if d is None else ast.unparse(d)) for p, d in zip(named, defaults)]
    return params, a.vararg is not None, a.kwarg is not None


def _runtime_shape(fn: Any) -> tuple[list[tuple[str, str | None]], bool, bool]:
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    named = [
        (p.name, None if p.default is p.empty else repr(p.default))
        for p in params
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return (
        named,
        any(p.kind is p.VAR_POSITIONAL for p in params),
        any(p.kind is p.VAR_KEYWORD for p in params),
    )


# (file, name in it, class, the runtime function, the runtime default of `stream`: the
# Router's completion takes it in **kwargs, where absent means None)
OVERLOADED = [
    ("__init__.py", "_completion_signature", None, rustllm.completion, "None"),
    ("__init__.py", "_acompletion_signature", None, rustllm.acompletion, "None"),
    ("_text.py", "text_completion", None, rustllm.text_completion, "None"),
    ("_text.py", "atext_completion", None, rustllm.atext_completion, "None"),
    ("router.py", "completion", "Router", rustllm.Router.completion, "None"),
    ("router.py", "acompletion", "Router", rustllm.Router.acompletion, "False"),
]


@pytest.mark.parametrize(
    ("file", "name", "cls", "runtime", "stream_default"), OVERLOADED, ids=[o[1] for o in OVERLOADED]
)
def test_overloads_take_the_parameters_of_the_function(file, name, cls, runtime, stream_default):
    """Reply / stream / either: three overloads, each with the function's parameters and
    defaults (the stream overload requires ``stream=True``), so a parameter added to the
    function and not to its overloads fails here."""
    overloads = _overloads(PACKAGE / file, name, cls)
    assert len(overloads) == 3
    reply, stream, either = (ast.unparse(o.returns) for o in overloads if o.returns is not None)
    assert stream.endswith("StreamWrapper") and either == f"{reply} | {stream}"
    params, varargs, varkw = _runtime_shape(runtime)
    others = [p for p in params if p[0] != "stream"]
    for overload, expected_stream in zip(overloads, (stream_default, None, stream_default)):
        got, got_varargs, got_varkw = _shape(overload)
        got = [p for p in got if p[0] != "self"]
        assert ("stream", expected_stream) in got
        assert [p for p in got if p[0] != "stream"] == others
        assert (got_varargs, got_varkw) == (varargs, varkw)


def test_stream_true_gives_the_stream_type_at_run_time(server):
    """What the overloads promise is what comes back."""
    args = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": server.base_url,
        "api_key": "sk-test",
    }
    assert type(rustllm.completion(**args)) is rustllm.ModelResponse
    assert type(rustllm.completion(**args, stream=False)) is rustllm.ModelResponse
    assert type(rustllm.completion(**args, stream=True)) is rustllm.CustomStreamWrapper
    text = {
        "model": "text-completion-openai/gpt-3.5-turbo-instruct",
        "prompt": "hi",
        "api_base": server.base_url,
        "api_key": "sk-test",
    }
    assert type(rustllm.text_completion(**text)) is rustllm.TextCompletionResponse
    assert type(rustllm.text_completion(**text, stream=True)) is rustllm.TextCompletionStreamWrapper


# -- routing_strategy ------------------------------------------------------------------


@pytest.mark.parametrize("strategy", get_args(RoutingStrategyName))
def test_every_strategy_the_literal_admits_builds_a_router(strategy):
    deployment = {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test"}}
    router = rustllm.Router(model_list=[deployment], routing_strategy=strategy)
    assert router.routing_strategy == strategy
    assert router.get_settings()["routing_strategy"] == strategy


def test_a_strategy_outside_the_literal_is_refused():
    assert "provider-budget-routing" not in get_args(RoutingStrategyName)
    with pytest.raises(ValueError, match="routing_strategy"):
        rustllm.Router(model_list=[], routing_strategy="provider-budget-routing")  # type: ignore[arg-type]


# -- get_model_info and ModelInfo ------------------------------------------------------

SCALARS = {"int": int, "float": (int, float), "str": str, "bool": bool}


def holds(value: Any, annotation: str) -> bool:
    """Whether ``value`` has the type an annotation's text names (the forms the stubs use)."""
    alternatives = [a.strip() for a in annotation.split("|")]
    for alt in alternatives:
        if alt == "None" and value is None:
            return True
        if alt.startswith("Literal[") and value == int(alt[len("Literal[") : -1]):
            return True
        if alt in SCALARS and isinstance(value, SCALARS[alt]) and (alt == "bool" or not isinstance(value, bool)):
            return True
        if alt == "list[str]" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return True
        if alt == "dict[str, float]" and isinstance(value, dict):
            return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values())
        if alt == "Any":
            return True
    return False


def model_info_annotations() -> dict[str, str]:
    annotations: dict[str, str] = {}
    for cls in reversed(ModelInfo.__mro__):
        annotations.update(getattr(cls, "__annotations__", {}))
    return {k: v if isinstance(v, str) else v.__forward_arg__ for k, v in annotations.items()}


def test_model_info_matches_every_catalogued_model():
    """Every model in the map: ModelInfo's required keys are there, and each key
    ModelInfo names holds a value of its declared type."""
    annotations = model_info_annotations()
    required = ModelInfo.__required_keys__
    assert {"key", "max_input_tokens", "input_cost_per_token", "litellm_provider", "supports_vision"} <= required
    assert {"tpm", "rpm"} <= ModelInfo.__optional_keys__
    checked = 0
    for name in rustllm.model_list:
        if name == "sample_spec":  # the map's documentation entry: its values are prose
            continue
        try:
            info = rustllm.get_model_info(name)
        except Exception:  # noqa: BLE001 - a few names are not resolvable on their own
            continue
        missing = required - info.keys()
        assert not missing, (name, missing)
        wrong = {k: info[k] for k in annotations if k in info and not holds(info[k], annotations[k])}
        assert not wrong, (name, wrong)
        checked += 1
    assert checked > 1000


def test_a_registered_model_without_provider_has_none_for_it():
    rustllm.register_model({"typing-test-bare-model": {"input_cost_per_token": 1e-6, "mode": "chat"}})
    info = rustllm.get_model_info("typing-test-bare-model")
    assert info["litellm_provider"] is None
    assert info["max_tokens"] is None and info["output_cost_per_token"] == 0
    assert all(holds(info[k], a) for k, a in model_info_annotations().items() if k in info)


def test_model_info_is_built_on_first_use_only():
    code = (
        "import sys, rustllm, rustllm.types.utils as u\n"
        "assert 'rustllm.types._model_info' not in sys.modules\n"
        "from rustllm.types.utils import ModelInfo\n"
        "assert ModelInfo is u.ModelInfo and 'rustllm.types._model_info' in sys.modules\n"
        "assert ModelInfo.__name__ == 'ModelInfo' and 'key' in ModelInfo.__required_keys__\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- exceptions: what exceptions.pyi declares holds for what rustllm raises ------------


def stub_attributes() -> dict[str, tuple[list[str], dict[str, str]]]:
    """class name -> (base names, {attribute: annotation}) from exceptions.pyi."""
    tree = ast.parse((PACKAGE / "exceptions.pyi").read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            attrs = {
                s.target.id: ast.unparse(s.annotation)
                for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            }
            out[node.name] = ([ast.unparse(b) for b in node.bases], attrs)
    return out


def declared(stub: dict[str, tuple[list[str], dict[str, str]]], cls: str, attr: str) -> str | None:
    """The annotation of ``attr`` on ``cls`` or the first stub base declaring it."""
    bases, attrs = stub[cls]
    if attr in attrs:
        return attrs[attr]
    for base in bases:
        if base in stub:
            found = declared(stub, base, attr)
            if found is not None:
                return found
    return None


RAISED = [
    ("openai/error-400", "BadRequestError"),
    ("openai/error-401", "AuthenticationError"),
    ("openai/error-403", "PermissionDeniedError"),
    ("openai/error-404", "NotFoundError"),
    ("openai/error-422", "UnprocessableEntityError"),
    ("openai/error-429", "RateLimitError"),
    ("openai/error-500", "InternalServerError"),
    ("openai/error-502", "BadGatewayError"),
    ("openai/error-503", "ServiceUnavailableError"),
    ("openai/error-418", "APIError"),
    ("openai/context-window-error", "ContextWindowExceededError"),
    ("openai/content-policy-error", "ContentPolicyViolationError"),
    ("openai/slow-2000", "Timeout"),
    ("not-a-provider/some-model", "BadRequestError"),
]


@pytest.mark.parametrize(("model", "kind"), RAISED, ids=[r[0] for r in RAISED])
def test_raised_exceptions_have_the_declared_attribute_types(server, model, kind):
    stub = stub_attributes()
    with pytest.raises(Exception) as caught:
        rustllm.completion(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            api_base=server.base_url,
            api_key="sk-test",
            timeout=0.2,
            num_retries=0,
        )
    e = caught.value
    assert isinstance(e, getattr(rustllm, kind))
    name = type(e).__name__
    for attr in ("status_code", "message", "llm_provider", "model"):
        annotation = declared(stub, name, attr)
        assert annotation is not None, (name, attr)
        assert holds(getattr(e, attr), annotation), (name, attr, getattr(e, attr), annotation)


def test_connection_errors_have_the_declared_attribute_types(server):
    stub = stub_attributes()
    server.respond(disconnect=True, times=0)
    with pytest.raises(rustllm.APIConnectionError) as caught:
        rustllm.completion(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            api_base=server.base_url,
            api_key="sk-test",
            num_retries=0,
        )
    e = caught.value
    for attr in ("status_code", "message", "llm_provider", "model"):
        assert holds(getattr(e, attr), declared(stub, type(e).__name__, attr) or "missing"), attr
