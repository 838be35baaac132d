"""The emulator's control API under `/_emulator/`: JSON in, JSON out, for tests and scripts."""

from __future__ import annotations

from collections.abc import Callable

from emulator.state import Answer, Decision, EmulatorState, Fault, FaultKind

ControlRoute = Callable[[EmulatorState, object], Answer]


def apply_decision(
    state: EmulatorState, user_code: str, *, approve: bool, email: str | None = None
) -> None:
    """Approve or deny a user code; raise LookupError (unknown) or ValueError (not pending)."""
    decision = state.decide(user_code, approve=approve, email=email)
    if decision is Decision.UNKNOWN_CODE:
        raise LookupError(f"unknown user code {user_code!r}")
    if decision is Decision.UNKNOWN_USER:
        raise LookupError(f"unknown user {email!r}")
    if decision is not Decision.DONE:
        raise ValueError(f"user code {user_code!r} cannot be decided: {decision}")


def _field(payload: object, name: str, kind: type, *, required: bool = True) -> object:
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    value = payload.get(name)
    if value is None:
        if required:
            raise ValueError(f"{name!r} is required")
        return None
    # bool is an int in Python; a count of `true` is a mistake worth refusing.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ValueError(f"{name!r} must be a {kind.__name__}")
    return value


def _text(payload: object, name: str) -> str:
    value = _field(payload, name, str)
    assert isinstance(value, str)
    return value


def _optional_text(payload: object, name: str) -> str | None:
    value = _field(payload, name, str, required=False)
    assert value is None or isinstance(value, str)
    return value


def _number(payload: object, name: str, default: float | None = None) -> float:
    if default is not None and isinstance(payload, dict) and payload.get(name) is None:
        return float(default)
    value = payload.get(name) if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name!r} must be a number")
    return float(value)


def _approve(state: EmulatorState, payload: object) -> Answer:
    email = _optional_text(payload, "email")
    apply_decision(state, _text(payload, "user_code"), approve=True, email=email)
    return Answer(200, {"ok": True})


def _deny(state: EmulatorState, payload: object) -> Answer:
    apply_decision(state, _text(payload, "user_code"), approve=False)
    return Answer(200, {"ok": True})


def _subscription(state: EmulatorState, payload: object) -> Answer:
    """`{"email", "active"}` for a user's personal workspace, or `{"workspace", "active"}`."""
    active = _field(payload, "active", bool)
    assert isinstance(active, bool)
    workspace = _optional_text(payload, "workspace")
    if workspace is not None:
        state.set_workspace_subscription(workspace, active)
    else:
        state.set_subscription(_text(payload, "email"), active)
    return Answer(200, {"ok": True})


def _add_workspace(state: EmulatorState, payload: object) -> Answer:
    subscribed = _field(payload, "subscribed", bool, required=False)
    tenant = state.add_workspace(
        _text(payload, "email"),
        _text(payload, "name"),
        slug=_optional_text(payload, "slug"),
        workspace_type=_optional_text(payload, "workspace_type") or "organization",
        role=_optional_text(payload, "role") or "member",
        subscribed=subscribed is not False,
        tenant_id=_optional_text(payload, "tenant_id"),
    )
    return Answer(200, {"tenant_id": tenant})


def _expire_session(state: EmulatorState, payload: object) -> Answer:
    email = _optional_text(payload, "email")
    session_id = _optional_text(payload, "session_id")
    if email is None and session_id is None:
        raise ValueError("give 'email' or 'session_id'")
    return Answer(200, {"expired": state.expire_sessions(email=email, session_id=session_id)})


def _refuse_access_token(state: EmulatorState, payload: object) -> Answer:
    if not state.refuse_access_token(_text(payload, "access_token")):
        raise LookupError("not an access token this emulator issued")
    return Answer(200, {"ok": True})


def _token_ttl(state: EmulatorState, payload: object) -> Answer:
    state.set_token_ttl(_number(payload, "seconds"))
    return Answer(200, {"ok": True})


def _faults(state: EmulatorState, payload: object) -> Answer:
    kind = FaultKind(_text(payload, "kind"))
    count = _number(payload, "count", 1)
    if not count.is_integer():
        raise ValueError("'count' must be a whole number")
    fault = Fault(
        path=_text(payload, "path"),
        kind=kind,
        status=int(_number(payload, "status", 503)),
        seconds=_number(payload, "seconds", 0.0),
    )
    state.add_fault(fault, int(count))
    return Answer(200, {"ok": True})


def _clear_faults(state: EmulatorState, payload: object) -> Answer:
    state.clear_faults()
    return Answer(200, {"ok": True})


def _reset(state: EmulatorState, payload: object) -> Answer:
    state.reset()
    return Answer(200, {"ok": True})


def _issue_session(state: EmulatorState, payload: object) -> Answer:
    return Answer(200, state.issue_session(_text(payload, "email")))


def _issue_api_key(state: EmulatorState, payload: object) -> Answer:
    name = _optional_text(payload, "name") or "test"
    return Answer(201, state.issue_api_key(_text(payload, "email"), name))


def _log(state: EmulatorState, payload: object) -> Answer:
    return Answer(200, {"requests": [entry.as_json() for entry in state.request_log()]})


def _device_codes(state: EmulatorState, payload: object) -> Answer:
    return Answer(200, {"device_codes": [info.as_json() for info in state.device_codes()]})


def _refresh_count(state: EmulatorState, payload: object) -> Answer:
    return Answer(200, {"refresh_count": state.refresh_count()})


def _users(state: EmulatorState, payload: object) -> Answer:
    users = [{**user.as_json(), "subscribed": user.subscribed} for user in state.users()]
    return Answer(200, {"users": users})


def _sessions(state: EmulatorState, payload: object) -> Answer:
    return Answer(200, {"sessions": [info.as_json() for info in state.sessions()]})


ROUTES: dict[str, dict[str, ControlRoute]] = {
    "/_emulator/approve": {"POST": _approve},
    "/_emulator/deny": {"POST": _deny},
    "/_emulator/subscription": {"POST": _subscription},
    "/_emulator/workspaces": {"POST": _add_workspace},
    "/_emulator/expire_session": {"POST": _expire_session},
    "/_emulator/token_ttl": {"POST": _token_ttl},
    "/_emulator/refuse_access_token": {"POST": _refuse_access_token},
    "/_emulator/faults": {"POST": _faults},
    "/_emulator/clear_faults": {"POST": _clear_faults},
    "/_emulator/reset": {"POST": _reset},
    "/_emulator/issue_session": {"POST": _issue_session},
    "/_emulator/issue_api_key": {"POST": _issue_api_key},
    "/_emulator/log": {"GET": _log},
    "/_emulator/device_codes": {"GET": _device_codes},
    "/_emulator/refresh_count": {"GET": _refresh_count},
    "/_emulator/users": {"GET": _users},
    "/_emulator/sessions": {"GET": _sessions},
}


def run(route: ControlRoute, state: EmulatorState, payload: object) -> Answer:
    """Run a control route, turning a caller's mistake into a 4xx JSON answer."""
    try:
        return route(state, payload)
    except LookupError as error:
        return Answer(404, {"error": "not_found", "error_description": str(error)})
    except ValueError as error:
        return Answer(400, {"error": "invalid_request", "error_description": str(error)})
