"""What a test can read from the report's files without a viewer: a PNG's size, a PDF's pages."""

from __future__ import annotations

import re
import struct
from pathlib import Path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return int(width), int(height)


def pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), f"{path} is not a PDF"
    # matplotlib writes object dictionaries uncompressed: each page is one /Type /Page.
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
