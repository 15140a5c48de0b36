"""LiteLLM's ``litellm.proxy._types`` names that guardrail classes import for their
hooks' signatures: ``UserAPIKeyAuth`` (who made the call)."""

from __future__ import annotations

from typing import Any

__all__ = ["UserAPIKeyAuth"]


class UserAPIKeyAuth:
    """Who made a call, as the hooks' ``user_api_key_dict`` receives it. In the SDK no key
    is involved, so every field is ``None`` (or empty) unless given."""

    def __init__(
        self,
        api_key: str | None = None,
        key_alias: str | None = None,
        user_id: str | None = None,
        team_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.api_key = api_key
        self.key_alias = key_alias
        self.user_id = user_id
        self.team_id = team_id
        self.metadata = dict(metadata or {})
        for k, v in kwargs.items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        # Never the key itself.
        return f"UserAPIKeyAuth(key_alias={self.key_alias!r}, user_id={self.user_id!r}, team_id={self.team_id!r})"
