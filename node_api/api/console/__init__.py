"""The console (issue #14): server-rendered screens for officers of approval departments,
supervisors, auditors and (as their features land) banks — docs/console.md.

Every screen reads and writes through the API's own route functions and services, so the
console holds no permission of its own; it adds who the person is (``session``) and pages.
"""

from __future__ import annotations

from fastapi import APIRouter

from node_api.api.console import account, actions, assets, audit, bank, consortium, projects, signin, work

router = APIRouter()
for _module in (assets, signin, work, audit, consortium, bank, account, projects, actions):
    # Their routes themselves, not the routers (node_api.main: routing cost per request).
    router.routes.extend(_module.router.routes)
