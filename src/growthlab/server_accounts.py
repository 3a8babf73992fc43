"""Accounts on a running team server (`make user`, `make grant`), through MLflow's auth REST
API with the admin credentials that `make server` keeps in its state folder."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from growthlab.errors import UserError
from growthlab.server import STATE, credentials, url_of

TEAM_ROLE = "team"  # MLflow role of every account made by `make user`: EDIT on all experiments


def as_admin(
    path: str, body: dict[str, Any] | None, what: str, state: Path = STATE, api: str = "2.0"
) -> Any:
    """One REST call with the admin credentials kept in state (GET without a body)."""
    creds = credentials(state)
    auth = f"{creds['admin_username']}:{creds['admin_password']}".encode()
    request = urllib.request.Request(
        f"{url_of(state)}/api/{api}/mlflow/{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(auth).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        reason = json.loads(exc.read() or b"{}").get("message", exc.reason)
        raise UserError(f"cannot {what}: {reason}") from None


def team_role(state: Path = STATE) -> int:
    """The role every account gets (created once): EDIT on every experiment, so a teammate
    logs runs into an experiment someone else created. Registered models get no such grant:
    they stay READ for all but their creator and those granted EDIT (make grant MODEL=...)."""
    listed = as_admin("roles/list?workspace=default", None, "list roles", state, api="3.0")
    for role in listed.get("roles", []):
        if role["name"] == TEAM_ROLE:
            return int(role["id"])
    body = {"name": TEAM_ROLE, "workspace": "default", "description": "growthlab accounts"}
    role_id = int(
        as_admin("roles/create", body, "create the team role", state, api="3.0")["role"]["id"]
    )
    grant_all = {"role_id": role_id, "resource_type": "experiment", "resource_pattern": "*"}
    what = "let the team edit experiments"
    as_admin("roles/permissions/add", {**grant_all, "permission": "EDIT"}, what, state, api="3.0")
    return role_id


def add_user(name: str, password: str, state: Path = STATE) -> None:
    """An account on the running server, in the team role."""
    body = {"username": name, "password": password}
    as_admin("users/create", body, f"create user {name!r}", state)
    assign = {"username": name, "role_id": team_role(state)}
    as_admin("roles/assign", assign, f"add {name!r} to the team role", state, api="3.0")


def grant(name: str, experiment: str | None, model: str | None, state: Path = STATE) -> None:
    """EDIT for `name` on an experiment (log runs into it) or a registered model (move aliases)."""
    if experiment:
        what = f"find experiment {experiment!r}"
        found = as_admin(f"experiments/get-by-name?experiment_name={quote(experiment)}", None, what)
        body = {"experiment_id": found["experiment"]["experiment_id"], "username": name}
        as_admin("experiments/permissions/create", {**body, "permission": "EDIT"}, "grant", state)
    if model:
        body = {"name": model, "username": name, "permission": "EDIT"}
        as_admin("registered-models/permissions/create", body, "grant", state)
