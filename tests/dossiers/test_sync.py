"""The reference HTTP adapter against a local fake one-stop server: data, paging, errors, timeouts."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from dossiers.sync import HttpOneStopAdapter, sync

ROW = {"code": "000.00.06.H56-261110-0001", "procedure_code": "1.012786", "channel": "online",
       "received_at": "2026-11-10T09:00", "status_code": 4, "phone": "0912345678", "applicant_name": "Nguyễn Văn An"}


class FakeOneStop(BaseHTTPRequestHandler):
    mode = "ok"
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        FakeOneStop.seen.append((url.path, query, self.headers.get("Authorization")))
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "500":
            return self._send(500, b"internal error")
        if self.mode == "garbage":
            return self._send(200, b"<html>maintenance</html>")
        if self.headers.get("Authorization") != "Bearer secret":
            return self._send(401, b"unauthorized")
        page = int(query.get("page", ["1"])[0])
        if page == 1:
            body = {"items": [ROW, {"code": "bad"}, "not an object"], "next_page": 2}
        else:
            body = {"items": [dict(ROW, code="000.00.06.H56-261110-0002", status_code="9")], "next_page": None}
        self._send(200, json.dumps(body).encode())

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the client gave up on a slow answer: expected
        pass


@pytest.fixture
def fake_server():
    server = QuietServer(("127.0.0.1", 0), FakeOneStop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeOneStop.mode, FakeOneStop.seen = "ok", []
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()


def test_sync_fetches_pages_and_applies(service, fake_server):
    import datetime as dt

    adapter = HttpOneStopAdapter(fake_server, token="secret", timeout_s=5)
    result = sync(service, adapter, since=dt.datetime(2026, 11, 1))
    assert result.ok and len(result.records) == 2 and result.applied == 2
    assert len(result.rejected) == 2 and "missing column" in result.rejected[0]
    assert service.view("000.00.06.H56-261110-0002").status_name == "Đã xử lý xong"
    path, query, auth = FakeOneStop.seen[0]
    assert path == "/api/dossiers" and query["updated_since"] == ["2026-11-01T00:00:00"] and auth == "Bearer secret"
    assert sync(service, adapter, since=None).applied == 0  # idempotent


@pytest.mark.parametrize("mode, token, error", [
    ("500", "secret", "http_500"), ("garbage", "secret", "bad_response"), ("ok", "wrong", "http_401"),
    ("slow", "secret", "timeout"),
])
def test_errors_become_structured_results(service, fake_server, mode, token, error):
    FakeOneStop.mode = mode
    result = sync(service, HttpOneStopAdapter(fake_server, token=token, timeout_s=0.5), since=None)
    assert not result.ok and result.error == error
    assert service.count() == 0


def test_connection_refused():
    result = HttpOneStopAdapter("http://127.0.0.1:9", timeout_s=1).fetch_updates(None)
    assert not result.ok and result.error == "connection"
