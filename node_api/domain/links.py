"""The public verification URL a project's 扫码亮证 QR carries, on a sign or on paper.

``{base_url}/verify/{code}?uscc={owner USCC}``: the project code and the owner's Unified
Social Credit Code together are the project's identity for its whole life, and the page
checks both against the chain. Kept here, below every layer that prints it, so the QR
served by the API and the one on the 备案证 PDF cannot drift apart.
"""

from __future__ import annotations

from urllib.parse import quote


def verification_url(base_url: str, code: str, owner_uscc: str) -> str:
    """The URL a project's QR encodes."""
    return f"{base_url.rstrip('/')}/verify/{quote(code, safe='')}?uscc={quote(owner_uscc, safe='')}"


def certificate_url(base_url: str, certificate_id: str) -> str:
    """The URL a verification certificate's QR encodes: the public page that says whether it still holds."""
    return f"{base_url.rstrip('/')}/verify?certificate={quote(certificate_id, safe='')}"
