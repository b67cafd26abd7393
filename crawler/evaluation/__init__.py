"""Evaluation harness: how often do the crawler's fingerprints call two different images the same?

``crawler eval DIR`` fingerprints every image of a folder or tar archive with
the crawler's own code (the adaptive range loop replayed over the file's
bytes, then ``fingerprint``) and scores each method against full-file
SHA-256; with ``--variants`` it also scores how well each method matches a
picture to its own variants. Modules, one job each: ``sources`` (find and
open files), ``hashing`` (one file -> keys), ``collect`` (all files, in
parallel -> inventory), ``metrics`` (pure pair counting), ``near`` (pHash
pairs within a distance), ``edits`` and ``variants`` (make variant sets),
``robustness`` (score them), ``harness`` (the library call), ``document``
(the result as a typed document), ``render`` (the document as terminal
tables, Markdown and JSON), ``command`` (the CLI: parse, run, print, write).
"""
