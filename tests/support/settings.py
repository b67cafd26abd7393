"""Settings for tests: the defaults with dotted-key overrides, and no backoff between retries.

Dotted keys are the ones the settings file and the CLI use
(``"limits.per_host"``, ``"retries.attempts"``), so a test names a setting the
way a user does. Retries wait no backoff: a test of retrying never sleeps.
"""

from __future__ import annotations

from typing import Any

from crawler.settings import Settings, load_settings


def settings(**dotted: Any) -> Settings:
    """The default settings with ``dotted`` overrides (``settings(**{"retries.attempts": 1})``)."""
    return load_settings(None, {"retries.backoff": 0.0, **dotted})
