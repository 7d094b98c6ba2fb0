"""Build the PDF report's CJK font: Noto Sans CJK TC (from Debian's fonts-noto-cjk) cut
down to Latin, punctuation, bopomofo, full-width forms and every Big5 ideograph.

    .venv/bin/python tools/build_cjk_font.py        # run by `make install`

The collection holds every CJK language in 19 MB; the subset is about 3.4 MB, so it
fits the Lambda layer, and fpdf2 embeds only the glyphs each report uses. Rebuilt only
when missing (the target is a file the Makefile checks)."""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TARGET = Path(__file__).resolve().parents[1] / "layers/warroom/fonts/NotoSansCJKtc-subset.otf"
FACE = "Noto Sans CJK TC"
RANGES = [
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x17F),  # Latin-1, Latin Extended-A
    (0x2000, 0x206F),  # general punctuation
    (0x2100, 0x21FF),  # letter-like symbols, arrows
    (0x2460, 0x24FF),  # enclosed numbers
    (0x2500, 0x25FF),  # box drawing, shapes
    (0x3000, 0x303F),  # CJK punctuation
    (0x3100, 0x312F),  # bopomofo
    (0xFF00, 0xFFEF),  # full-width forms
]


def big5_characters() -> set[int]:
    found = set()
    for high in range(0x81, 0xFF):
        for low in [*range(0x40, 0x7F), *range(0xA1, 0xFF)]:
            try:
                found.add(ord(bytes([high, low]).decode("big5")))
            except UnicodeDecodeError:
                continue
    return found


def main() -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    if not SOURCE.exists():
        print(f"{SOURCE} is missing: apt-get install -y fonts-noto-cjk", file=sys.stderr)
        return 1
    collection = TTCollection(str(SOURCE))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == FACE)
    characters = big5_characters()
    for first, last in RANGES:
        characters.update(range(first, last + 1))
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters)
    subsetter.subset(font)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    partial = TARGET.with_suffix(".tmp")
    font.save(str(partial))
    partial.replace(TARGET)
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
