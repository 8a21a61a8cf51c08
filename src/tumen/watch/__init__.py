"""Live watch: feeds → spool → micro-batches of ingest + incremental detection → alerts.

Modules, in the order data flows through them:

``feeds``   one reader (and iterator of lines) per source: replay, follow, tcp, udp, listen-tcp, stdin
``spool``   raw lines written to files before they are ingested (provenance cites them)
``rules``   the watchlist file and the test of an event against a rule
``alerts``  which events fire which rules, stable alert ids, the ``alerts`` table
``loop``    the micro-batch loop, checkpoints, outputs (JSONL, stdout, webhook)

See docs/watch.md.  ``watch`` sits on top of the layers: it calls ingest, detect and screen;
they never import it.
"""
