"""Matching images: evidence levels, grouping, known sets and the reports people read.

The grouping logic is pure (numpy and SciPy over keys); the loaders read the
index through :class:`crawler.index.database.Database`, never a driver.
"""
