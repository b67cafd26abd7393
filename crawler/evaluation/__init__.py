"""Evaluation harness: how often do prefix fingerprints call two different images the same?

``crawler eval DIR`` fingerprints every image of a folder or tar archive with
the crawler's own code and scores each method against full-file SHA-256.
Modules, one job each: ``sources`` (find and open files), ``hashing`` (one
file -> keys), ``collect`` (all files, in parallel -> inventory), ``metrics``
(pure pair counting), ``harness`` (the library call), ``report`` (JSON and
Markdown), ``command`` (the CLI, the only module that prints).
"""
