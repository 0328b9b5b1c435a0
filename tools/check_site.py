"""Open every page of the built book in headless Chromium and check what a reader would see.

Usage: python tools/check_site.py HTML_DIR [--screenshots DIR] [--chromium PATH]

Serves HTML_DIR on 127.0.0.1 and opens each of its pages (every ``.html`` file outside
``_static``, ``_sources`` and ``_images``) with Playwright, driving Debian's Chromium (never a
browser that Playwright downloads). A page fails when

- it does not load (HTTP status other than 200, or a navigation error);
- it asks for anything that is not on the local server (the book must work offline: no CDN);
- a request of the page fails, or the browser logs an error to the console, or a script throws;
- a link to another page of the book, or to a file of it, leads nowhere (missing file, or a
  ``#fragment`` that is not an id on the target page);
- an image does not load, or has no alt text (``alt`` missing or empty, or only a file name,
  as myst-nb gives a plot that a cell draws unless its ``mystnb.image.alt`` is set);
- math is left untypeset: a math element without MathJax's output (``mjx-container``) in it,
  or TeX delimiters (``\\(``, ``\\[``, ``$$``) left in the text outside code.
- MathJax could not parse a formula's TeX, or met an unknown macro (it shows an error);
- source markup reached the reader as text (:func:`raw_markup`): a Markdown table left as
  pipes (``|:--|``), ``$...$`` math outside typeset math, MyST role or directive syntax
  (``{glue:text}`name` ``, ``{term}`...` ``, `` ```{glue:figure} ``), or a docstring's reST
  left unparsed in the API reference (a role ``:class:`name` ``, a literal ````name````).

Screenshots of a few pages (the first screen and a bit more) go to ``--screenshots``.
Prints one line per problem and exits 1 if there is any.
"""

import argparse
import functools
import http.server
import multiprocessing
import re
import sys
import tempfile
import threading
from contextlib import suppress
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

# Chromium's switches for a container without a display: no sandbox (we run as root), no GPU,
# and none of the background traffic (component updates, sync, QUIC probes) that would
# otherwise try to reach the network from here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_DIRS = {"_static", "_sources", "_images"}
SCREENSHOTS = {
    "intro": "book/intro.html",
    "chapter_math_figures": "book/ch03_cell_state.html",
    "exercise": "exercises/ch01_simple_rnn.html",
    "glossary": "book/glossary.html",
    # The Chinese edition: six pages of the book, an exercise and the glossary, as readers see them.
    "zh_intro": "zh/book/intro.html",
    "zh_chapter_1": "zh/book/ch01_simple_rnn.html",
    "zh_chapter_4": "zh/book/ch04_forget_gate.html",
    "zh_chapter_7": "zh/book/ch07_output_gate.html",
    "zh_chapter_12": "zh/book/ch12_gates_at_work.html",
    "zh_chapter_15": "zh/book/ch15_xlstm.html",
    "zh_exercise": "zh/exercises/ch04_forget_gate.html",
    "zh_glossary": "zh/book/glossary.html",
}
SCREENSHOT_HEIGHT = 2400  # px of the page, from the top, in each screenshot

# Source markup that a reader should never see as text. Each pattern is narrow enough for prose
# (a lone "|" or "$" in a sentence passes): a table's separator row, a dollar pair around TeX
# (a backslash, _, ^ or { inside, or one letter alone), a role or directive of MyST, a role or
# an inline literal of reST.
RAW_MARKUP = {
    "Markdown table left as text": re.compile(r"\|\s*:?-{2,}:?\s*\|"),
    "$-math left as text": re.compile(r"(?<![\\$])\$(?:(?=[^$\n]*?[\\_^{])[^$\s][^$\n]{0,120}?"
                                      r"|[A-Za-z])\$(?!\$)"),
    "MyST role left as text": re.compile(r"\{[a-z][\w:.-]*\}`"),
    "MyST directive left as text": re.compile(r"(?:```|:::)\s*\{[a-z][\w:.-]*\}"),
    "reST role left as text": re.compile(r"(?<![\w`]):[a-z][\w.-]*(?::[a-z][\w.-]*)?:`[^`\n]+`"),
    "reST literal left as text": re.compile(r"``[^`\n]+``"),
}


def raw_markup(text: str) -> list[str]:
    """``"kind: excerpt"`` for each piece of source markup in ``text``, a page's visible text."""
    found = []
    for kind, pattern in RAW_MARKUP.items():
        for m in pattern.finditer(text):
            start = max(0, m.start() - 20)
            found.append(f"{kind}: {text[start:m.end() + 20].strip()!r}")
    return found


# Run in the page once it has loaded: waits for MathJax to finish, then reports what the
# Python side checks. Text nodes inside code, scripts and MathJax's own output are skipped.
INSPECT_JS = """
async () => {
  const maths = Array.from(document.querySelectorAll('.math'));
  let mathjax = null;
  if (maths.length > 0) {
    const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
    // Wait (up to 10 s) only where a MathJax script is on the page: without one it cannot come.
    const script = Array.from(document.scripts).some(s => /mathjax/i.test(s.src || s.id));
    for (let i = 0; script && i < 200 && !ready(); i++) await new Promise(r => setTimeout(r, 50));
    if (ready()) {
      await MathJax.startup.promise;
      mathjax = true;
    } else {
      mathjax = false;
    }
  }
  const untypeset = maths.filter(m => !m.querySelector('mjx-container'))
                         .map(m => m.textContent.trim().slice(0, 60));
  // MathJax typesets TeX that it cannot parse as an error box (merror), and an unknown
  // macro as its name in red (noundefined): both are found in its internal trees.
  const texErrors = [];
  if (mathjax) {
    for (const item of MathJax.startup.document.math) {
      let bad = false;
      item.root.walkTree(node => {
        if (node.isKind('merror') ||
            (node.isKind('mtext') && node.attributes.get('mathcolor') === 'red')) bad = true;
      });
      if (bad) texErrors.push(item.math.trim().slice(0, 80));
    }
  }
  const leftovers = [];
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT
                                                   : NodeFilter.FILTER_ACCEPT});
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent;
    if (['\\\\(', '\\\\[', '$$'].some(d => t.includes(d))) leftovers.push(t.trim().slice(0, 60));
  }
  // The visible text of each block, for raw markup (checked in Python): a block's text nodes
  // joined, so that a role split by an element boundary is still seen whole.
  const blockTags = 'p, li, td, th, dd, dt, figcaption, h1, h2, h3, h4, .caption-text';
  const blocks = Array.from(document.querySelectorAll(blockTags))
    .filter(b => !b.closest(skip))
    .map(b => {
      const parts = [];
      const w = document.createTreeWalker(b, NodeFilter.SHOW_TEXT, {
        acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT
                                                       : NodeFilter.FILTER_ACCEPT});
      while (w.nextNode()) parts.push(w.currentNode.textContent);
      return parts.join('');
    })
    .filter(t => /[|$`]/.test(t));
  const images = Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
    complete: img.complete, width: img.naturalWidth, lazy: img.loading === 'lazy'}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id)
      .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.name));
  return {mathCount: maths.length, mathjax, untypeset, texErrors, leftovers, images, links,
          ids, blocks};
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(root: Path):
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def pages_of(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.html")
        if not SKIP_DIRS & set(p.relative_to(root).parts)
    )


def watch(page, base, messages):
    """Record in `messages` every non-local request, failed request, HTTP error, console
    error and uncaught script error of `page`."""

    def on_request(request):
        if not request.url.startswith(base) and urlparse(request.url).scheme in (
            "http", "https", "ws", "wss"
        ):
            messages.append(f"requests {request.url} (not local: the book must work offline)")

    def on_response(response):
        if response.status >= 400:
            messages.append(f"HTTP {response.status} for {response.url}")

    def on_console(message):
        if message.type == "error":
            messages.append(f"console error: {message.text}")

    page.on("request", on_request)
    page.on("requestfailed", lambda r: messages.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda e: messages.append(f"script error: {e}"))


def inspect(page):
    """INSPECT_JS's report on the page; a page that redirects (the root index.html) is
    inspected where it lands."""
    for attempt in range(3):
        try:
            # Idle network within 10 s: a page that keeps requesting fails on those requests.
            with suppress(PlaywrightTimeout):
                page.wait_for_load_state("networkidle", timeout=10_000)
            return page.evaluate(INSPECT_JS)
        except Exception as error:
            if "context was destroyed" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def take_screenshots(context, base, folder: Path, paths):
    """The top of each page (a fresh tab, so that the sidebar is not scrolled by the pages
    visited before), and the first figure of each page that has one."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in SCREENSHOTS.items():
        if path not in paths:
            continue
        page = context.new_page()
        page.goto(base + path, wait_until="load")
        inspect(page)
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": 1280,
                              "height": min(height, SCREENSHOT_HEIGHT)})
        figures = page.locator("main figure")
        if figures.count():
            figures.first.scroll_into_view_if_needed()
            figures.first.screenshot(path=str(folder / f"{name}_first_figure.png"))
        page.close()


def launch(pw, profile, chromium):
    return pw.chromium.launch_persistent_context(
        profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )  # fmt: skip


def visit(base: str, paths: list[str], chromium: str) -> dict:
    """Open each page of ``paths`` in one browser; what was found, for :func:`check` to merge.

    ``problems``: the pages' own problems; ``ids``: page path -> its element ids;
    ``wanted``: (path, fragment) -> the first page that links there; ``images``: image
    path -> the first page that shows it.
    """
    problems, ids_of, wanted, images = [], {}, {}, {}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = launch(pw, profile, chromium)
        page = context.pages[0] if context.pages else context.new_page()
        messages = []
        watch(page, base, messages)
        # Nothing leaves the machine: requests elsewhere are recorded above, then refused.
        context.route(lambda url: not url.startswith(base), lambda route: route.abort())

        for path in paths:
            messages.clear()
            try:
                response = page.goto(base + path, wait_until="load", timeout=60_000)
            except Exception as error:  # a navigation error names the page and goes on
                problems.append(f"{path}: does not load: {error}")
                continue
            if response is None or response.status != 200:
                status = response and response.status
                problems.append(f"{path}: does not load (status {status})")
                continue
            info = inspect(page)
            problems += [f"{path}: {m}" for m in messages]
            if info["mathCount"] and not info["mathjax"]:
                problems.append(f"{path}: math on the page, but MathJax did not load")
            problems += [f"{path}: math not typeset: {t!r}" for t in info["untypeset"]]
            problems += [f"{path}: TeX error in math: {t!r}" for t in info["texErrors"]]
            problems += [f"{path}: TeX left in the text: {t!r}" for t in info["leftovers"]]
            problems += [f"{path}: {m}" for b in info["blocks"] for m in raw_markup(b)]
            for img in info["images"]:
                rel = unquote(urlparse(img["src"]).path).lstrip("/")
                alt = (img["alt"] or "").strip()
                if not alt:
                    problems.append(f"{path}: image without alt text: {rel}")
                elif re.search(r"\.(png|svg|jpe?g|gif|webp)$", alt, re.IGNORECASE):
                    # myst-nb's default for a cell's plot: the file name says nothing.
                    problems.append(f"{path}: image whose alt text is a file name: {rel}")
                if img["src"].startswith(base):
                    images.setdefault(rel, path)
                    if img["complete"] and img["width"] == 0 and not img["lazy"]:
                        problems.append(f"{path}: image does not load: {rel}")
            for href in info["links"]:
                url, fragment = urldefrag(href)
                fragment = unquote(fragment)
                if not url.startswith(base):
                    continue
                target = unquote(urlparse(url).path).lstrip("/")
                if target == "" or target.endswith("/"):
                    target += "index.html"
                wanted.setdefault((target, fragment), path)
            ids_of[path] = set(info["ids"])
        context.close()
    return {"problems": problems, "ids": ids_of, "wanted": wanted, "images": images}


def _visit(args):
    return visit(*args)


def check(root: Path, screenshots: Path | None, chromium: str, jobs: int = 1) -> list[str]:
    """Every problem of the site in ``root``; its pages are shared out among ``jobs`` browsers."""
    problems = []
    server, base = serve(root)
    ids_of = {}  # page path -> set of ids, for the #fragment checks
    wanted = {}  # (path, fragment) -> the first page that links there
    images = {}  # image path -> the first page that shows it
    try:
        paths = pages_of(root)
        shards = [paths[k::jobs] for k in range(jobs) if paths[k::jobs]]
        if len(shards) > 1:
            # Separate processes: Playwright's synchronous API belongs to one thread. Forked,
            # so that a worker needs nothing importable beyond what this process has loaded.
            with multiprocessing.get_context("fork").Pool(len(shards)) as pool:
                found = pool.map(_visit, [(base, shard, chromium) for shard in shards])
        else:
            found = [visit(base, shard, chromium) for shard in shards]
        # Merged so that the report (its order, the first page that links somewhere) does
        # not depend on how many browsers there were.
        order = {path: n for n, path in enumerate(paths)}
        for part in found:
            problems += part["problems"]
            ids_of.update(part["ids"])
            for key, page_path in part["wanted"].items():
                if key not in wanted or order[page_path] < order[wanted[key]]:
                    wanted[key] = page_path
            for rel, page_path in part["images"].items():
                if rel not in images or order[page_path] < order[images[rel]]:
                    images[rel] = page_path
        problems.sort(key=lambda line: order.get(line.split(": ", 1)[0], len(order)))
        if screenshots is not None:
            with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
                context = launch(pw, profile, chromium)
                take_screenshots(context, base, screenshots, [p for p in SCREENSHOTS.values()
                                                            if p in ids_of])
                context.close()
    finally:
        server.shutdown()

    for (target, fragment), page_path in sorted(wanted.items()):
        file = root / target
        if not file.is_file():
            problems.append(f"{page_path}: broken link to {target}")
        elif fragment and target.endswith(".html") and target in ids_of:
            if fragment not in ids_of[target]:
                problems.append(f"{page_path}: broken link to {target}#{fragment} (no such id)")
    for rel, page_path in sorted(images.items()):
        if not (root / rel).is_file():
            problems.append(f"{page_path}: image does not load: {rel}")
    if screenshots is not None:
        missing = [p for p in SCREENSHOTS.values() if p not in ids_of]
        problems += [f"{p}: page for a screenshot not found" for p in missing]
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path)
    parser.add_argument("--screenshots", type=Path, metavar="DIR")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--jobs", type=int, default=1, help="browsers at once (default 1)")
    args = parser.parse_args(argv)
    if not (args.html_dir / "index.html").is_file():
        raise SystemExit(f"check_site: {args.html_dir}/index.html not found; build the book first")
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {args.jobs}")
    pages = pages_of(args.html_dir)
    problems = check(args.html_dir, args.screenshots, args.chromium, args.jobs)
    for line in problems:
        print(line)
    print(f"check_site: {len(pages)} pages, {len(problems)} problems"
          + (f"; screenshots in {args.screenshots}" if args.screenshots else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
