"""The work queue for crawls on many machines: PostgreSQL holds the work, the host slots and the index.

``crawler crawl URLS --queue postgresql://...`` puts the listed URLs in the
queue as batches of one host's URLs (:mod:`.enqueue`); ``crawler worker``
processes anywhere take batches and crawl them with the usual pipeline
(:mod:`crawler.run.worker`); ``crawler status`` reads the counts
(:mod:`.status`). The queue itself is procrastinate's (its own tables and
functions, its own schema): job locks keep one batch of a host running at a
time, heartbeats give a dead worker's batches to others. What procrastinate
does not know is kept in the few ``crawler_queue_*`` tables of
:mod:`.tables`. Politeness across the fleet does not rest on the job lock
alone (a page's images live on other hosts): every request holds one of its
host's slots, shared through PostgreSQL advisory locks (:mod:`.slots`).
"""
