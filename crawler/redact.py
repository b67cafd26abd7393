"""Credentials taken out of URLs, before a URL reaches a record, a log line or a message.

``http://user:pass@host/`` is a user's way to reach a site; the credentials
must not end up in output files others read. The PostgreSQL URL of the index
is redacted the same way wherever an error quotes it.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?<=//)[^/?#\s]*@")


def redact_url(url: str) -> str:
    """``url`` without its userinfo (``user:pass@``): what records, logs and messages may show.

    Works for any URL with an authority (http, postgresql...); text that is
    not a URL comes back unchanged.
    """
    return _USERINFO.sub("", url, count=1)


def redact_text(text: str) -> str:
    """A message with the userinfo of every URL in it removed (library messages quote URLs)."""
    return _USERINFO.sub("", text)
