"""rustllm's built-in guardrail, backed by the Rust detectors, and :func:`load` for a
proxy-style ``guardrails:`` list::

    import rustllm
    from rustllm.guardrails import Guardrail

    rustllm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email", "phone", "credit_card"],
                  action="mask", restore=True, mode="pre_call", default_on=True),
    ]

The detectors: ``email``, ``phone``, ``credit_card`` (Luhn-checked), ``iban``,
``cn_resident_id`` (checksum-checked), ``us_ssn``, ``ip_address``, ``secret``; plus
``patterns={"EMPLOYEE_ID": "E-[0-9]{6}"}`` (the ``regex`` crate's syntax) and
``words={"PROJECT": ["atlas", "hermes"]}``. Actions: ``block`` (the call is refused
before any request, with ``BlockedPiiEntityError``), ``mask`` (each value becomes a
typed placeholder such as ``<EMAIL_1>``; with ``restore=True`` the reply gets the values
back, streamed or not), ``log`` (recorded only) and ``route`` (the call may go only to
deployments allowed for sensitive data: on a Router the call is tagged ``sensitive``; a
direct call is refused). LiteLLM's Presidio spelling works too:
``pii_entities_config={"CREDIT_CARD": "BLOCK", "EMAIL_ADDRESS": "MASK"}`` and
``output_parse_pii=True``.

Each decision is logged on ``logging.getLogger("rustllm")`` (guardrail, action, kinds and
counts, the call id; never a matched value) and is in the callbacks' kwargs as
``standard_logging_object["guardrail_information"]``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from rustllm import _core
from rustllm.integrations.custom_guardrail import CustomGuardrail, _record
from rustllm.types.guardrails import GuardrailEventHooks

__all__ = ["Guardrail", "load"]

_logger = logging.getLogger("rustllm")

_BUILTIN_NAMES = frozenset({"rustllm", "builtin", "presidio"})
_MODES = frozenset({"pre_call", "during_call", "post_call"})
# litellm_params keys that select and place a guardrail rather than configure detection.
_PLACEMENT = frozenset({"guardrail", "mode", "default_on"})
# LiteLLM settings a built-in guardrail accepts: CustomGuardrail's own, and Presidio's
# language (the detectors read any language, so it changes nothing).
_ACCEPTED_EXTRA = frozenset({"supported_event_hooks", "presidio_language"})
_IGNORED = frozenset({"presidio_language"})
# How many masked calls a guardrail keeps for their replies when its hooks are called directly.
_PENDING_MAX = 1024


class Guardrail(CustomGuardrail):
    """A built-in guardrail: rustllm's detectors with an action, run in Rust.

    ``mode`` is ``"pre_call"`` (the request, before it is sent), ``"during_call"`` (the
    same check: it is fast enough to finish before the request starts, so a block still
    sends nothing), ``"post_call"`` (the model's reply; a blocked reply raises, a masked
    one keeps its placeholders) or a list of them. ``restore=True`` puts masked values
    back into the reply whatever the mode. Raises ValueError naming the field for
    anything malformed, when the guardrail is made.
    """

    _rustllm_builtin = True  # rustllm._guardrails runs its checks in Rust, without hooks

    def __init__(
        self,
        guardrail_name: str = "rustllm",
        detect: list[str] | None = None,
        action: str | None = None,
        restore: bool | None = None,
        mode: str | list[str] = "pre_call",
        default_on: bool = False,
        patterns: dict[str, str] | None = None,
        words: dict[str, list[str]] | None = None,
        pii_entities_config: dict[str, str] | None = None,
        output_parse_pii: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(guardrail_name, str) or not guardrail_name:
            raise ValueError(f"guardrail_name={guardrail_name!r}: expected a non-empty string")
        if kwargs.get("event_hook") is not None:
            mode = kwargs.pop("event_hook")  # LiteLLM's name for the mode
        kwargs.pop("event_hook", None)
        unknown = sorted(k for k in kwargs if k not in _ACCEPTED_EXTRA)
        if unknown:
            raise ValueError(
                f"guardrail {guardrail_name!r}: unknown setting(s) {', '.join(unknown)} (the built-in guardrail "
                "reads detect, patterns, words, action, restore, mode, default_on, pii_entities_config and "
                "output_parse_pii)"
            )
        kwargs = {k: v for k, v in kwargs.items() if k not in _IGNORED}
        modes = [mode] if isinstance(mode, (str, GuardrailEventHooks)) else list(mode or [])
        values = [m.value if isinstance(m, GuardrailEventHooks) else m for m in modes]
        for m in values:
            if m not in _MODES:
                raise ValueError(
                    f"guardrail {guardrail_name!r}: mode {m!r}: expected pre_call, during_call or post_call "
                    "(or a list of them)"
                )
        if not values:
            raise ValueError(f"guardrail {guardrail_name!r}: mode: expected pre_call, during_call or post_call")
        params = {
            "detect": detect,
            "action": action,
            "restore": restore,
            "patterns": patterns,
            "words": words,
            "pii_entities_config": pii_entities_config,
            "output_parse_pii": output_parse_pii,
        }
        self._core = _core.BuiltinGuardrail(guardrail_name, {k: v for k, v in params.items() if v is not None})
        self.litellm_params: dict[str, Any] = {"guardrail": "rustllm", "mode": mode, "default_on": default_on}
        self.litellm_params.update({k: v for k, v in params.items() if v is not None})
        super().__init__(
            guardrail_name=guardrail_name,
            event_hook=values[0] if len(values) == 1 else values,
            default_on=default_on,
            **kwargs,
        )
        self._modes = frozenset(values)
        # Masked calls awaiting their reply, for code that calls the hooks itself.
        self._pending: OrderedDict[str, Any] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"Guardrail(guardrail_name={self.guardrail_name!r}, actions={self._core.actions!r}, "
            f"mode={self.event_hook!r}, default_on={self.default_on!r})"
        )

    @property
    def checks_request(self) -> bool:
        """Whether it checks requests (``pre_call`` or ``during_call``)."""
        return "pre_call" in self._modes or "during_call" in self._modes

    @property
    def checks_reply(self) -> bool:
        """Whether it checks replies (``post_call``)."""
        return "post_call" in self._modes

    # -- the checks (sync: the detectors are Rust, no event loop needed) ----------------
    def _check_request(self, data: dict[str, Any], router: bool, state: Any, record: bool = True) -> None:
        """Check (and mask) ``data``; ``record``: add the decisions to the call's guardrail
        information (skipped when no callback will read it)."""
        start = time.time()
        blocked, changed, decisions, masking, sensitive = _core.guardrails_check_request([self._core], data)
        if blocked is not None:
            self._audit(data, [blocked[3]], start, "pre_call", record)
            from rustllm.exceptions import BlockedPiiEntityError

            raise BlockedPiiEntityError(entity_type=blocked[1], guardrail_name=self.guardrail_name)
        if changed is not None:
            data.update(changed)
        if decisions:
            self._audit(data, decisions, start, "pre_call", record)
        if masking is not None:
            state.append((self, masking))
        if sensitive:
            kinds = ", ".join(k for d in decisions if d[1] == "route" for k, _ in d[2])
            if not router:
                from rustllm.exceptions import GuardrailRaisedException

                raise GuardrailRaisedException(
                    guardrail_name=self.guardrail_name,
                    message=(
                        f"sensitive data found ({kinds}) and the guardrail's action is 'route': such a call may "
                        "only go to a deployment allowed for sensitive data (a rustllm.Router deployment with "
                        "model_info.data_residency), so a direct call is refused"
                    ),
                )
            _tag_sensitive(data)

    def _check_reply(self, data: dict[str, Any], response: Any) -> Any:
        """The reply checked (``post_call``): the same or a masked copy; raises when blocked."""
        dump = getattr(response, "model_dump", None)
        if dump is None:
            return response
        start = time.time()
        blocked, changed, decisions, _, _ = _core.guardrails_check_reply([self._core], dump())
        if blocked is not None:
            self._audit(data, [blocked[3]], start, "post_call")
            from rustllm.exceptions import BlockedPiiEntityError

            raise BlockedPiiEntityError(entity_type=blocked[1], guardrail_name=self.guardrail_name)
        if decisions:
            self._audit(data, decisions, start, "post_call")
        if changed is not None:
            return _rebuilt(response, changed)
        return response

    def _audit(self, data: dict[str, Any], decisions: list, start: float, event: str, record: bool = True) -> None:
        end = time.time()
        for guardrail, action, kinds in decisions:
            if _logger.isEnabledFor(logging.INFO):
                from rustllm._guardrails import call_id

                # The call's id, made here only when a log line names it (callbacks
                # that see the call later make the same one then).
                _logger.info(
                    "rustllm guardrail %s: %s (%s) on call %s",
                    guardrail,
                    action,
                    ", ".join(f"{k}={n}" for k, n in kinds),
                    call_id(data),
                )
            if not record:
                continue
            counts = dict(kinds)
            _record(
                data,
                {
                    "guardrail_name": guardrail,
                    "guardrail_provider": "rustllm",
                    "guardrail_mode": event,
                    "guardrail_action": action,
                    "guardrail_status": "guardrail_intervened" if action in ("block", "mask") else "success",
                    "guardrail_response": None,
                    "masked_entity_count": counts if action == "mask" else None,
                    "detected_entity_count": counts,
                    "start_time": start,
                    "end_time": end,
                    "duration": end - start,
                },
                plain=True,
            )

    # -- LiteLLM's hooks, for code that calls them itself --------------------------------
    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: str) -> Any:
        """Check (and mask) ``data`` in place; raises BlockedPiiEntityError when blocked."""
        if self.checks_request:
            state: list = []
            self._check_request(data, router=True, state=state)
            if state:
                # Kept here, not in `data` (which goes on to the provider call), by call id.
                if not data.get("litellm_call_id"):
                    from rustllm.types.utils import _uuid4

                    data["litellm_call_id"] = _uuid4()
                self._pending[data["litellm_call_id"]] = state[0][1]
                while len(self._pending) > _PENDING_MAX:
                    self._pending.popitem(last=False)
        return data

    async def async_post_call_success_hook(self, data: dict, user_api_key_dict: Any, response: Any) -> Any:
        """Restore what the pre-call hook masked (``restore=True``) and check the reply
        (``post_call``)."""
        masking = self._pending.pop(data.get("litellm_call_id") or "", None)
        if masking is not None:
            response = restore_response(response, masking)
        if self.checks_reply:
            response = self._check_reply(data, response)
        return response


def _tag_sensitive(data: dict[str, Any]) -> None:
    """Add the tag ``sensitive`` to the call's ``metadata.tags`` (a copy of both)."""
    metadata = dict(data.get("metadata") or {})
    tags = list(metadata.get("tags") or [])
    if "sensitive" not in tags:
        tags.append("sensitive")
    metadata["tags"] = tags
    data["metadata"] = metadata


def _rebuilt(response: Any, body: dict[str, Any]) -> Any:
    """A response of ``response``'s type from ``body``, keeping its hidden params."""
    cls = type(response)
    build = getattr(cls, "_from_openai", None) or getattr(cls, "_from_core", None)
    hidden = dict(getattr(response, "_hidden_params", None) or {})
    ms = getattr(response, "_response_ms", None)
    if build is not None:
        return build(body, hidden, ms)
    new = cls(**body)
    # Anthropic's message is a dict: its private attributes come along too.
    for name, value in (("_hidden_params", hidden), ("_response_ms", ms)):
        try:
            setattr(new, name, value)
        except AttributeError:
            pass
    return new


def restore_response(response: Any, masking: Any) -> Any:
    """``response`` with ``masking``'s placeholders put back (a new object)."""
    dump = getattr(response, "model_dump", None)
    if dump is None:
        return response
    return _rebuilt(response, masking.restore_reply(dump()))


def load(guardrails: list[dict[str, Any]]) -> list[CustomGuardrail]:
    """The guardrails of a proxy-style ``guardrails:`` list, ready for
    ``rustllm.callbacks``::

        rustllm.callbacks += rustllm.guardrails.load([
            {"guardrail_name": "pii", "litellm_params": {"guardrail": "rustllm", "mode": "pre_call",
             "detect": ["email"], "action": "mask", "default_on": True}},
            {"guardrail_name": "mine", "litellm_params": {"guardrail": "my_module.MyGuardrail", "mode": "post_call"}},
        ])

    ``guardrail`` is ``rustllm`` (also ``builtin``, or LiteLLM's ``presidio`` spelling)
    for the built-in detectors, or ``module.ClassName`` for a CustomGuardrail subclass
    (made with ``guardrail_name``, ``event_hook`` = ``mode``, ``default_on`` and the
    remaining ``litellm_params``). Raises ValueError naming the entry and the field.
    """
    if not isinstance(guardrails, (list, tuple)):
        raise ValueError(f"guardrails: expected a list of entries, got {type(guardrails).__name__}")
    out: list[CustomGuardrail] = []
    names: set[str] = set()
    for i, entry in enumerate(guardrails):
        where = f"guardrails[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping, got {type(entry).__name__}")
        name = entry.get("guardrail_name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: guardrail_name: expected a non-empty string")
        where = f"guardrail {name!r}"
        if name in names:
            raise ValueError(f"{where}: guardrail_name is used twice")
        names.add(name)
        params = entry.get("litellm_params")
        if not isinstance(params, dict):
            raise ValueError(f"{where}: litellm_params: expected a mapping")
        kind = params.get("guardrail")
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"{where}: litellm_params.guardrail: expected 'rustllm' or 'module.ClassName'")
        mode = params.get("mode", "pre_call")
        default_on = params.get("default_on", False)
        if not isinstance(default_on, bool):
            raise ValueError(f"{where}: default_on: expected true or false, got {default_on!r}")
        rest = {k: v for k, v in params.items() if k not in _PLACEMENT}
        if kind in _BUILTIN_NAMES:
            out.append(Guardrail(guardrail_name=name, mode=mode, default_on=default_on, **rest))
            continue
        cls = _import_class(kind, where)
        try:
            instance = cls(guardrail_name=name, event_hook=mode, default_on=default_on, **rest)
        except TypeError as e:
            raise ValueError(f"{where}: {kind}(...) did not accept its litellm_params: {e}") from e
        if not isinstance(instance, CustomGuardrail):
            raise ValueError(f"{where}: {kind} is not a CustomGuardrail subclass")
        out.append(instance)
    return out


def _import_class(path: str, where: str) -> Any:
    import importlib

    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise ValueError(
            f"{where}: litellm_params.guardrail {path!r}: expected 'rustllm' (the built-in detectors) or "
            "'module.ClassName'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"{where}: litellm_params.guardrail {path!r}: cannot import {module_name!r}: {e}") from e
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ValueError(f"{where}: litellm_params.guardrail {path!r}: {module_name} has no {class_name!r}")
    return cls
