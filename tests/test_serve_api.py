"""The HTTP API through FastAPI's test client: parity with the CLI, content negotiation,
the map cache, limits and JSON errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from dofkit.cli import app as cli  # noqa: E402
from dofkit.serve import Settings, create_app  # noqa: E402
from dofkit.serve.cache import MapCache  # noqa: E402
from dofkit.serve.errors import ApiError  # noqa: E402
from dofkit.serve.negotiate import choose  # noqa: E402
from dofkit.serve.worker import Worker  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "coffee.jpg"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def strict():
    """A server with tiny limits: 1 MB uploads, 10,000 pixels."""
    with TestClient(create_app(Settings(max_upload_mb=1, max_pixels=10_000))) as test_client:
        yield test_client


def upload(path: Path = SAMPLE) -> dict:
    return {"image": (str(path), path.read_bytes(), "image/jpeg")}


def decode(data: bytes, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), flags)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from dofkit.cli import run; run()", *args],
                          capture_output=True, cwd=ROOT, check=True)


def test_health_names_version_method_and_backend(client):
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["version"]
    assert health["method"] in ("srcnn", "analytic") and health["backend"] in ("gl", "cpu")
    assert health["max_upload_bytes"] == 40 * 2**20 and health["queue"]["running"] is None


@pytest.mark.parametrize("method", ["auto", "analytic"])
def test_map_matches_the_cli(client, tmp_path, method):
    from typer.testing import CliRunner

    target = tmp_path / "map.png"
    result = CliRunner().invoke(cli, ["map", str(SAMPLE), "-o", str(target), "-m", method])
    assert result.exit_code == 0, result.output
    response = client.post(f"/v1/map?method={method}", files=upload())
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    served, written = decode(response.content), decode(target.read_bytes())
    assert served.shape == written.shape
    assert np.abs(served.astype(int) - written.astype(int)).mean() < 1.0


def test_raw_body_equals_multipart_and_accept_picks_jpeg(client):
    multipart = client.post("/v1/map", files=upload())
    raw = client.post("/v1/map", content=SAMPLE.read_bytes())
    assert raw.content == multipart.content
    jpeg = client.post("/v1/map", content=SAMPLE.read_bytes(), headers={"Accept": "image/jpeg"})
    assert jpeg.headers["content-type"] == "image/jpeg" and jpeg.content[:3] == b"\xff\xd8\xff"


def test_map_views_and_sixteen_bit(client):
    data = SAMPLE.read_bytes()
    grey = decode(client.post("/v1/map", content=data).content)
    deep = decode(client.post("/v1/map?depth=16", content=data).content)
    rainbow = decode(client.post("/v1/map?colormap=rainbow", content=data).content)
    assert grey.ndim == 2 and grey.dtype == np.uint8
    assert deep.dtype == np.uint16 and np.abs(deep / 257.0 - grey).max() <= 1
    assert rainbow.shape == (*grey.shape, 3)
    refused = client.post("/v1/map?depth=16&overlay=true", content=data)
    assert refused.status_code == 400 and "depth" in refused.json()["error"]


def test_stylize_uses_the_cached_map_and_follows_parameters(client):
    data = SAMPLE.read_bytes()
    client.post("/v1/map", content=data)
    first = client.post("/v1/stylize?radius=2", content=data)
    again = client.post("/v1/stylize?radius=2", content=data)
    other = client.post("/v1/stylize?radius=9&style=sketch", content=data)
    assert first.status_code == other.status_code == 200
    assert 'focus;dur=0.0;desc="cached"' in first.headers["server-timing"]
    assert "stylize;dur=" in first.headers["server-timing"]
    assert first.content == again.content != other.content
    styled = decode(first.content)
    assert styled.shape[:2] == decode(client.post("/v1/map", content=data).content).shape


def test_roi_record_is_the_clis(client):
    line = run_cli("roi", str(SAMPLE), "--json").stdout.decode()
    response = client.post("/v1/roi", files=upload())
    assert response.json() == json.loads(line)
    drawn = client.post("/v1/roi", files=upload(), headers={"Accept": "image/png"})
    assert drawn.headers["content-type"] == "image/png"


def test_detect_record_and_overlay(client):
    record = client.post("/v1/detect?gate=0.2", files=upload()).json()
    assert record["image"] == str(SAMPLE) and set(record) == {"image", "kept", "dropped"}
    drawn = client.post("/v1/detect", files=upload(), headers={"Accept": "image/jpeg"})
    assert drawn.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("body", [b"not an image at all", SAMPLE.read_bytes()[:3000], b""],
                         ids=["garbage", "truncated", "empty"])
def test_bad_images_are_400_with_the_clis_message(client, tmp_path, body):
    cli_run = subprocess.run([sys.executable, "-c", "from dofkit.cli import run; run()", "map",
                              "-", "-o", str(tmp_path / "out.png")], input=body,
                             capture_output=True, cwd=ROOT)
    assert cli_run.returncode == 1
    message = cli_run.stderr.decode().strip().removeprefix("dofkit: error: ")
    response = client.post("/v1/stylize", content=body)
    assert response.status_code == 400
    assert response.json() == {"error": message}


@pytest.mark.parametrize("path, status, words", [
    ("/v1/stylize?radius=99", 422, "radius"),
    ("/v1/stylize?style=nope", 422, "style"),
    ("/v1/roi?threshold=2", 400, "threshold"),
    ("/v1/roi?aspect=4:3&pad=0.2", 400, "pad does nothing"),
    ("/v1/detect?pad=0.2", 400, "on_rois"),
    ("/v1/stylize?fades=0.5", 400, "unknown parameter 'fades'"),
    ("/v1/map?style=toon", 400, "unknown parameter 'style'"),
    ("/v1/stylize?radius=2&radius=3", 400, "parameter 'radius' given 2 times"),
    ("/v1/stylize?radius=nan", 422, "radius: Input should be a finite number"),
    ("/v1/roi?merge=-inf", 422, "merge: Input should be a finite number"),
    ("/v1/nowhere", 404, "not found"),
])
def test_option_errors_are_json(client, path, status, words):
    response = client.post(path, content=SAMPLE.read_bytes())
    assert response.status_code == status
    assert words in response.json()["error"]


def test_wrong_verb_accept_and_multipart_field(client):
    assert client.get("/v1/map").json() == {"error": "method not allowed"}
    refused = client.post("/v1/map", content=b"x", headers={"Accept": "text/html"})
    assert refused.status_code == 406 and "image/png" in refused.json()["error"]
    missing = client.post("/v1/map", files={"photo": ("a.jpg", b"x")})
    assert missing.status_code == 400 and "'image'" in missing.json()["error"]


def test_settings_sent_as_form_fields_are_refused_not_ignored(client):
    """``-F style=sketch`` gave the default style with 200: the field was never read."""
    fields = client.post("/v1/stylize", files=upload(), data={"style": "sketch"})
    assert fields.status_code == 400
    assert fields.json()["error"].startswith("unknown form field 'style': ")
    assert "?style=" in fields.json()["error"]


def test_size_and_pixel_limits_are_413(strict):
    big = strict.post("/v1/map", content=b"\0" * (2 * 2**20))
    assert big.status_code == 413 and "upload too large" in big.json()["error"]
    streamed = strict.post("/v1/map", content=iter([b"\0" * 2**19] * 4))  # no Content-Length
    assert streamed.status_code == 413
    pixels = strict.post("/v1/map", files=upload())
    assert pixels.status_code == 413
    assert pixels.json()["error"].startswith(f"{SAMPLE}: image too large (")
    assert "limit 10,000" in pixels.json()["error"]


def test_page_assets_and_samples_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("app.js", "app.css", "docs.js", "favicon.svg"):
        text = client.get(f"/static/{asset}").text
        assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    names = [s["name"] for s in client.get("/v1/samples").json()]
    assert "coffee.jpg" in names and not any("mask" in n for n in names)
    assert client.get("/samples/coffee.jpg").content == SAMPLE.read_bytes()
    assert client.get("/samples/..%2Fpyproject.toml").status_code == 404
    assert client.get("/docs").status_code == 200
    styles = client.get("/v1/styles").json()
    assert {p["name"] for p in styles["parameters"]} >= {"radius", "edge_strength"}


def test_worker_refuses_beyond_capacity_and_times_out():
    release = threading.Event()

    async def scenario():
        worker = Worker(capacity=2, timeout=0.2)
        worker.start()
        blocked = asyncio.ensure_future(worker.run(release.wait))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(worker.run(lambda: "done"))
        with pytest.raises(ApiError) as busy:
            await worker.run(lambda: None)
        with pytest.raises(ApiError) as late:
            await blocked
        release.set()
        with pytest.raises(ApiError):
            await waiting  # queued past its timeout too: dropped before it ran
        worker.close()
        return busy.value, late.value, worker.pending

    busy, late, pending = asyncio.run(scenario())
    assert busy.status == 503 and int(busy.headers["Retry-After"]) >= 1
    assert late.status == 503 and "timed out" in late.message
    assert pending == 0


def test_retry_after_follows_the_typical_job_not_one_very_large_one():
    """One job of 130 s kept a running mean (and every Retry-After) high for dozens of
    later jobs of a second; the median of the last jobs forgets it."""
    worker = Worker(capacity=64, timeout=300)
    worker._seconds.extend([130.0] + [1.0] * 8)
    worker.pending = 30
    assert worker.retry_after() == "30"


def test_map_cache_is_bounded_and_least_recently_used():
    maps = [np.zeros((10, 10), np.float32) for _ in range(3)]  # 400 bytes each
    cache = MapCache(1000)
    cache.put(("a",), maps[0])
    cache.put(("b",), maps[1])
    assert cache.get(("a",)) is maps[0]
    cache.put(("c",), maps[2])
    assert cache.get(("b",)) is None and cache.get(("a",)) is maps[0]
    assert cache.size == 800 and len(cache) == 2


def test_accept_negotiation():
    offers = ("application/json", "image/png", "image/jpeg")
    assert choose(None, offers) == "application/json"
    assert choose(",,,;;;", offers) == choose(" ", offers) == "application/json"  # no range
    assert choose("*/*", offers) == "application/json"
    assert choose("image/*", offers) == "image/png"
    assert choose("image/png;q=0.4, image/jpeg", offers) == "image/jpeg"
    with pytest.raises(ApiError):
        choose("text/html", offers)


def test_plain_import_and_help_do_not_load_the_server():
    code = ("import sys, dofkit, dofkit.cli; "
            "print(any(m.split('.')[0] in ('fastapi', 'uvicorn', 'starlette') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    help_text = run_cli("serve", "--help").stdout.decode()
    assert "--max-upload-mb" in help_text and "127.0.0.1" in help_text


@pytest.mark.parametrize("path", ["/", "/v1/health", "/v1/styles", "/docs"])
def test_head_is_answered_wherever_get_is(client, path):
    got, head = client.get(path), client.head(path)
    assert got.status_code == head.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
    assert client.head("/v1/map").status_code == 405  # a POST route stays POST


def start_server() -> tuple[subprocess.Popen, str]:
    """``dofkit serve`` on a free port, once it answers: the process (stderr piped, as
    text) and its base URL."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen([sys.executable, "-m", "dofkit", "serve", "--port", str(port)],
                             stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until it answers (the socket listens before that)
        try:
            with urllib.request.urlopen(f"{url}/v1/health", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    return child, url


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_a_stopped_server_says_so_and_exits_0(stop):
    import signal

    child, _ = start_server()
    child.send_signal(getattr(signal, stop))
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert "server stopped" in stderr and "error" not in stderr and "Traceback" not in stderr


def test_a_client_gone_mid_upload_is_one_quiet_log_line(capfd):
    """400 of the 100,000 bytes announced, then the connection closes: one line in the log,
    no traceback, no "internal error"; the server goes on answering."""
    import socket
    import time
    import urllib.request

    from serve_live import live_server

    head = ("POST /v1/map?method=analytic HTTP/1.1\r\nHost: t\r\nContent-Type: {}\r\n"
            "Content-Length: 100000\r\n\r\n")
    form = (b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n")
    with live_server(create_app(Settings(backend="cpu"))) as url:
        port = int(url.rsplit(":", 1)[1])
        capfd.readouterr()
        for kind, body in (("application/octet-stream", b""),
                           ("multipart/form-data; boundary=b", form)):
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(head.format(kind).encode() + body + b"x" * 400)
        log, deadline = "", time.monotonic() + 20
        while log.count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            log += capfd.readouterr().err
        time.sleep(0.5)  # anything logged after the lines
        log += capfd.readouterr().err
        with urllib.request.urlopen(f"{url}/v1/health", timeout=10) as answer:
            assert answer.status == 200
    line = "dofkit: /v1/map: the client disconnected before its upload was complete\n"
    assert log == 2 * line


def test_no_detector_outlives_its_request(client, monkeypatch):
    """OpenCV's cascade keeps buffers the size of the largest image it has seen (4.6 GB
    after a 96 MP photo, until it is freed): the server must not keep a detector."""
    import gc
    import weakref

    import dofkit.detect

    made = []

    def tracked(name):
        detector = make(name)
        made.append(weakref.ref(detector))
        return detector

    make = dofkit.detect.make_detector
    monkeypatch.setattr(dofkit.detect, "make_detector", tracked)
    for detector in ("face", "hog"):
        assert client.post(f"/v1/detect?detector={detector}", files=upload()).status_code == 200
    gc.collect()
    assert made and all(ref() is None for ref in made)


FORM_HEAD = (b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
             b"Content-Type: image/jpeg\r\n\r\n")


@pytest.mark.parametrize("body", [
    FORM_HEAD + SAMPLE.read_bytes()[:5000],                 # cut in the image's bytes
    FORM_HEAD[:40],                                         # cut in the part's headers
    FORM_HEAD + SAMPLE.read_bytes() + b"\r\n--b",           # cut before the closing "--"
    b"",
], ids=["in-data", "in-headers", "before-closing", "empty"])
def test_a_multipart_body_cut_short_is_refused_as_incomplete(client, body):
    """A body that ends before its closing boundary is called incomplete, not a form
    without an image (python-multipart accepts it and drops the unfinished part)."""
    response = client.post("/v1/map", content=body,
                           headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400
    assert response.json() == {"error": "incomplete multipart body: it ends before its "
                                        "closing boundary (upload cut short?)"}
    whole = client.post("/v1/map?method=analytic", content=FORM_HEAD + SAMPLE.read_bytes()
                        + b"\r\n--b--\r\n",
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert whole.status_code == 200


def test_a_malformed_multipart_body_is_a_json_error_with_the_parsers_reason(client):
    body = b"xx" + FORM_HEAD + b"data\r\n--b--\r\n"  # it must start with its boundary
    response = client.post("/v1/map", content=body,
                           headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid multipart body: expected boundary character "
                                        "45, got 120 at index 2"}


def test_the_server_log_has_no_line_of_the_multipart_parser():
    """python-multipart logs its own unprefixed warning before it raises ("Expected boundary
    character 45, ..."): the server's log (its stderr) holds only dofkit's lines."""
    import signal
    import urllib.error
    import urllib.request

    child, url = start_server()
    try:
        for body in (b"xx" + FORM_HEAD + b"data\r\n--b--\r\n", FORM_HEAD + b"data"):
            request = urllib.request.Request(
                f"{url}/v1/map", data=body,
                headers={"Content-Type": "multipart/form-data; boundary=b"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            assert refused.value.code == 400
    finally:
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    assert [line for line in stderr.splitlines() if not line.startswith("dofkit: ")] == []
    assert stderr.rstrip().endswith("dofkit: server stopped")


@pytest.mark.parametrize("q", ["nan", "inf", "-inf", "2", "1e3", "-1", "abc", ""])
def test_an_accept_q_outside_0_to_1_counts_as_0_like_any_malformed_q(q):
    images = ("image/png", "image/jpeg")
    with pytest.raises(ApiError) as refused:
        choose(f"image/png;q={q}", images)
    assert refused.value.status == 406
    assert f"(q={q} is not a number from 0 to 1: it counts as 0)" in refused.value.message
    assert choose(f"image/png;q={q}, image/jpeg;q=0.1", images) == "image/jpeg"


def test_an_accept_q_of_nan_is_refused_over_http(client):
    response = client.post("/v1/map", content=b"x", headers={"Accept": "image/png;q=nan"})
    assert response.status_code == 406
    assert response.json()["error"].startswith("cannot answer Accept 'image/png;q=nan' (q=nan")


def test_openapi_descriptions_are_markdown_not_rst(client):
    """FastAPI takes the endpoints' docstrings (``x``: reStructuredText) as descriptions,
    read as Markdown (`x`): no double backticks reach the schema."""
    schema = client.get("/openapi.json").json()
    assert "``" not in json.dumps(schema)
    health = schema["paths"]["/v1/health"]["get"]["description"]
    assert "`queue` counts requests" in health


def test_a_queued_job_whose_client_left_is_dropped_not_run(capfd):
    """Clients that give up while the worker is busy (a timeout, a closed tab) left their
    jobs queued: each ran later for no one, ahead of the clients still waiting. Quietly: the
    answer to a client gone is no internal error in the log."""
    import socket
    import time
    import urllib.request

    from serve_live import live_server

    def pending(url: str) -> int:
        with urllib.request.urlopen(f"{url}/v1/health", timeout=10) as answer:
            return json.load(answer)["queue"]["pending"]

    app = create_app(Settings(backend="cpu"))
    ran, release = [], threading.Event()
    consume = app.state.engine.consume
    app.state.engine.consume = lambda *args: ran.append(args) or consume(*args)
    data = SAMPLE.read_bytes()
    head = (f"POST /v1/map?method=analytic HTTP/1.1\r\nHost: t\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    with live_server(app) as url:
        app.state.worker.submit(release.wait)  # the worker is busy
        port = int(url.rsplit(":", 1)[1])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(head + data)
                deadline = time.monotonic() + 10
                while pending(url) == 0 and time.monotonic() < deadline:
                    time.sleep(0.05)  # queued, then the client leaves
        deadline = time.monotonic() + 10
        while pending(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = pending(url)
        release.set()
        app.state.worker.submit(lambda: None).result(timeout=60)
    assert left == 0 and not ran
    log = capfd.readouterr().err
    assert "internal error" not in log and "Traceback" not in log, log


@pytest.mark.parametrize("kind", ["application/octet-stream", "multipart/form-data; boundary=b"])
def test_a_stalled_upload_is_answered_408_and_its_connection_closed(kind):
    """A client that sends part of its body and then nothing held its connection (and the
    bytes so far) for ever: uvicorn has no read timeout."""
    import socket

    from serve_live import live_server

    head = (f"POST /v1/map HTTP/1.1\r\nHost: t\r\nContent-Type: {kind}\r\n"
            "Content-Length: 100000\r\n\r\n").encode()
    with live_server(create_app(Settings(backend="cpu", upload_idle=0.5))) as url:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as connection:
            connection.settimeout(20)
            connection.sendall(head + b"--b\r\n" + b"x" * 400)
            answer = b""
            while chunk := connection.recv(4096):  # until the server closes
                answer += chunk
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body) == {"error": "upload stalled: no bytes for 0.5 s"}


@pytest.mark.parametrize("path", ["/v1/roi", "/v1/detect"])
@pytest.mark.parametrize("value", ["nan", "abc", "0"])
def test_a_bad_threshold_is_named_as_the_query_parameter(client, path, value):
    """The message named the CLI's --threshold, which an HTTP client never typed."""
    response = client.post(f"{path}?threshold={value}", content=SAMPLE.read_bytes())
    assert response.status_code == 400
    assert response.json()["error"].startswith("threshold must be ")


def test_serve_passes_upload_idle_to_the_server(monkeypatch):
    """`dofkit serve --upload-idle S` reaches the app's settings (the 30 s default applied
    whatever the option said)."""
    import uvicorn
    from typer.testing import CliRunner

    import dofkit.serve

    made = []
    monkeypatch.setattr(dofkit.serve, "create_app", lambda settings: made.append(settings))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: sockets[0].close())
    import socket

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--upload-idle", "2.5"])
    assert result.exit_code == 0, result.output
    assert made[0].upload_idle == 2.5
    refused = CliRunner().invoke(cli, ["serve", "--upload-idle", "0"])
    assert refused.exit_code == 2 and "--upload-idle" in refused.output


def test_making_and_running_the_app_leaves_the_process_logging_alone():
    """create_app's start-up set propagate=False and a handler on two process-wide loggers
    (python-multipart's): a library must not; `dofkit serve`, which owns the process, does."""
    import logging

    loggers = [logging.getLogger(name) for name in ("python_multipart", "multipart")]
    kept = [(logger.propagate, logger.handlers[:]) for logger in loggers]
    for logger in loggers:  # as a fresh process has them
        logger.propagate, logger.handlers[:] = True, []
    try:
        with TestClient(create_app(Settings(backend="cpu"))) as local:
            assert local.get("/v1/health").status_code == 200
        assert all(logger.propagate and not logger.handlers for logger in loggers)
    finally:
        for logger, (propagate, handlers) in zip(loggers, kept):
            logger.propagate, logger.handlers[:] = propagate, handlers


def two_step_job(app, release: threading.Event) -> tuple[threading.Event, list]:
    """Make the app's map job two steps: the first waits for ``release``, the second notes
    that it ran in the returned list; the returned event is set once the first began."""
    started, ran = threading.Event(), []

    def consume(upload, method, step, role, suffix, timer):
        with timer("first"):
            started.set()
            release.wait(30)
        with timer("second"):
            ran.append(upload.name)
        return b"done"

    app.state.engine.consume = consume
    return started, ran


def test_a_running_job_whose_client_left_stops_at_its_next_step(capfd):
    """A full-resolution render whose page was reloaded ran to its end, for no one, ahead of
    the page's new requests; it cannot be interrupted mid-step, but its next step is not
    run. Meanwhile /v1/health names what runs."""
    import socket
    import time
    import urllib.request

    from serve_live import live_server

    app = create_app(Settings(backend="cpu"))
    release = threading.Event()
    started, ran = two_step_job(app, release)
    data = SAMPLE.read_bytes()
    head = (f"POST /v1/map HTTP/1.1\r\nHost: t\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    with live_server(app) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(head + data)
            assert started.wait(30)
            with urllib.request.urlopen(f"{url}/v1/health", timeout=10) as answer:
                running = json.load(answer)["queue"]["running"]
        time.sleep(0.5)  # the server sees the client leave
        release.set()
        app.state.worker.submit(lambda: None).result(timeout=60)
    assert running["path"] == "/v1/map" and running["bytes"] == len(data)
    assert running["seconds"] >= 0
    assert not ran
    log = capfd.readouterr().err
    assert "internal error" not in log and "Traceback" not in log, log


def test_a_request_running_as_the_server_stops_is_answered_503_without_a_traceback(capfd):
    """Ctrl-C during a long render: the client got uvicorn's plain-text 500, the log a
    traceback of the cancellation, and the server waited for the render's end. Now: a JSON
    503 once the graceful wait is over, and the render's next steps are not run."""
    import time
    import urllib.error
    import urllib.request

    from serve_live import live_server

    app = create_app(Settings(backend="cpu"))
    release = threading.Event()
    started, ran = two_step_job(app, release)
    answers = []

    def post(url):
        request = urllib.request.Request(f"{url}/v1/map", data=SAMPLE.read_bytes())
        try:
            urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.headers["content-type"], error.read()))

    with live_server(app, timeout_graceful_shutdown=0.5) as url:
        client = threading.Thread(target=post, args=(url,))
        client.start()
        assert started.wait(30)
        threading.Timer(2, release.set).start()  # the step running ends 2 s from now
        stopping = time.monotonic()
    stopped = time.monotonic() - stopping
    client.join(10)
    assert answers == [(503, "application/json",
                        b'{"error":"server stopping; retry once it is back"}')]
    assert not ran and stopped < 5
    log = capfd.readouterr().err
    assert "Traceback" not in log and "Exception" not in log, log
