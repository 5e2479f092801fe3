"""HTML reports, parsed with html.parser: no script, nothing fetched from elsewhere (only data:
images and relative links), hostile run names shown as text, and the parts of a report present."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

import logan
from logan.report import html
from logan.report.files import write_all, write_run
from tests.conftest import SAMPLES

INJECTION = "<img src=x onerror=alert(1)>"
# Attributes that make a browser fetch, run or navigate.
URL_ATTRS = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background"}


class Page(HTMLParser):
    """Collects tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def assert_safe(text: str) -> Page:
    page = parse(text)
    names = [t for t, _ in page.tags]
    assert "script" not in names and "iframe" not in names and "object" not in names
    assert "link" not in names and "base" not in names
    for tag, attrs in page.tags:
        for key, value in attrs.items():
            assert not key.startswith("on"), (tag, key)
            if key in URL_ATTRS:
                v = (value or "").strip().lower()
                if tag == "img" and key == "src":
                    assert v.startswith("data:image/png;base64,"), v[:40]
                else:
                    assert key == "href" and tag == "a", (tag, key)
                    assert ":" not in v and not v.startswith("//"), v
    assert "url(" not in text and "@import" not in text
    metas = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert metas and "default-src 'none'" in (metas[0].get("content") or "")
    return page


def test_run_report_is_self_contained_and_complete(results, tmp_path):
    written = write_run(results["mmengine_plateau_e4"], tmp_path)
    text = written["html"].read_text(encoding="utf-8")
    page = assert_safe(text)
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == 3 and [a["alt"] for a in imgs] == ["Learning rate", "Loss", "Other scalars"]
    body = "".join(page.text)
    assert "LR001" in body and "lr-plateau" in body and "found: mmengine_plateau_e4.py" in body
    assert "+        end=4," in body and "Cause:" in body and "Hint:" in body
    # The finding table links to the finding's section on the same page.
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    ids = {a["id"] for t, a in page.tags if a.get("id")}
    assert hrefs and all(h.startswith("#") and h[1:] in ids for h in hrefs)


def test_injection_name_is_text_in_run_and_index_html(tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(SAMPLES / "mmengine_plateau_e4", root / INJECTION)
    analysis = logan.analyze(root)
    out = tmp_path / "out"
    write_all(analysis, out)
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    for path in (out / "index.html", folder / "report.html"):
        text = path.read_text(encoding="utf-8")
        page = assert_safe(text)
        assert INJECTION not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert INJECTION in "".join(page.text)  # shown to the reader, as text
        assert not [a for t, a in page.tags if t == "img" and a.get("src") == "x"]


@pytest.mark.parametrize(
    "text",
    ['"><script>alert(1)</script>', "javascript:alert(1)", "</style><b>x</b>", "a & b ' c"],
)
def test_escape_leaves_no_markup(text):
    page = parse(f'<p>{html.esc(text)}</p><a title="{html.esc(text)}">x</a>')
    assert [t for t, _ in page.tags] == ["p", "a"]
    assert page.tags[1][1]["title"] == text
    assert "".join(page.text) == text + "x"


def test_prose_code_spans_are_escaped_too():
    out = html.prose("use `<b>end</b>` here")
    assert out == "use <code>&lt;b&gt;end&lt;/b&gt;</code> here"


def test_index_html_links_every_run_worst_first(tmp_path):
    names = ["mmengine_fixed_e4", "mmengine_throughput_drop", "mmengine_plateau_e4"]
    analysis = logan.analyze([SAMPLES / n for n in names])
    out = tmp_path / "out"
    write_all(analysis, out)
    page = assert_safe((out / "index.html").read_text(encoding="utf-8"))
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert len(hrefs) == 3
    for h in hrefs:
        assert h.endswith("/report.html") and (out / h).is_file()
    assert [Path(h).parent.name.rsplit("__", 1)[-1] for h in hrefs] == [
        "mmengine_plateau_e4",
        "mmengine_throughput_drop",
        "mmengine_fixed_e4",
    ]
    md = (out / "index.md").read_text()
    for h in hrefs:
        assert h.replace("report.html", "report.md") in md
