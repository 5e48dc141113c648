"""End to end in a real browser: Debian's chromium driven by Playwright loads the page from a
server on 127.0.0.1, a sample is uploaded, a slider moves, and the stylised image changes.
No request may leave the server's own origin."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)

from dofkit.serve import Settings, create_app  # noqa: E402
from serve_live import live_server  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "coffee.jpg"
#: A checksum of the pixels of the image element matching the selector.
CHECKSUM = """(selector) => {
  const img = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 1) sum = (sum * 31 + data[i]) >>> 0;
  return sum;
}"""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def browser_page(width: int = 1500, height: int = 950, errors: list | None = None):
    """A page of Debian's chromium (its page errors appended to ``errors``), closed after."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            if errors is not None:
                page.on("pageerror", lambda error: errors.append(str(error)))
            yield page
        finally:
            browser.close()


def show_sample(page, base_url: str, photo: Path = SAMPLE) -> None:
    """Open the app and let it stylise ``photo`` (the sample)."""
    page.goto(f"{base_url}/")
    page.wait_for_selector("#params input[type=range]")
    page.set_input_files("#file", str(photo))
    page.wait_for_selector("#result-frame.loaded:not(.busy)", timeout=60_000)


def resized_sample(folder: Path, size: tuple[int, int]) -> Path:
    """The sample resized to ``size`` = (width, height), as a JPEG in ``folder``."""
    import cv2

    from dofkit.io import open_image, write_image

    large = folder / "large.jpg"
    write_image(large, cv2.resize(open_image(SAMPLE).rgb, size))
    return large


def queries(page, path: str) -> list:
    """The query of every request to ``path`` the page makes, parsed, in order."""
    from urllib.parse import parse_qs, urlparse

    seen = []
    page.on("request", lambda request: seen.append(parse_qs(urlparse(request.url).query))
            if path in request.url else None)
    return seen


@pytest.fixture(scope="module")
def base_url():
    with live_server(create_app(Settings())) as url:
        yield url


def test_page_uploads_a_sample_and_follows_a_slider(base_url, tmp_path):
    requests, errors, stylised = [], [], []
    with browser_page(errors=errors) as page:
        page.on("request", lambda request: requests.append(request.url))
        page.on("request", lambda request: stylised.append(request.url)
                if "/v1/stylize" in request.url else None)
        show_sample(page, base_url)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        first_src = page.get_attribute("#result", "src")
        first_pixels = page.evaluate(CHECKSUM, "#result")

        page.locator("#param-radius").fill("12")
        # (no wait_for_function: its string predicates are blocked by the page's CSP)
        sync_api.expect(page.locator("#result")).not_to_have_attribute("src", first_src,
                                                                       timeout=60_000)
        page.wait_for_selector("#result-frame:not(.busy)", timeout=60_000)
        assert "radius=12" in stylised[-1]
        assert page.evaluate(CHECKSUM, "#result") != first_pixels
        assert page.locator("#result-timing").inner_text().count("ms") >= 2
        page.screenshot(path=str(tmp_path / "page.png"))
    assert not errors
    outside = [url for url in requests
               if not url.startswith((f"{base_url}/", "blob:", "data:"))]
    assert not outside, outside


def test_a_bad_photo_clears_old_results_and_the_recipe_is_one_safe_shell_line(base_url,
                                                                               tmp_path):
    bad = tmp_path / "it's; rm -rf ~ #.png"
    bad.write_text("not an image at all")
    errors = []
    with browser_page(errors=errors) as page:
        show_sample(page, base_url)
        recipe = page.locator("#curl").inner_text()
        assert recipe.startswith("curl -sf -F 'image=@\"coffee.jpg\"' '")

        page.set_input_files("#file", str(bad))
        sync_api.expect(page.locator("#toast")).to_contain_text(f"{bad.name}: not an image dofkit reads",
                                                                timeout=60_000)
        for frame in ("#photo-frame", "#map-frame", "#result-frame"):
            sync_api.expect(page.locator(frame)).not_to_have_class(re.compile(r"\bloaded\b"))
        assert page.locator("#photo-info").inner_text() == ""  # no caption over empty panels
        assert page.locator("#download-result").is_disabled()
        assert "coffee" not in page.locator("#curl").inner_text()

        page.focus("#view button[data-view=grey]")  # the view is a radio group
        page.keyboard.press("ArrowRight")
        assert page.get_attribute("#view button[data-view=rainbow]", "aria-checked") == "true"
        assert page.get_attribute("#view button[data-view=grey]", "aria-checked") == "false"

        page.set_viewport_size({"width": 375, "height": 800})  # a phone: photo, results, settings
        tops = {name: page.locator(selector).bounding_box()["y"] for name, selector in
                (("photo", "#drop"), ("results", ".panels"), ("settings", "#method"))}
        assert tops["photo"] < tops["results"] < tops["settings"]
    assert not errors


def test_the_preview_is_styled_as_the_full_photo_will_be(base_url, tmp_path):
    """Style settings in px follow the preview's reduction (a 2048-px photo is previewed at
    1024 px: half the radii, twice the gradient per px), so the preview looks as the
    download will; the download itself gets the settings as set."""
    large = resized_sample(tmp_path, (2048, 1366))
    errors = []
    with browser_page(errors=errors) as page:
        stylised = queries(page, "/v1/stylize")
        show_sample(page, base_url, large)
        preview = {name: float(value[0]) for name, value in stylised[-1].items()
                   if name in ("radius", "feather", "toon_gradient", "edge_sigma", "levels")}
        assert preview == {"radius": 2.0, "feather": 1.5, "toon_gradient": 4.0,
                           "edge_sigma": 0.5, "levels": 8.0}  # the toon preset's, rescaled
        with page.expect_download(timeout=120_000):
            page.click("#download-result")
        full = stylised[-1]
        assert (full["radius"], full["feather"], full["toon_gradient"]) == (["4"], ["3"], ["2"])
    assert not errors


def test_on_a_phone_the_result_stays_in_sight_while_settings_move(base_url, tmp_path):
    """Stacked panels: the settings are far below the result; while they are on screen a
    thumbnail of the result is in a corner, follows each new result and brings it back."""
    errors = []
    with browser_page(390, 844, errors=errors) as page:
        show_sample(page, base_url)
        peek = page.locator("#peek")
        page.locator("#result").scroll_into_view_if_needed()
        sync_api.expect(peek).to_be_hidden()  # the result itself is in sight
        page.locator("#param-radius").scroll_into_view_if_needed()
        sync_api.expect(peek).to_be_visible()
        before = page.get_attribute("#result", "src")
        page.locator("#param-radius").fill("9")
        sync_api.expect(page.locator("#result")).not_to_have_attribute("src", before,
                                                                       timeout=60_000)
        assert peek.get_attribute("src") == page.get_attribute("#result", "src")
        box = peek.bounding_box()
        assert box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
        page.screenshot(path=str(tmp_path / "phone.png"))
        peek.click()
        sync_api.expect(peek).to_be_hidden()
    with browser_page(errors=errors) as page:  # side by side: never shown
        show_sample(page, base_url)
        page.locator("#param-radius").scroll_into_view_if_needed()
        assert not page.locator("#peek").is_visible()
    assert not errors


def test_a_photo_the_browser_cannot_show_is_not_a_broken_picture(base_url, tmp_path):
    """A TIFF (offered by the drop zone) is read by the server, not by the browser: the photo
    panel says so instead of showing a broken image, the panels take the map's shape, and
    the last download's status does not stay beside another photo."""
    from dofkit.io import open_image, write_image

    tiff = tmp_path / "wide.tif"
    write_image(tiff, open_image(SAMPLE).rgb[:150])  # 600 x 150: not the sample's shape
    errors = []
    with browser_page(errors=errors) as page:
        show_sample(page, base_url)
        with page.expect_download(timeout=60_000):
            page.click("#download-map")
        sync_api.expect(page.locator("#download-status")).to_contain_text("coffee-map.png")

        page.set_input_files("#file", str(tiff))
        page.wait_for_selector("#result-frame.loaded:not(.busy)", timeout=60_000)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        assert page.locator("#download-status").inner_text() == ""
        assert page.get_attribute("#photo", "src") is None
        sync_api.expect(page.locator("#photo-frame .empty")).to_contain_text("cannot show")
        box = page.locator("#map-frame").bounding_box()
        assert abs(box["width"] / box["height"] - 600 / 150) < 0.1
        page.screenshot(path=str(tmp_path / "tiff.png"))
    assert not errors


def test_the_api_reference_shows_code_not_backticks(base_url):
    """Descriptions are Markdown: `x` is drawn as code, and no backtick shows."""
    with browser_page(1280, 900) as page:
        page.goto(f"{base_url}/docs")
        page.wait_for_selector(".endpoint")
        text = page.locator("main").inner_text()
        assert "`" not in text
        health = page.locator(".endpoint", has_text="/v1/health")
        assert "queue" in health.locator("p code").all_inner_texts()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_header_keeps_the_title_clear_of_the_version(base_url, width):
    """On a phone the version text wrapped up against "dofkit"; it keeps a clear gap and
    stays inside the bar."""
    with browser_page(width, 800) as page:
        page.goto(f"{base_url}/")
        sync_api.expect(page.locator("#health")).to_contain_text("render")
        title = page.locator(".brand b").bounding_box()
        version = page.locator("#health").bounding_box()
        bar = page.locator(".bar").bounding_box()
        assert version["x"] - (title["x"] + title["width"]) >= 16
        assert bar["y"] <= version["y"]
        assert version["y"] + version["height"] <= bar["y"] + bar["height"]


def test_the_api_reference_fits_a_phone_screen(base_url):
    """At 375 px the parameter tables scroll inside their panels; the page itself is no wider
    than the screen (it was 44 px wider)."""
    with browser_page(375, 800) as page:
        page.goto(f"{base_url}/docs")
        page.wait_for_selector(".endpoint table")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375


def hold_first(page, pattern: str) -> list:
    """Hold back the first request matching ``pattern`` (its route appended to the returned
    list, to be continued later); let the others through."""
    held = []

    def route(request_route):
        if held:
            request_route.continue_()
        else:
            held.append(request_route)

    page.route(pattern, route)
    return held


def release(page, held: list) -> None:
    """Let the held request through and give the page time to handle its late answer."""
    with page.expect_response(lambda response: response.request == held[0].request):
        held[0].continue_()
    page.wait_for_timeout(500)


def test_a_late_answer_never_replaces_a_newer_map_or_adds_boxes(base_url):
    """An answer arriving after a newer one (a busy server, a slow network) is dropped: the
    boxes were drawn twice (once per threshold) and a late map showed the wrong view."""
    errors = []
    with browser_page(errors=errors) as page:
        show_sample(page, base_url)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        page.click("#view button[data-view=overlay]")
        page.wait_for_selector("#map-frame:not(.busy)", timeout=60_000)
        overlay = page.evaluate(CHECKSUM, "#map")
        page.click("#view button[data-view=grey]")
        page.wait_for_selector("#map-frame:not(.busy)", timeout=60_000)

        held = hold_first(page, "**/v1/map?*")
        page.click("#view button[data-view=rainbow]")
        page.click("#view button[data-view=overlay]")
        page.wait_for_selector("#map-frame:not(.busy)", timeout=60_000)
        release(page, held)
        assert page.evaluate(CHECKSUM, "#map") == overlay

        held = hold_first(page, "**/v1/roi?*")
        page.click("#otsu")  # held: the threshold's default, 0.50
        page.locator("#threshold").fill("0.9")
        sync_api.expect(page.locator("#boxes rect")).to_have_count(1, timeout=60_000)
        latest = page.locator("#boxes text").all_text_contents()
        release(page, held)
        assert page.locator("#boxes rect").count() == 1
        assert page.locator("#boxes text").all_text_contents() == latest
    assert not errors


def test_a_new_photo_clears_the_last_ones_results_at_once(base_url, tmp_path):
    """While a new photo's map is on its way, no map, box or result of the photo before it
    stays beside it (they did for the seconds a large photo takes)."""
    from dofkit.io import open_image, write_image

    other = tmp_path / "other.png"
    write_image(other, open_image(SAMPLE).rgb[:, ::-1])
    errors = []
    with browser_page(errors=errors) as page:
        show_sample(page, base_url)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        sync_api.expect(page.locator("#boxes rect")).not_to_have_count(0, timeout=60_000)
        held = hold_first(page, "**/v1/map?*")
        page.set_input_files("#file", str(other))
        sync_api.expect(page.locator("#photo-info")).to_contain_text("other.png")
        for frame in ("#map-frame", "#result-frame"):
            sync_api.expect(page.locator(frame)).not_to_have_class(re.compile(r"\bloaded\b"))
            sync_api.expect(page.locator(frame)).to_have_class(re.compile(r"\bbusy\b"))
        assert page.locator("#boxes rect").count() == 0
        assert page.locator("#map-timing").inner_text() == ""
        held[0].continue_()
        page.wait_for_selector("#result-frame.loaded:not(.busy)", timeout=60_000)
    assert not errors


def test_a_busy_server_keeps_the_photo_and_offers_a_retry(base_url):
    """A 503 (queue full) on the map left no photo to retry with: every panel was cleared.
    Now the photo stays, the toast has a Retry button, and Retry makes the map."""
    errors, refused = [], []

    def busy(route):
        refused.append(route.request.url)
        route.fulfill(status=503, headers={"Retry-After": "2"}, content_type="application/json",
                      body='{"error": "server busy (64 requests queued); retry later"}')

    with browser_page(errors=errors) as page:
        page.goto(f"{base_url}/")
        page.wait_for_selector("#params input[type=range]")
        page.route("**/v1/map?*", busy)
        page.set_input_files("#file", str(SAMPLE))
        sync_api.expect(page.locator("#toast")).to_contain_text("server busy", timeout=60_000)
        sync_api.expect(page.locator("#photo-frame")).to_have_class(re.compile(r"\bloaded\b"))
        assert page.locator("#photo-info").inner_text().startswith("coffee.jpg")
        assert not page.locator("#download-result").is_disabled()
        page.unroute("**/v1/map?*", busy)
        page.click("#toast-retry")
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        page.wait_for_selector("#result-frame.loaded:not(.busy)", timeout=60_000)
        assert page.locator("#toast").is_hidden()
    assert len(refused) == 1
    assert not errors


def test_a_page_that_cannot_reach_its_server_says_so(base_url):
    """The page loaded, the API did not answer: the header said "connecting…" for ever, with
    empty menus and a page error; now it says so and offers nothing to click but Reload."""
    errors = []
    with browser_page(errors=errors) as page:
        page.route("**/v1/**", lambda route: route.abort())
        page.goto(f"{base_url}/")
        sync_api.expect(page.locator("#health")).to_have_text("server unreachable")
        sync_api.expect(page.locator("#toast")).to_contain_text("does not answer")
        for control in ("#file", "#method", "#style", "#download-result", "#copy"):
            assert page.locator(control).is_disabled(), control
        assert page.locator("#toast-retry").inner_text() == "Reload"
        assert page.locator("#toast-retry").is_enabled()  # they were disabled with the rest
        page.click("#toast-close")
        sync_api.expect(page.locator("#toast")).to_be_hidden()
    assert not errors


def test_the_map_download_is_the_map_as_viewed_and_its_labels_readable(base_url, tmp_path):
    """"Download map" with the rainbow view gave the grey map; the boxes' labels were about
    4 px tall on a large photo (the SVG shrank them with the map)."""
    from dofkit.io import open_image

    large = resized_sample(tmp_path, (3000, 2000))
    errors = []
    with browser_page(errors=errors) as page:
        maps = queries(page, "/v1/map")
        show_sample(page, base_url, large)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        sync_api.expect(page.locator("#boxes text")).not_to_have_count(0, timeout=60_000)
        label = page.locator("#boxes text").first.bounding_box()
        assert 10 <= round(label["height"], 2) <= 20, label  # fractional layout: 20.0002
        page.click("#view button[data-view=rainbow]")
        page.wait_for_selector("#map-frame:not(.busy)", timeout=60_000)
        with page.expect_download(timeout=120_000) as download:
            page.click("#download-map")
        assert download.value.suggested_filename == "large-map-rainbow.png"
        assert maps[-1]["colormap"] == ["rainbow"]
        saved = tmp_path / "saved.png"
        download.value.save_as(saved)
        assert open_image(saved).rgb.shape == (2000, 3000, 3)  # colour, full resolution
    assert not errors


def test_a_transparent_photo_is_previewed_from_the_file_itself(base_url, tmp_path):
    """A canvas copy lost the colour under transparent pixels (black), and the JPEG preview
    the transparency: the preview's map and result were not those of the download."""
    import numpy as np

    from dofkit.io import open_image, write_image

    alpha = np.ones((400, 600), np.float32)
    alpha[:, :200] = 0.0
    photo = tmp_path / "cutout.png"
    write_image(photo, open_image(SAMPLE).rgb, alpha=alpha)
    sent, errors = [], []
    with browser_page(errors=errors) as page:
        page.on("request", lambda request: sent.append(
            (request.url, request.headers.get("accept"), request.all_headers().get("content-length")))
            if "/v1/" in request.url and request.method == "POST" else None)
        page.goto(f"{base_url}/")
        page.wait_for_selector("#params input[type=range]")
        page.set_input_files("#file", str(photo))
        page.wait_for_selector("#result-frame.loaded:not(.busy)", timeout=60_000)
        sync_api.expect(page.locator("#photo-timing")).to_contain_text("transparent")
    assert sent and all(int(size) == photo.stat().st_size for _, _, size in sent), sent
    assert [accept for url, accept, _ in sent if "/v1/stylize" in url] == ["image/png"]
    assert not errors


#: The picture as drawn in its element (object-fit: contain): [left, top, width, height].
DRAWN = """(selector) => {
  const img = document.querySelector(selector);
  const box = img.getBoundingClientRect();
  const fit = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight);
  const width = img.naturalWidth * fit, height = img.naturalHeight * fit;
  return [box.left + (box.width - width) / 2, box.top + (box.height - height) / 2, width, height];
}"""


@pytest.mark.parametrize("size, screen", [((500, 3000), (1500, 950)), ((500, 3000), (390, 844)),
                                          ((16, 16), (1500, 950))])
def test_a_tall_or_tiny_photo_is_fitted_to_its_panel(base_url, tmp_path, size, screen):
    """A 500x3000 photo made each panel 368x2204 px with the picture at its natural size
    600 px down (three empty checkerboards on screen); a 16x16 one was a 16-px speck. Each
    picture now fills its panel in proportion, the panel no taller than the screen; the
    boxes lie over the map as drawn; on a phone the thumbnail of the result stays a bar
    below the content."""
    photo = resized_sample(tmp_path, size)
    width, height = screen
    errors = []
    with browser_page(width, height, errors=errors) as page:
        show_sample(page, base_url, photo)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
        for name in ("photo", "map", "result"):
            frame = page.locator(f"#{name}-frame").bounding_box()
            assert frame["height"] <= height - 100, (name, frame)
            left, top, drawn_width, drawn_height = page.evaluate(DRAWN, f"#{name}")
            assert abs(drawn_width / drawn_height - size[0] / size[1]) < 0.02
            # as wide or as tall as its frame (the frame's border aside)
            assert min(frame["width"] - drawn_width, frame["height"] - drawn_height) < 2
        if size[0] < 100:  # scaled up, its pixels sharp
            assert page.evaluate("getComputedStyle(document.querySelector('#photo'))"
                                 ".imageRendering") == "pixelated"
        else:
            sync_api.expect(page.locator("#boxes rect")).not_to_have_count(0, timeout=60_000)
            boxes = page.locator("#boxes").bounding_box()
            drawn = page.evaluate(DRAWN, "#map")
            assert all(abs(a - b) < 1.5 for a, b in zip(
                (boxes["x"], boxes["y"], boxes["width"], boxes["height"]), drawn)), (boxes, drawn)
        if width < 700:
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            peek = page.locator("#peek")
            sync_api.expect(peek).to_be_visible()
            bar = peek.bounding_box()
            assert bar["height"] <= 100 and bar["y"] + bar["height"] <= height + 0.5
            last = page.locator(".controls section").last.bounding_box()
            assert last["y"] + last["height"] <= bar["y"] + 0.5  # nothing left under it
        page.screenshot(path=str(tmp_path / "fitted.png"))
    assert not errors


def test_downloads_come_first_and_sliders_are_grouped_and_tappable(base_url):
    """The download buttons were below 21 ungrouped sliders (1,900 px down the sidebar);
    the phone's checkboxes were 13 px; the curl command broke inside words; Copy was
    offered before there was anything to copy."""
    with browser_page() as page:
        page.goto(f"{base_url}/")
        page.wait_for_selector("#params input[type=range]")
        assert page.locator("#download-result").bounding_box()["y"] < 400
        assert page.locator("#params h3").all_inner_texts() == ["Smoothing", "Toon", "Colour",
                                                                 "Lines"]
        assert page.locator("#copy").is_disabled()
    with browser_page(390, 844) as page:
        show_sample(page, base_url)
        assert not page.locator("#copy").is_disabled()
        for check in ("#rois", "#otsu"):
            label = page.locator(".check", has=page.locator(check)).bounding_box()
            assert label["height"] >= 24 and page.locator(check).bounding_box()["width"] >= 18
        assert page.evaluate("getComputedStyle(document.querySelector('#curl')).wordBreak") \
            != "break-all"


def test_after_a_server_outage_the_header_says_so_and_the_map_comes_back(base_url):
    """The server stops while a photo is picked: the header kept "v0.1.0 · auto = ..." and,
    once it was back, the map stayed "—" (only the result came back on the next slider
    move)."""
    errors = []
    with browser_page(errors=errors) as page:
        page.goto(f"{base_url}/")
        page.wait_for_selector("#params input[type=range]")
        sync_api.expect(page.locator("#health")).to_contain_text("render")
        page.route("**/v1/**", lambda route: route.abort())  # the server is down
        page.set_input_files("#file", str(SAMPLE))
        sync_api.expect(page.locator("#toast")).to_contain_text("did not answer", timeout=60_000)
        sync_api.expect(page.locator("#health")).to_have_text("server unreachable")
        page.unroute("**/v1/**")  # back
        sync_api.expect(page.locator("#health")).to_contain_text("render", timeout=10_000)
        page.locator("#param-radius").fill("9")
        page.wait_for_selector("#result-frame.loaded:not(.busy)", timeout=60_000)
        page.wait_for_selector("#map-frame.loaded:not(.busy)", timeout=60_000)
    assert not errors


def test_a_file_the_server_would_refuse_is_refused_when_picked_and_then_forgotten(base_url,
                                                                                   tmp_path):
    """A GIF was previewed (the browser reads it) and refused only by Download; a 48 MB
    photo was previewed, then Download said "upload too large (48,092,394 bytes ...)". A file
    the server refused was sent again when the preview size changed."""
    from PIL import Image

    gif = tmp_path / "cat.gif"
    Image.new("RGB", (64, 48), (200, 90, 40)).save(gif)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"x" * 300)  # JPEG by its first bytes only
    posts, errors = [], []
    with browser_page(errors=errors) as page:
        page.on("request", lambda request: posts.append(request.url)
                if request.method == "POST" else None)
        page.goto(f"{base_url}/")
        page.wait_for_selector("#params input[type=range]")
        page.set_input_files("#file", str(gif))
        sync_api.expect(page.locator("#toast")).to_contain_text(
            "cat.gif is a GIF image; dofkit reads JPEG, PNG, TIFF, BMP or WebP photos.")
        sync_api.expect(page.locator("#photo-frame")).not_to_have_class(re.compile(r"\bloaded\b"))
        assert not posts

        page.set_input_files("#file", str(broken))
        sync_api.expect(page.locator("#toast")).to_contain_text("broken.jpg: truncated",
                                                                timeout=60_000)
        page.click("#toast-close")
        sent = len(posts)
        page.select_option("#preview", "512")
        page.wait_for_timeout(1000)
        assert len(posts) == sent  # forgotten

        limit = SAMPLE.stat().st_size - 1  # a server taking a byte less than the sample
        page.route("**/v1/health", lambda route: route.fulfill(
            json={**route.fetch().json(), "max_upload_bytes": limit}))
        page.reload()
        page.wait_for_selector("#params input[type=range]")
        sync_api.expect(page.locator("#health")).to_contain_text("render")
        show_sample(page, base_url)
        status = page.locator("#download-status")
        sync_api.expect(status).to_contain_text(f"coffee.jpg is {SAMPLE.stat().st_size / 2**20:.1f}"
                                                f" MB, over this server's {limit / 2**20:.1f} MB")
        assert status.locator("code").inner_text() == "--max-upload-mb"
        assert page.locator("#download-result").is_disabled()
    assert not errors


def test_a_wait_is_shown_and_explained_and_the_download_keeps_the_focus(base_url, tmp_path):
    """A preview waiting behind a full-resolution render (this page's or a reloaded page's)
    showed the old picture with a 14-px spinner and no word; Enter on Download result left
    the focus on the page's body (the button was disabled while it rendered)."""
    errors = []
    with browser_page(errors=errors) as page:
        show_sample(page, base_url)
        running = {"path": "/v1/stylize", "bytes": 48_092_394, "seconds": 9.4}
        page.route("**/v1/health", lambda route: route.fulfill(json={
            **route.fetch().json(), "queue": {"pending": 2, "capacity": 64, "running": running}}))
        held = hold_first(page, "**/v1/stylize?*")
        page.locator("#param-radius").fill("9")
        frame = page.locator("#result-frame")
        sync_api.expect(frame).to_have_attribute(
            "data-note", "Waiting for the server to finish another request (stylize of a "
            "45.9 MB photo, running for 9 s)", timeout=10_000)
        assert float(page.evaluate("getComputedStyle(document.querySelector('#result'))"
                                   ".opacity")) < 0.5  # the stale result dimmed
        held[0].continue_()
        page.wait_for_selector("#result-frame:not(.busy)", timeout=60_000)
        assert frame.get_attribute("data-note") is None

        held, stylised = hold_first(page, "**/v1/stylize?*"), queries(page, "/v1/stylize")
        page.focus("#download-result")
        with page.expect_download(timeout=120_000):
            page.keyboard.press("Enter")
            sync_api.expect(page.locator("#download-result")).to_have_attribute(
                "aria-disabled", "true")
            page.keyboard.press("Enter")  # ignored while it renders
            held[0].continue_()
        assert page.evaluate("document.activeElement.id") == "download-result"
        assert len(stylised) == 1
        sync_api.expect(page.locator("#download-result")).not_to_have_attribute(
            "aria-disabled", "true")
    assert not errors
