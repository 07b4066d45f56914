#!/usr/bin/env python3
"""End-to-end tests of `modelport serve`, against the real binary on a free loopback port.

1. Malformed requests (truncated PNG, a text file named .png, a PNG header claiming
   100000x100000 pixels, an empty body, bodies over the limit, bad JSON, NaN pixels, a
   crafted .h5 upload that crashes libhdf5 in the isolated child, ...): each must be a
   4xx JSON {error, detail}, and /healthz must still answer afterwards.
2. A real browser (headless Chromium through Selenium): draws the committed stroke
   sequences with pointer events, uploads every committed test image, drops three
   images at once, runs validation and a conversion download on /models, checks for
   console errors, and saves full-page screenshots (desktop and a 360-px phone).

Usage: tools/serve_test.py --bin .build/debug/modelport [--artifacts DIR] [--no-browser]
Screenshots go to DIR (default .build/test-artifacts/serve). Exit status 0 when every
check passes; the last line is 'N passed, N failed'.
"""
import argparse
import base64
import glob
import http.client
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = 0
failed = 0


def check(condition, what, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"  ok    {what}")
    else:
        failed += 1
        print(f"  FAIL  {what}" + (f": {detail}" if detail else ""))
    return condition


class Server:
    """`modelport serve` on port 0 (the server prints the port it got)."""

    def __init__(self, binary, models, extra=()):
        self.process = subprocess.Popen([binary, "serve", *models, "--port", "0", *extra], cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = []
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()
        deadline = time.time() + 60
        self.url = None
        while time.time() < deadline and self.url is None:
            line = self.process.stdout.readline()
            if not line:
                break
            match = re.search(r"Open (http://[^ ]+/) ", line)
            if match:
                self.url = match.group(1)
        if self.url is None:
            self.process.kill()
            raise SystemExit("modelport serve did not start:\n" + "".join(self.log))
        threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()

    def _drain(self, stream):
        for line in stream:
            self.log.append(line)

    def stop(self):
        """SIGTERM, as a service manager stops it; returns its exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None

    def request(self, method, path, body=None, headers=None, timeout=60):
        host, port = self.url[len("http://"):-1].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), data


def png_header(width, height):
    """A PNG that declares width x height pixels and holds one tiny IDAT: a decompression bomb's header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def multipart(fields):
    """fields: [(name, filename, content_type, bytes)] -> (body, content type)."""
    boundary = "modelport-test-boundary-7d0f"
    out = b""
    for name, filename, ctype, data in fields:
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n".encode()
        out += f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def libhdf5_crasher():
    """The tutorial model with one byte changed (offset 7174 to 0xFD): Debian's libhdf5
    1.10.8 reads past a global heap (SIGSEGV) on it (see Tests/ModelPortCLITests/UntrustedTests.swift)."""
    data = bytearray(open(os.path.join(REPO, "fixtures/mnist_digit_model.h5"), "rb").read())
    data[7174] = 0xFD
    return bytes(data)


def expect_error(server, what, status, method, path, body=None, headers=None, code=None):
    got, response_headers, data = server.request(method, path, body, headers)
    try:
        payload = json.loads(data)
    except ValueError:
        payload = None
    ok = (got == status and isinstance(payload, dict) and isinstance(payload.get("error"), str)
          and isinstance(payload.get("detail"), str) and payload["detail"] != ""
          and response_headers.get("Content-Type", "").startswith("application/json")
          and (code is None or payload.get("error") == code))
    check(ok, f"{what}: {status} {code or ''}".rstrip(), f"got {got} {data[:300]!r}")
    return payload


def scratch_directories():
    """The server's private upload and conversion directories (mkdtemp's six random characters)."""
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "modelport-serve-" + "[A-Za-z0-9]" * 6)))


SCRATCH_BEFORE = scratch_directories()


def malformed_requests(server):
    print("== Malformed requests to the running server")
    digit = open(os.path.join(REPO, "fixtures/images/3/drawn_3.png"), "rb").read()
    png = {"Content-Type": "image/png"}
    expect_error(server, "truncated PNG", 400, "POST", "/api/predict", digit[: len(digit) * 6 // 10], png, "unreadable_image")
    body, ctype = multipart([("image", "notes.png", "image/png", b"these are my notes, not a picture\n")])
    expect_error(server, "a text file named .png", 400, "POST", "/api/predict", body, {"Content-Type": ctype}, "unreadable_image")
    expect_error(server, "PNG header claiming 100000x100000", 413, "POST", "/api/predict", png_header(100000, 100000), png, "image_too_large")
    body, ctype = multipart([("image", "bomb.png", "image/png", png_header(100000, 100000))])
    expect_error(server, "PNG bomb in a form", 413, "POST", "/api/predict", body, {"Content-Type": ctype}, "image_too_large")
    expect_error(server, "empty body", 400, "POST", "/api/predict", b"", png, "empty_body")
    expect_error(server, "body over the limit (declared)", 413, "POST", "/api/predict", b"\0" * (9 << 20), png, "body_too_large")
    # Chunked, so no Content-Length: the limit must be enforced while the body streams in.
    host, port = server.url[len("http://"):-1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    def chunks():
        for _ in range(40):
            yield b"\0" * (1 << 20)
    try:
        connection.request("POST", "/api/predict", body=chunks(), headers={"Content-Type": "image/png"}, encode_chunked=True)
        response = connection.getresponse()
        data = response.read()
        check(response.status == 413 and json.loads(data).get("error") == "body_too_large",
              "body over the limit (streamed, chunked): 413 body_too_large", f"{response.status} {data[:200]!r}")
    except (ConnectionError, BrokenPipeError) as error:
        # The server may close the connection after answering 413 while the client still sends.
        check(False, "body over the limit (streamed, chunked): 413 body_too_large", repr(error))
    connection.close()
    expect_error(server, "wrong content type", 415, "POST", "/api/predict", b"hello", {"Content-Type": "text/plain"}, "unsupported_content_type")
    expect_error(server, "unknown model", 404, "POST", "/api/predict?model=nope", digit, png, "unknown_model")
    j = {"Content-Type": "application/json"}
    expect_error(server, "malformed JSON", 400, "POST", "/api/predict", b'{"pixels": [0, 1,', j, "malformed_json")
    expect_error(server, "wrong pixel count", 400, "POST", "/api/predict", json.dumps({"pixels": [0.5] * 100}).encode(), j, "wrong_pixel_count")
    expect_error(server, "NaN in pixels", 400, "POST", "/api/predict", json.dumps({"pixels": [0.0] * 783 + [float("nan")]}).encode(), j, "nan_in_pixels")
    expect_error(server, "unknown route", 404, "GET", "/api/nothing-here", None, None, "not_found")
    expect_error(server, "unknown model (inspect)", 404, "GET", "/api/models/nope", None, None, "unknown_model")
    expect_error(server, "bad conversion target", 400, "GET", "/api/models/mnist_digit_model/convert?to=tflite", None, None, "bad_target")
    crafted, ctype = multipart([("model", "crafted.h5", "application/x-hdf5", libhdf5_crasher())])
    payload = expect_error(server, "crafted .h5 upload (crashes libhdf5 in the child)", 422, "POST", "/api/uploads/inspect",
                           crafted, {"Content-Type": ctype}, "unreadable_model")
    check(payload is not None and "crafted.h5" in payload.get("detail", "") and "crashed" in payload.get("detail", "")
          and "/tmp" not in payload.get("detail", ""),
          "the crash is reported naming the uploaded file, not the server's scratch path", str(payload))
    text, ctype = multipart([("model", "model.h5", "application/x-hdf5", b"not hdf5 at all")])
    expect_error(server, "an .h5 upload that is not HDF5", 422, "POST", "/api/uploads/inspect", text, {"Content-Type": ctype}, "unreadable_model")
    status, _, data = server.request("GET", "/healthz")
    check(status == 200 and json.loads(data).get("status") == "ok", "/healthz still answers after every malformed request")
    # Valid requests still work after all of that.
    status, _, data = server.request("POST", "/api/predict", digit, png)
    check(status == 200 and json.loads(data)["label"] == 3, "a valid prediction still works", data[:200])
    leftovers = scratch_directories() - SCRATCH_BEFORE
    check(not leftovers, "uploads and conversions leave no files behind", str(leftovers))


def uploads_refused_without_flag(binary):
    print("== Without --allow-uploads; graceful shutdown")
    server = Server(binary, ["fixtures/mnist_digit_model.h5"])
    try:
        body, ctype = multipart([("model", "m.h5", "application/x-hdf5", b"x")])
        expect_error(server, "upload endpoint", 403, "POST", "/api/uploads/inspect", body, {"Content-Type": ctype}, "uploads_disabled")
        # A conversion (about a second) in flight when SIGTERM arrives is still answered.
        answer = {}
        def convert():
            try:
                answer["status"], _, answer["body"] = server.request("GET", "/api/models/mnist_digit_model/convert?to=keras")
            except Exception as error:
                answer["error"] = repr(error)
        worker = threading.Thread(target=convert)
        worker.start()
        time.sleep(0.3)
    finally:
        status = server.stop()
    worker.join(60)
    check(answer.get("status") == 200 and answer.get("body", b"")[:2] == b"PK",
          "a request in flight when SIGTERM arrives is answered", str(answer)[:200])
    check(status == 0, "SIGTERM stops the server with status 0", f"status {status}")


# MARK: - Browser

def browser_tests(server, artifacts):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    print("== Browser (headless Chromium, Selenium)")
    downloads = tempfile.mkdtemp(prefix="modelport-browser-downloads-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    wait = WebDriverWait(driver, 30)
    console_errors = []

    def collect_console():
        for entry in driver.get_log("browser"):
            if entry["level"] == "SEVERE":
                console_errors.append(entry["message"])

    def screenshot(name, width):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500})
        time.sleep(0.3)
        height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
        data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                                 "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = os.path.join(artifacts, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        check(os.path.getsize(path) > 5000, f"screenshot {name} ({width} px wide, {height} px tall)")

    def label_is(expected):
        try:
            wait.until(lambda d: d.find_element(By.ID, "label").text == str(expected)
                       and not d.find_element(By.ID, "answer").get_attribute("hidden")
                       and "Reading" not in d.find_element(By.ID, "status").text)
            return True
        except Exception:
            return False

    def draw(strokes):
        pad = driver.find_element(By.ID, "pad")
        box = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];", pad)
        scale = box[2] / 280
        actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_MOUSE, "mouse"), duration=10)
        for stroke in strokes:
            # Points along each segment, so the pad sees a continuous line of pointermove events.
            points = []
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
                steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) / 6))
                points += [(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(steps)]
            points.append(tuple(stroke[-1]))
            x, y = points[0]
            actions.pointer_action.move_to_location(int(box[0] + x * scale), int(box[1] + y * scale))
            actions.pointer_action.pointer_down()
            for x, y in points[1:]:
                actions.pointer_action.move_to_location(int(box[0] + x * scale), int(box[1] + y * scale))
            actions.pointer_action.pointer_up()
        actions.perform()

    try:
        driver.get(server.url)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
        # Drawing, with real pointer events.
        for path in sorted(glob.glob(os.path.join(REPO, "fixtures/serve/stroke_*.json"))):
            stroke = json.load(open(path))
            driver.find_element(By.ID, "clear").click() if driver.find_element(By.ID, "clear").is_enabled() else None
            draw(stroke["strokes"])
            check(label_is(stroke["digit"]), f"drawing {os.path.basename(path)} reads as {stroke['digit']}",
                  driver.find_element(By.ID, "status").text)
            if stroke["digit"] == 3:
                bars = driver.find_elements(By.CSS_SELECTOR, "#bars li")
                check(len(bars) == 10 and "best" in bars[3].get_attribute("class"), "the bar chart shows ten bars, 3 on top")
                seen = driver.execute_script(
                    "const c = document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data;"
                    "let lit = 0; for (let i = 0; i < c.length; i += 4) if (c[i] > 128) lit++; return lit;")
                check(40 < seen < 400, "the 28x28 picture the model saw is drawn", f"{seen} bright pixels")
                timing = driver.find_element(By.ID, "timing").text
                check(re.search(r"Server time [0-9.]+ ms", timing) is not None, "the server-side time is shown", timing)
                screenshot("digit-desktop.png", 1280)
                screenshot("digit-phone-360.png", 360)
        # Undo and clear by keyboard.
        pad = driver.find_element(By.ID, "pad")
        pad.send_keys("\ue017")  # Delete
        check(driver.find_element(By.ID, "clear").get_attribute("disabled") is not None, "Delete on the focused pad clears it")
        # Upload every committed test image through the file button.
        images = sorted(glob.glob(os.path.join(REPO, "fixtures/images/*/*")))
        wrong = []
        for path in images:
            expected = int(os.path.basename(os.path.dirname(path)))
            driver.find_element(By.ID, "file").send_keys(path)
            if not label_is(expected):
                wrong.append(f"{os.path.relpath(path, REPO)} -> {driver.find_element(By.ID, 'label').text} ({driver.find_element(By.ID, 'status').text})")
        check(len(images) >= 10 and not wrong, f"each of the {len(images)} committed test images, uploaded, reads as its digit", "; ".join(wrong))
        # Drop three images at once: a table with a CSV download.
        three = [images[0], images[len(images) // 2], images[-1]]
        driver.execute_script("""
            const input = document.createElement('input');
            input.type = 'file'; input.multiple = true; input.id = 'test-drop-source'; input.style.display = 'none';
            document.body.append(input);""")
        driver.find_element(By.ID, "test-drop-source").send_keys("\n".join(three))
        driver.execute_script("""
            const files = document.getElementById('test-drop-source').files;
            const transfer = new DataTransfer();
            for (const f of files) transfer.items.add(f);
            const zone = document.getElementById('drop-zone');
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));""")
        try:
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#batch-table tbody tr")) == 3)
            rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in driver.find_elements(By.CSS_SELECTOR, "#batch-table tbody tr")]
        except Exception:
            rows = []
        expected_rows = [(os.path.basename(p), os.path.basename(os.path.dirname(p))) for p in three]
        check(len(rows) == 3 and all(r[0] == f and r[1] == d and r[2].endswith("%") for r, (f, d) in zip(rows, expected_rows)),
              "dropping three images gives a table of file, digit, confidence", f"{rows} vs {expected_rows}")
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        driver.find_element(By.ID, "csv").click()
        csv_path = os.path.join(downloads, "predictions.csv")
        for _ in range(50):
            if os.path.exists(csv_path):
                break
            time.sleep(0.1)
        csv_lines = open(csv_path).read().splitlines() if os.path.exists(csv_path) else []
        check(len(csv_lines) == 4 and csv_lines[0].startswith("file,label,confidence,p0"), "the table downloads as CSV", str(csv_lines[:2]))
        screenshot("digit-batch-desktop.png", 1280)
        collect_console()

        # The workbench.
        driver.get(server.url + "models")
        wait.until(lambda d: d.find_elements(By.ID, "validate"))
        check("mnist_digit_model" in driver.find_element(By.ID, "model-card").text and
              "Dense" in driver.find_element(By.ID, "model-card").text, "/models shows the model's layer table")
        driver.find_element(By.ID, "validate").click()
        try:
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=validation] .badge"))
            badge = driver.find_element(By.CSS_SELECTOR, "[data-testid=validation] .badge").text
        except Exception:
            badge = driver.find_element(By.ID, "model-card").text[:300]
        check(badge == "PASSED", "validation against the reference file passes", badge)
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        driver.find_element(By.CSS_SELECTOR, "[data-testid=convert-onnx]").click()
        try:
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=conversion] .badge"))
            badge = driver.find_element(By.CSS_SELECTOR, "[data-testid=conversion] .badge").text
        except Exception:
            badge = driver.find_element(By.ID, "model-card").text[:300]
        check(badge == "VERIFIED", "the ONNX conversion is verified against the source", badge)
        onnx_path = os.path.join(downloads, "mnist_digit_model.onnx")
        for _ in range(100):
            if os.path.exists(onnx_path) and os.path.getsize(onnx_path) > 0:
                break
            time.sleep(0.1)
        check(os.path.exists(onnx_path) and open(onnx_path, "rb").read(2) == b"\x08\x08",
              "the converted ONNX file is downloaded", str(os.listdir(downloads)))
        screenshot("models-desktop.png", 1280)
        screenshot("models-phone-360.png", 360)
        # A functional model's graph.
        functional = [b for b in driver.find_elements(By.CSS_SELECTOR, "#tabs button") if b.text == "cov_residual"]
        check(bool(functional), "the .keras and .onnx models are offered too",
              str([b.text for b in driver.find_elements(By.CSS_SELECTOR, "#tabs button")]))
        if functional:
            functional[0].click()
            try:
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".graph svg rect"))
                check(True, "a functional model's graph is drawn")
            except Exception:
                check(False, "a functional model's graph is drawn", driver.find_element(By.ID, "model-card").text[:300])
        collect_console()
        check(not console_errors, "no console errors on the pages", "; ".join(console_errors))
        # An upload that crashes libhdf5 in the child: an error on the page, and the server goes on.
        crafted = os.path.join(downloads, "crafted.h5")
        open(crafted, "wb").write(libhdf5_crasher())
        driver.find_element(By.ID, "upload-model").send_keys(crafted)
        driver.find_element(By.ID, "upload-inspect").click()
        try:
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#upload-result .error"))
            message = driver.find_element(By.CSS_SELECTOR, "#upload-result .error").text
        except Exception:
            message = driver.find_element(By.ID, "upload-result").text
        check("crafted.h5" in message and "crashed" in message, "a crafted upload shows an error message", message)
        screenshot("models-upload-error.png", 1280)
        good = os.path.join(REPO, "fixtures/mnist_digit_model.h5")
        driver.find_element(By.ID, "upload-model").send_keys(good)
        driver.find_element(By.ID, "upload-reference").send_keys(os.path.join(REPO, "fixtures/mnist_digit_model.reference.h5"))
        driver.find_element(By.ID, "upload-validate").click()
        try:
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#upload-result [data-testid=validation] .badge"))
            badge = driver.find_element(By.CSS_SELECTOR, "#upload-result [data-testid=validation] .badge").text
        except Exception:
            badge = driver.find_element(By.ID, "upload-result").text
        check(badge == "PASSED", "an uploaded model and reference validate", badge)
        status, _, _ = server.request("GET", "/healthz")
        check(status == 200, "the server still answers after the crafted upload")
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the modelport executable")
    parser.add_argument("--artifacts", default=os.path.join(REPO, ".build/test-artifacts/serve"))
    parser.add_argument("--no-browser", action="store_true", help="only the HTTP checks")
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    binary = os.path.abspath(args.bin)
    models = ["fixtures/mnist_digit_model.h5", "fixtures/coverage/cov_residual.keras", "fixtures/onnx/mnist_cnn.tf2onnx.onnx"]
    server = Server(binary, models, ["--allow-uploads"])
    print(f"serving on {server.url}")
    try:
        malformed_requests(server)
        if not args.no_browser:
            browser_tests(server, args.artifacts)
    finally:
        status = server.stop()
        check(status == 0, "SIGTERM stops the server with status 0", f"status {status}")
        with open(os.path.join(args.artifacts, "server.log"), "w") as f:
            f.write("".join(server.log))
    uploads_refused_without_flag(binary)
    if not args.no_browser:
        print(f"screenshots in {os.path.relpath(args.artifacts, os.getcwd())}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
