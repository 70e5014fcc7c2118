"""Many gateway nodes as one: presence, cross-node delivery, resume and failure handling
over Redis.

Registry (prefix ``connect:``)::

    conn:<client>      hash  node, subject, kind, ip_hash, attached, state (live|suspended)
    subj:<subject>     set   client ids of a subject (all of a user's devices)
    nodeconns:<node>   set   client ids a node holds
    resume:<token>     str   client id (rotated on every welcome)
    orphans            zset  client id -> deadline, for places whose node is gone
    gap:<client>       list  frames for an orphaned or unregistered client, replayed on
                             resume or when its holder re-registers it
    nodes              zset  node -> last heartbeat (wall clock)

One layer per module, each a class built on the ones below it, stacked by
:class:`Cluster`:

- :mod:`.registry`: the places (register, suspend, finish, orphan, find a subject's live ones);
- :mod:`.routing`: frames to the node holding their client, relays to a session
  partner (the outbox) and this node's subscription; :mod:`.relay` holds the ``ROUTE``
  script both use;
- :mod:`.resume`: claiming a place a client resumes elsewhere, and taking this node's
  places back after a loss;
- :mod:`.heartbeat`: heartbeats, dead nodes, due orphans, and when to reconcile;
- :mod:`.sentinel`: following a Sentinel-promoted primary;
- :mod:`.node`: the node itself, its shared state, start, stop and readiness.
"""

from connect.gateway.cluster.node import Cluster

__all__ = ["Cluster"]
