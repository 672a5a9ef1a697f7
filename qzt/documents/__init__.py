"""The one PDF path: render a print template from templates/pdf/ and lay it out with WeasyPrint."""

import base64
import mimetypes
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import segno
from flask import Response, current_app, render_template
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


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def qr_data_uri(url: str) -> str:
    """A verification QR code for a printed document, as an image the print template embeds."""
    return segno.make(url, error="m").png_data_uri(scale=4, border=2)


def pdf_response(data: bytes, ascii_name: str, name: str) -> Response:
    """A PDF download: the Chinese file name for browsers that take it, the ASCII one for the rest."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
