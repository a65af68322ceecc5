"""A branded configuration for the tests: a name, a logo file, colours, links and one template
of the override folder. The same settings give the same shared server."""

from __future__ import annotations

from pathlib import Path

import pytest

LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#0b5cad"/></svg>'
)
LANDING_OVERRIDE = """{% extends "base.html" %}
{% block title %}Acme{% endblock %}
{% block content %}
<h1 id="acme-landing">Welcome to Acme</h1>
<p><a href="/login?next=%2Faccount">{% trans %}Sign in{% endtrans %}</a></p>
{% endblock %}
"""


def brand_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = Path(tmp_path_factory.getbasetemp()) / "brand"
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "logo.svg").write_text(LOGO_SVG)
    (folder / "templates" / "landing.html").write_text(LANDING_OVERRIDE)
    return {
        "product_name": "Acme ID",
        "brand_logo": str(folder / "logo.svg"),
        "brand_primary_color": "#0b5cad",
        "brand_accent_color": "#f5a623",
        "support_url": "https://help.acme.example/",
        "terms_url": "https://acme.example/terms",
        "privacy_url": "https://acme.example/privacy",
        "templates_dir": str(folder / "templates"),
    }
