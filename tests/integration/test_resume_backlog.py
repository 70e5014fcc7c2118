"""A resumed hello pushes the undelivered contacts backlog too (docs: "after each hello").

A push can be lost on the way between store and socket (a node or Redis failing, a socket
dying with the frame in flight); only the backlog brings it back, so a device that gets its
place back by resuming must receive it as a fresh hello would.
"""

from __future__ import annotations

from tests.support.client import Peer
from tests.support.server import Server
from tests.support.users import new_user


async def test_a_resumed_hello_pushes_what_is_still_undelivered(server: Server) -> None:
    alice = await new_user(server, "Alice")
    bob = await new_user(server, "Bob")
    channel = (await alice.call("POST", "/api/channels", json={"userId": bob.id})).json()["id"]
    phone = await bob.device()
    sent = await alice.call(
        "POST", f"/api/channels/{channel}/messages", json={"text": "hi", "clientId": "r1"}
    )
    assert sent.status_code == 201, sent.text
    first = await phone.event("channel-message")
    assert first["id"] == sent.json()["id"]

    # Not acknowledged: the device may never have shown it. It resumes its place.
    phone.abort()
    back = await Peer.connect(server.ws, bob.access, resume=phone.welcome["resumeToken"])
    assert back.welcome["resumed"] is True
    again = await back.event("channel-message")
    assert again["id"] == first["id"], "the backlog follows a resumed hello"

    # Acknowledged: the next resume brings nothing back.
    r = await bob.call("POST", "/api/messages/delivered", json={"ids": [first["id"]]})
    assert r.status_code == 200, r.text
    back.abort()
    last = await Peer.connect(server.ws, bob.access, resume=back.welcome["resumeToken"])
    assert last.welcome["resumed"] is True
    await last.barrier()
    assert last.events("channel-message") == []
    await last.close()
