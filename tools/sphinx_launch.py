"""Sphinx extension: launch links built from the one repository setting of ``_config.yml``.

Jupyter Book passes ``repository.url``/``branch`` and ``launch_buttons`` to the theme as
``html_theme_options["repository_url"]``, ``["repository_branch"]`` and ``["launch_buttons"]``;
every URL below is made from those, so changing the setting changes every link.

- Roles for the text: ``{binder}`../exercises/ch01_simple_rnn.ipynb``` and ``{colab}`...```
  give links named "Binder" and "Colab" that open that file of the repository
  (``{colab}`open it in Colab <../exercises/x.ipynb>``` sets the text). The path is relative
  to the page, like ``{download}``; a path to a missing file, or a role whose service is not
  configured, is a warning (an error under ``-W``).
- The launch buttons of a page written as MyST Markdown (Colab, Binder, JupyterHub): Colab
  opens only ``.ipynb`` files, and elsewhere the ``.md`` page shows the book's MyST syntax raw,
  so each button is pointed at the page's committed notebook copy, ``notebooks/ch01.ipynb``,
  which ``tools/build_notebooks.py`` writes from the executed page (prose resolved, figures
  in place). A Markdown notebook page without a copy loses those buttons, with a warning. The
  page's ``.ipynb`` download (``_sources/<page>.ipynb``, which myst-nb writes without outputs
  and with the MyST unresolved) is replaced by the copy too.
"""

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import ReferenceRole

logger = logging.getLogger(__name__)

# Where tools/build_notebooks.py writes the notebook copy of book/<name>.md, from the repository.
COPY_DIR = "notebooks"
SOURCE_DIR = "book"
# The classic Notebook interface opens a file under tree/, JupyterLab under lab/tree/.
INTERFACE_PREFIX = {"classic": "tree", "jupyterlab": "lab/tree"}
SERVICE_KEY = {"binder": "binderhub_url", "colab": "colab_url"}
SERVICE_NAME = {"binder": "Binder", "colab": "Colab"}
# The theme's launch buttons that open a page's notebook (Thebe runs the page in place).
LAUNCHERS = ("Binder", "Colab", "JupyterHub")


def repository(theme_options):
    """(org, repo, branch) of the GitHub repository in the theme options."""
    url = str(theme_options.get("repository_url") or "").rstrip("/").removesuffix(".git")
    prefix = "https://github.com/"
    parts = url.removeprefix(prefix).split("/")
    if not url.startswith(prefix) or len(parts) != 2 or not all(parts):
        raise ValueError(
            f"repository.url in _config.yml must look like {prefix}<org>/<repo>, got {url!r}"
        )
    branch = theme_options.get("repository_branch") or "main"
    return parts[0], parts[1], branch


def launch_url(service, theme_options, path):
    """The URL that opens ``path`` (relative to the repository root) on Binder or Colab."""
    if service not in SERVICE_KEY:
        raise ValueError(f"service must be one of {sorted(SERVICE_KEY)}, got {service!r}")
    buttons = theme_options.get("launch_buttons") or {}
    base = str(buttons.get(SERVICE_KEY[service]) or "").rstrip("/")
    if not base:
        raise ValueError(f"launch_buttons.{SERVICE_KEY[service]} is not set in _config.yml")
    org, repo, branch = repository(theme_options)
    path = quote(str(path).lstrip("/"))
    if service == "colab":
        return f"{base}/github/{org}/{repo}/blob/{branch}/{path}"
    interface = buttons.get("notebook_interface", "classic")
    if interface not in INTERFACE_PREFIX:
        raise ValueError(
            f"launch_buttons.notebook_interface must be one of {sorted(INTERFACE_PREFIX)}, "
            f"got {interface!r}"
        )
    return f"{base}/v2/gh/{org}/{repo}/{branch}?urlpath={INTERFACE_PREFIX[interface]}/{path}"


def repo_path(theme_options, path):
    """``path`` (relative to the book's root) relative to the repository's root."""
    prefix = str(theme_options.get("path_to_docs") or "").strip("/")
    return f"{prefix}/{path}" if prefix else str(path)


def copy_path(pagename):
    """The repository path of the copy of ``book/<name>``: ``notebooks/<name>.ipynb``."""
    name = PurePosixPath(pagename)
    if name.parts[0] != SOURCE_DIR or len(name.parts) < 2:
        raise ValueError(f"only pages under {SOURCE_DIR}/ have notebook copies, got {pagename!r}")
    return PurePosixPath(COPY_DIR, *name.parts[1:]).with_suffix(".ipynb").as_posix()


def localized(path, language, exists):
    """``path`` of a notebook in the repository (``notebooks/x.ipynb``, ``exercises/x.ipynb``) in
    ``language``: its copy in the folder's ``<language>/`` where there is one, else ``path``."""
    if not language:
        return path
    path = PurePosixPath(path)
    translated = (path.parent / language / path.name).as_posix()
    return translated if exists(translated) else path.as_posix()


def _launch_group(context):
    for button in context.get("header_buttons", []):
        if button.get("label") == "launch-buttons":
            return button
    return None


def point_launch_buttons_at_copies(
    theme_options, pagename, source_suffix, copy_exists, context, language=None
):
    """Point the launch buttons (Colab, Binder, JupyterHub) of a Markdown notebook page at its
    notebook copy, or, without a copy, drop them.

    The copy is what a reader should open outside the site: Colab opens only ``.ipynb`` files,
    and on Binder or a hub the ``.md`` page would show the book's MyST syntax raw, which the
    copy resolves. Returns a warning for the page, or None. ``copy_exists(path)`` says whether
    the repository holds ``path``. With ``language`` (the Chinese edition: ``"zh"``), the buttons
    open the notebook's copy in that language (``notebooks/zh/``, ``exercises/zh/``).
    """
    group = _launch_group(context)
    if group is None:
        return None
    if source_suffix != ".md":
        if language:
            _point_at_translation(theme_options, pagename, source_suffix, copy_exists, group,
                                  language)  # fmt: skip
        return None
    buttons = group["buttons"]
    launch = [b for b in buttons if b.get("text") in LAUNCHERS]
    if not launch:
        return None
    if pagename.startswith(f"{SOURCE_DIR}/"):
        copy = repo_path(
            theme_options,
            localized(copy_path(pagename), language, _in_repo(theme_options, copy_exists)),
        )
        source = repo_path(theme_options, f"{pagename}{source_suffix}")
        if copy_exists(copy):
            for button in launch:
                if button["text"] == "Colab":
                    try:
                        button["url"] = launch_url("colab", theme_options, copy)
                    except ValueError as error:
                        buttons.remove(button)
                        return f"{pagename}: no Colab button: {error}"
                else:
                    # Binder's and nbgitpuller's URLs end in the page's path (quoted for the hub).
                    url = button["url"]
                    for old, new in (
                        (source, copy),
                        (quote(source, safe=""), quote(copy, safe="")),
                    ):
                        url = url.replace(old, new)
                    if url == button["url"]:
                        buttons.remove(button)
                        return f"{pagename}: no {button['text']} button: {source} not in its URL"
                    button["url"] = url
            return None
    buttons[:] = [b for b in buttons if b.get("text") not in LAUNCHERS]
    return (
        f"{pagename}: a .md notebook opens raw outside the site and there is no notebook copy of "
        "it; run `make book && make notebooks` (tools/build_notebooks.py) and commit the copy"
    )


def _in_repo(theme_options, exists):
    """``exists`` for a path from the repository's book folder (``repo_path``)."""
    return lambda path: exists(repo_path(theme_options, path))


def _point_at_translation(theme_options, pagename, source_suffix, exists, group, language):
    """An exercise or solution page's buttons open its copy in ``language``."""
    source = f"{pagename}{source_suffix}"
    translated = localized(source, language, _in_repo(theme_options, exists))
    if translated == source:
        return
    old, new = repo_path(theme_options, source), repo_path(theme_options, translated)
    for button in group["buttons"]:
        if button.get("text") in LAUNCHERS and "url" in button:
            url = button["url"]
            for a, b in ((old, new), (quote(old, safe=""), quote(new, safe=""))):
                url = url.replace(a, b)
            button["url"] = url


def _html_page_context(app, pagename, templatename, context, doctree):
    if doctree is None or pagename not in app.env.all_docs:
        return
    options = app.config.html_theme_options
    prefix = repo_path(options, "").strip("/")
    repo_root = Path(app.srcdir).joinpath(*[".."] * len(PurePosixPath(prefix).parts))
    problem = point_launch_buttons_at_copies(
        options,
        pagename,
        Path(app.env.doc2path(pagename)).suffix,
        lambda path: (repo_root / path).is_file(),
        context,
        app.config.lstm_lessons_notebook_language,
    )
    if problem:
        logger.warning(problem, location=pagename)


def _publish_copies(app, exception):
    """The page's ``.ipynb`` download is its notebook copy, not its unexecuted MyST source."""
    if exception is not None or app.builder.format != "html":
        return
    options = app.config.html_theme_options
    prefix = repo_path(options, "").strip("/")
    repo_root = Path(app.srcdir).joinpath(*[".."] * len(PurePosixPath(prefix).parts))
    language = app.config.lstm_lessons_notebook_language
    exists = _in_repo(options, lambda path: (repo_root / path).is_file())
    for docname in sorted(app.env.all_docs):
        published = Path(app.outdir, "_sources", f"{docname}.ipynb")
        if app.env.doc2path(docname).endswith(".ipynb"):
            # An exercise or solution page: in another language, its translated copy.
            source = localized(f"{docname}.ipynb", language, exists)
            if source != f"{docname}.ipynb" and published.is_file():
                published.write_bytes((repo_root / repo_path(options, source)).read_bytes())
            continue
        if not docname.startswith(f"{SOURCE_DIR}/"):
            continue
        copy = repo_root / repo_path(options, localized(copy_path(docname), language, exists))
        if copy.is_file() and published.is_file():
            published.write_bytes(copy.read_bytes())


class LaunchRole(ReferenceRole):
    """``{binder}`path``` / ``{colab}`path```: a link that opens a file of the repository."""

    def __init__(self, service):
        super().__init__()
        self.service = service

    def run(self):
        env = self.env
        page_dir = PurePosixPath(env.docname).parent
        target = PurePosixPath(self.target)
        parts = []
        for part in (page_dir / target).parts:
            if part == "..":
                if not parts:
                    return self._fail(f"{self.target!r} leaves the book's folder")
                parts.pop()
            elif part != ".":
                parts.append(part)
        rel = "/".join(parts)
        if not (Path(env.srcdir) / rel).is_file():
            return self._fail(f"{self.target!r} is not a file of the book ({rel})")
        options = env.config.html_theme_options
        rel = localized(
            rel,
            env.config.lstm_lessons_notebook_language,
            lambda p: (Path(env.srcdir) / p).is_file(),
        )
        try:
            url = launch_url(self.service, options, repo_path(options, rel))
        except ValueError as error:
            return self._fail(str(error))
        title = self.title if self.has_explicit_title else SERVICE_NAME[self.service]
        return [nodes.reference(self.rawtext, title, refuri=url)], []

    def _fail(self, message):
        logger.warning(f"{{{self.service}}} role: {message}", location=self.get_location())
        return [nodes.inline(self.rawtext, self.title)], []


def setup(app):
    # The Chinese edition opens and offers the Chinese copies of the notebooks (editions.py).
    app.add_config_value("lstm_lessons_notebook_language", None, "env")
    for service in SERVICE_KEY:
        app.add_role(service, LaunchRole(service))
    # After sphinx-book-theme's add_launch_buttons (priority 501) has made the buttons.
    app.connect("html-page-context", _html_page_context, priority=600)
    app.connect("build-finished", _publish_copies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
