"""``connect loadtest``: drive a running Connect deployment with many simulated visitors.

An operator points it at their own deployment (``--url``) to learn whether it meets the
service level objectives before real people arrive: match p95, signaling relay p95 and
the error rate. Each simulated visitor does what the web app does, over the project's
own wire protocol (docs/protocol.md): a guest token, hello, join, wait for a match,
offer/answer/candidates as the initiator or the answerer, a few chat lines, ``next``,
and now and then a disconnect and a fresh start.

Parts: :mod:`target` (which URLs may be driven: loopback only unless allowed),
:mod:`wire` (a minimal gateway client), :mod:`visitor` (one simulated visitor),
:mod:`stats` (counters and latency samples, mergeable across processes),
:mod:`runner` (processes, progress lines, SLO verdict) and :mod:`report`
(JSON and Markdown). The command line is in :mod:`options`.
"""
