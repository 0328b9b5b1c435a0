"""Sphinx extension: each page loads each of its scripts once.

With Sphinx 7.4, scripts that an extension adds in ``env-before-read-docs`` (sphinx-thebe's
inline ``const THEBE_JS_URL = ...``) are written twice into every page, and the second
``const`` stops with "Identifier 'THEBE_JS_URL' has already been declared" in the browser's
console. This drops the repeats from each page's list of scripts, keeping the first.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        # An inline script's filename is None when added before the build and "" after it.
        attributes = getattr(script, "attributes", {})
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
