"""The JSON-RPC client against a real HTTP server on a loopback port (not a chain: its answers are chosen)."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from node_api.chain.rpc import RpcClient
from node_api.errors import ChainError

ANSWERS: dict[str, bytes] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        answer = ANSWERS[self.path].replace(b"ID", str(body["id"]).encode())
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


async def _ask(url: str) -> int:
    rpc = RpcClient(url)
    try:
        return await rpc.block_number()
    finally:
        await rpc.close()


def test_an_answer_is_decoded(server: str) -> None:
    ANSWERS["/ok"] = b'{"jsonrpc":"2.0","id":ID,"result":"0x2a"}'
    assert asyncio.run(_ask(server + "/ok")) == 42


def test_a_body_that_is_not_json_is_a_chain_error_that_says_so(server: str) -> None:
    ANSWERS["/garbage"] = b"<html>proxy error</html>"
    with pytest.raises(ChainError, match="not JSON"):
        asyncio.run(_ask(server + "/garbage"))
