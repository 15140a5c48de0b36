"""LiteLLM's ``litellm.budget_manager``: ``BudgetManager``, per-user budgets kept in a
local ``user_cost.json`` (the tutorial's budget alerts)::

    budget_manager = BudgetManager(project_name="test_project")
    if not budget_manager.is_valid_user(user):
        budget_manager.create_budget(total_budget=10, user=user)
    if budget_manager.get_current_cost(user=user) <= budget_manager.get_total_budget(user):
        response = completion(model="gpt-4o-mini", messages=messages)
        budget_manager.update_cost(completion_obj=response, user=user)
    else:
        response = "Sorry - no budget!"
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Literal

__all__ = ["BudgetManager"]

# LiteLLM's durations, in days.
_DURATIONS = {"daily": 1, "weekly": 7, "monthly": 28, "yearly": 365}
# Where LiteLLM's local client keeps its budgets: the working directory.
_FILE = "user_cost.json"


class BudgetManager:
    """Per-user budgets and what each user has spent, as LiteLLM's local client keeps
    them: ``create_budget``, ``update_cost``, ``get_current_cost``, ``projected_cost``,
    ``get_total_budget``, ``is_valid_user``, ``get_users``, ``get_model_cost``,
    ``reset_cost``, ``update_budget_all_users``, ``save_data``.

    The budgets are read from ``user_cost.json`` in the working directory when the
    manager is made, and written back after every change. Only ``client_type="local"``
    is provided: LiteLLM's ``"hosted"`` client posts every user's spend to
    ``api.litellm.ai``, which rustllm never contacts.
    """

    def __init__(
        self,
        project_name: str,
        client_type: str = "local",
        api_base: str | None = None,
        headers: dict | None = None,
    ) -> None:
        if client_type != "local":
            raise ValueError(
                f"BudgetManager(client_type={client_type!r}) is not supported by rustllm: only 'local' "
                "(budgets in ./user_cost.json); the hosted client would send your users' spend to a third party"
            )
        self.client_type = client_type
        self.project_name = project_name
        self.api_base = api_base
        self.headers = headers or {"Content-Type": "application/json"}
        self._lock = threading.Lock()
        self.user_dict: dict[str, dict[str, Any]] = {}
        self.load_data()

    def load_data(self) -> None:
        """Read the budgets from ``user_cost.json`` (none when it does not exist)."""
        if os.path.isfile(_FILE):
            import json

            with open(_FILE, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError(f"{_FILE} does not hold a budget dictionary")
            self.user_dict = data
        else:
            self.user_dict = {}

    def create_budget(
        self,
        total_budget: float,
        user: str,
        duration: Literal["daily", "weekly", "monthly", "yearly"] | None = None,
        created_at: float | None = None,
    ) -> dict[str, Any]:
        """Give ``user`` a budget of ``total_budget`` USD (replacing any they had). With a
        ``duration`` the spend resets every 1, 7, 28 or 365 days
        (:meth:`update_budget_all_users`)."""
        if duration is None:
            self.user_dict[user] = {"total_budget": total_budget}
        else:
            if duration not in _DURATIONS:
                raise ValueError("""duration needs to be one of ["daily", "weekly", "monthly", "yearly"]""")
            # Deliberate fix: LiteLLM's default `created_at=time.time()` is the import time.
            now = time.time() if created_at is None else created_at
            self.user_dict[user] = {
                "total_budget": total_budget,
                "duration": _DURATIONS[duration],
                "created_at": now,
                "last_updated_at": now,
            }
        self.save_data()
        return self.user_dict[user]

    def projected_cost(self, model: str, messages: list, user: str) -> float:
        """What ``user`` will have spent after sending ``messages`` to ``model``: their
        current cost plus the prompt's cost at the model's input price."""
        from rustllm import cost_per_token, token_counter

        text = "".join(m["content"] for m in messages if isinstance(m.get("content"), str))
        prompt_tokens = token_counter(model=model, text=text)
        prompt_cost, _ = cost_per_token(model=model, prompt_tokens=prompt_tokens, completion_tokens=0)
        return prompt_cost + self.user_dict[user].get("current_cost", 0)

    def get_total_budget(self, user: str) -> float:
        """``user``'s budget in USD."""
        return self.user_dict[user]["total_budget"]

    def update_cost(
        self,
        user: str,
        completion_obj: Any = None,
        model: str | None = None,
        input_text: str | None = None,
        output_text: str | None = None,
    ) -> dict[str, Any]:
        """Add a call's cost to ``user``'s spend (in total and per model): from its
        response (``completion_obj``, priced by ``completion_cost``), or from ``model``,
        ``input_text`` and ``output_text`` (tokens counted, priced by the catalogue)."""
        from rustllm import completion_cost, cost_per_token, token_counter

        if model and input_text and output_text:
            prompt_tokens = token_counter(model=model, messages=[{"role": "user", "content": input_text}])
            completion_tokens = token_counter(model=model, messages=[{"role": "user", "content": output_text}])
            prompt_cost, completion_cost_ = cost_per_token(
                model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
            cost = prompt_cost + completion_cost_
        elif completion_obj:
            cost = completion_cost(completion_response=completion_obj)
            model = completion_obj["model"]
        else:
            raise ValueError(
                "Either a chat completion object or the text response needs to be passed in. Learn more - https://docs.litellm.ai/docs/budget_manager"
            )
        entry = self.user_dict[user]
        entry["current_cost"] = cost + entry.get("current_cost", 0)
        per_model = entry.setdefault("model_cost", {})
        per_model[model] = cost + per_model.get(model, 0)
        self.save_data()
        return {"user": entry}

    def get_current_cost(self, user: str) -> float:
        """What ``user`` has spent (0 before any call)."""
        return self.user_dict[user].get("current_cost", 0)

    def get_model_cost(self, user: str) -> Any:
        """``user``'s spend per model (0 before any call, as LiteLLM answers)."""
        return self.user_dict[user].get("model_cost", 0)

    def is_valid_user(self, user: str) -> bool:
        """Whether ``user`` has a budget."""
        return user in self.user_dict

    def get_users(self) -> list[str]:
        """Every user with a budget."""
        return list(self.user_dict.keys())

    def reset_cost(self, user: str) -> dict[str, Any]:
        """Set ``user``'s spend back to 0."""
        self.user_dict[user]["current_cost"] = 0
        self.user_dict[user]["model_cost"] = {}
        self.save_data()
        return {"user": self.user_dict[user]}

    def reset_on_duration(self, user: str) -> None:
        """Reset ``user``'s spend when their budget's duration has passed since the last
        reset."""
        entry = self.user_dict[user]
        now = time.time()
        if now - entry["last_updated_at"] >= entry["duration"] * 24 * 60 * 60:
            entry["last_updated_at"] = now
            self.reset_cost(user)

    def update_budget_all_users(self) -> None:
        """Reset the spend of every user whose budget duration has passed."""
        for user in self.get_users():
            if "duration" in self.user_dict[user]:
                self.reset_on_duration(user)

    def save_data(self) -> dict[str, str]:
        """Write the budgets to ``user_cost.json``. The file is replaced whole (a
        temporary file renamed over it), so a reader never sees half of it; LiteLLM writes
        it from a new thread per change, where two writes can interleave."""
        import json
        import tempfile

        with self._lock:
            directory = os.path.dirname(os.path.abspath(_FILE))
            fd, tmp = tempfile.mkstemp(prefix=".user_cost.", suffix=".json", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(self.user_dict, f, indent=4)
                os.replace(tmp, _FILE)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        return {"status": "success"}
