"""The direct-call state machine (after Matrix MSC2746's call lifecycle).

::

    ringing ──accept──▶ accepted ──hangup──▶ ended
       │ ├──reject──▶ rejected
       │ ├──cancel──▶ cancelled      (the caller gave up)
       │ └──timeout─▶ missed         (nobody answered within the ring timeout)
    (a call to someone already in a call is recorded as busy and never rings)

Who may act: the callee accepts or rejects; the caller cancels; either side
hangs up an accepted call; the clock times out a ringing one. Terminal
states never change again, so a late accept after a timeout or a second
hang-up is refused rather than reviving a call.
"""

from __future__ import annotations

from typing import Literal

from connect.contacts.reasons import refused

Status = Literal["ringing", "accepted", "rejected", "cancelled", "missed", "ended", "busy"]
Action = Literal["accept", "reject", "cancel", "timeout", "hangup"]
Role = Literal["caller", "callee", "clock"]

_TRANSITIONS: dict[tuple[str, str], tuple[Status, frozenset[str]]] = {
    ("ringing", "accept"): ("accepted", frozenset({"callee"})),
    ("ringing", "reject"): ("rejected", frozenset({"callee"})),
    ("ringing", "cancel"): ("cancelled", frozenset({"caller"})),
    ("ringing", "timeout"): ("missed", frozenset({"clock"})),
    ("accepted", "hangup"): ("ended", frozenset({"caller", "callee"})),
}


def next_status(status: str, action: Action, role: Role) -> Status:
    """The state after ``role`` does ``action``; refuse anything the machine does not allow."""
    found = _TRANSITIONS.get((status, action))
    if found is None:
        why = (
            "call_already_answered"
            if status == "accepted"
            else "call_not_answered"
            if status == "ringing"
            else "call_over"
        )
        raise refused(why, action=action, status=status)
    target, allowed = found
    if role not in allowed:
        raise refused(
            "call_callee_only" if "callee" in allowed else "call_caller_only", action=action
        )
    return target
