"""The first page of a printed PDF as a PNG, for previews on a screen (PDFium through pypdfium2)."""

from __future__ import annotations

import io


def first_page_png(pdf: bytes, width: int) -> bytes:
    """Page 1 of ``pdf`` rendered ``width`` pixels wide, as PNG bytes."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=width / page.get_width()).to_pil()
        page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.convert("L").save(out, "PNG", optimize=True)  # the bulletin is printed black on white
    return out.getvalue()
