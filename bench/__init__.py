"""equanimity's benchmark: the harness's own cost, measured against plain inspect-ai.

Run ``python -m bench`` (``--quick`` for a smoke run, ``--parts replay,scaling,post,judge``,
``--out bench/RESULTS.md``). It prints figures; it never passes or fails. Every measured run
happens in a fresh child process (:mod:`bench.child`) so that peak memory is per variant.
"""
