"""Render the HTML reports of the two reference runs in headless Chromium, save screenshots, and
check that the pages log no console error and make no network request.

Run by hand (not part of the test suite) after changing logan/report, then look at the
screenshots:

    python scripts/render_report.py                 # writes /tmp/logan_render/
    python scripts/render_report.py --out DIR --height 6000 RUN [RUN ...]

Needs Debian's `chromium` (`apt-get install -y chromium`). Chromium's NetLog (`--log-net-log`)
records every URL request; the ones the page started (an initiator other than Chromium's own
"not an origin") for anything but file:/data: count as network requests. A dead proxy keeps
anything from leaving the machine. Console messages come from `--enable-logging=stderr`. A control
page with an external image and a console.error is rendered first to prove both detectors work.
Exit code 1 when a report page shows either.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from logan import analyze  # noqa: E402
from logan.report.files import write_all  # noqa: E402

REFERENCE = REPO.parent / "shared" / "reference_runs"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    # Nothing may leave the machine: every connection goes to a closed local port.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
# Chromium logs page console output as `...:CONSOLE:line] "message", source: url (line)`
# (older versions: `CONSOLE(line)]`).
CONSOLE = re.compile(r'CONSOLE[:(]\d+\)?\]\s*"(?P<msg>.*)", source: (?P<src>.*)')
# NetLog initiator of requests Chromium makes for itself (updates, time, accounts).
BROWSER_INITIATOR = "not an origin"
CONTROL_PAGE = (
    '<!DOCTYPE html><img src="http://logan-control.invalid/x.png">'
    '<script>console.error("logan-control-error")</script>'
)
LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")
# Seconds Chromium gets to load and paint one page.
TIMEOUT = 60


def find_chromium() -> str:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: apt-get update && apt-get install -y chromium")


def page_requests(netlog: Path) -> set[str]:
    """URLs of requests the page itself started, from a NetLog file."""
    if not netlog.exists():
        return set()
    text = netlog.read_text(errors="replace").rstrip().rstrip(",")
    if not text.endswith("}"):  # Chromium may leave the events list unterminated
        text += "]}"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = json.loads(text + "]}")
    kinds = {v: k for k, v in doc["constants"]["logEventTypes"].items()}
    urls = set()
    for event in doc.get("events", []):
        params = event.get("params") or {}
        if kinds.get(event.get("type")) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if params.get("initiator", BROWSER_INITIATOR) != BROWSER_INITIATOR:
            urls.add(params["url"])
    return urls


def render(browser: str, page: Path, shot: Path, width: int, height: int) -> dict[str, object]:
    """Screenshot `page`; return its console messages and non-local requests."""
    with tempfile.TemporaryDirectory(prefix="logan-chromium-") as tmp:
        netlog = Path(tmp) / "netlog.json"
        cmd = [
            browser,
            *FLAGS,
            f"--user-data-dir={tmp}/profile",
            f"--log-net-log={netlog}",
            "--net-log-capture-mode=Default",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        log = proc.stderr
        urls = page_requests(netlog)
    console = [
        f"{m.group('msg')} ({m.group('src')})" for m in CONSOLE.finditer(log) if m.group("msg")
    ]
    # Blocked loads the console did not show (Chromium's own container noise is left out).
    errors = [line for line in log.splitlines() if "Refused" in line and "CONSOLE" not in line]
    remote = sorted(u for u in urls if not u.startswith(LOCAL_SCHEMES))
    return {
        "page": str(page),
        "screenshot": str(shot),
        "exit_code": proc.returncode,
        "screenshot_written": shot.exists() and shot.stat().st_size > 0,
        "console": console,
        "browser_errors": errors,
        "network_requests": remote,
        "urls_seen": len(urls),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="runs (default: the reference runs)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "logan_render")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args(argv)
    runs = args.runs or [REFERENCE / "xt_buggy_e3", REFERENCE / "xt_fixed_e3"]
    missing = [r for r in runs if not r.exists()]
    if missing:
        sys.exit(f"not found: {', '.join(map(str, missing))}")
    browser = find_chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    control = args.out / "control.html"
    control.write_text(CONTROL_PAGE, encoding="utf-8")
    check = render(browser, control, args.out / "control.png", 400, 300)
    if not check["network_requests"] or not check["console"]:
        print(f"detectors did not see the control page's request/error: {check}", file=sys.stderr)
        return 2
    reports = args.out / "reports"
    shutil.rmtree(reports, ignore_errors=True)
    analysis = analyze(runs)
    write_all(analysis, reports)
    pages = sorted(reports.glob("*/report.html")) + [reports / "index.html"]
    results = []
    for page in pages:
        name = "index" if page.name == "index.html" else page.parent.name
        shot = args.out / f"{name}.png"
        shot.unlink(missing_ok=True)
        results.append(render(browser, page, shot, args.width, args.height))
    print(json.dumps(results, indent=2))
    bad = [
        r for r in results if r["console"] or r["network_requests"] or not r["screenshot_written"]
    ]
    for r in results:
        status = "FAIL" if r in bad else "ok"
        print(f"{status:4} {r['screenshot']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
