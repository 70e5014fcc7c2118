"""Frames for frame-moderation tests, drawn here: plain colours, gradients, shapes.

Nothing resembling a person: the test classifier (``test-colour``) scores how
red a frame is, and the real model is shown only known-safe pictures.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def solid(
    rgb: tuple[int, int, int], size: tuple[int, int] = (320, 240), quality: int = 80
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def gradient(size: tuple[int, int] = (320, 240)) -> bytes:
    w, h = size
    img = Image.new("RGB", size)
    img.putdata([(x * 255 // w, y * 255 // h, 128) for y in range(h) for x in range(w)])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def shapes(size: tuple[int, int] = (320, 240)) -> bytes:
    img = Image.new("RGB", size, (230, 235, 240))
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 30, 140, 150), fill=(40, 90, 200))
    draw.ellipse((160, 60, 300, 200), fill=(60, 170, 80))
    draw.line((0, 239, 319, 0), fill=(20, 20, 20), width=5)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


GREY = solid((128, 128, 128))
# test-colour scores (red - max(green, blue)) / 255 of the mean colour:
MID_RED = solid((170, 60, 60))  # ~0.43: between review 0.3 and action 0.7
RED = solid((250, 10, 10))  # ~0.94: above the action threshold
