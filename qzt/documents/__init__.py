"""The one PDF path: render a print template from templates/pdf/ and lay it out with WeasyPrint."""

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STYLESHEETS = ("print.css",)


def pdf_dir() -> Path:
    """templates/pdf/: the print templates, their stylesheets and the only files a PDF may load."""
    return Path(current_app.root_path, current_app.template_folder, "pdf")


class LocalFetcher(URLFetcher):
    """Serves data: URIs and files inside one folder; refuses everything else, the network above all."""

    def __init__(self, root: Path):
        super().__init__(allowed_protocols={"data"})
        self.root = root.resolve()

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        raise ValueError(f"refused to fetch {url[:100]}")


def render_pdf(template: str, **ctx) -> bytes:
    """The PDF of a print template (e.g. "pdf/pledge.html") rendered with ctx, in the print stylesheets."""
    root = pdf_dir()
    fetcher = LocalFetcher(root)
    html = render_template(template, **ctx)
    stylesheets = [CSS(filename=root / name, url_fetcher=fetcher) for name in STYLESHEETS]
    # base_url lets a template link further files from templates/pdf/ by relative URL.
    document = HTML(string=html, base_url=f"{root}/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets)
