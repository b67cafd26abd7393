"""The fingerprint index: every record of every crawl, in a database, for matching.

The JSON files stay the source of truth; the index is derived from them (a
crawl updates it as it writes each file, ``crawler index DIR`` rebuilds it)
and never holds image bytes. SQLite in the output folder by default,
PostgreSQL for teams (``--index postgresql://...``); both share one schema.
"""
