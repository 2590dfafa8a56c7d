"""A deterministic synthetic "face" for DG2: shapes drawn from a seed, never a photograph.

The same seed gives the same pixels; the JPEG bytes are the same for the same Pillow/libjpeg
build. A light pixel noise gives the image the entropy of a real portrait so that the JPEG
lands at the size of a card's DG2 (about 15–20 kB at the default 240×320, quality 85) —
which matters for the hashing cost measured by the passive-authentication benchmark.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

_SKIN = [(241, 194, 167), (224, 172, 138), (198, 134, 103), (161, 102, 72), (233, 190, 150)]
_HAIR = [(20, 18, 16), (45, 32, 22), (70, 50, 35), (15, 15, 25)]
_BACKGROUND = [(235, 238, 242), (225, 232, 240), (240, 240, 235)]  # light, as card photos require


def synthetic_face_jpeg(seed: int, *, width: int = 240, height: int = 320, quality: int = 85) -> bytes:
    """A JPEG portrait-like drawing (ICAO 9303 part 10 §4.7.2 DG2 carries a JPEG or JPEG 2000)."""
    rng = np.random.default_rng(seed)
    background = _BACKGROUND[int(rng.integers(len(_BACKGROUND)))]
    skin = _SKIN[int(rng.integers(len(_SKIN)))]
    hair = _HAIR[int(rng.integers(len(_HAIR)))]
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    cx = width // 2 + int(rng.integers(-8, 9))
    face_w = int(width * rng.uniform(0.27, 0.33))
    face_h = int(height * rng.uniform(0.28, 0.33))
    cy = int(height * 0.45)
    # shoulders and neck
    draw.ellipse(
        (cx - width // 2, int(height * 0.78), cx + width // 2, height + height // 3), fill=(40, 60, 110)
    )
    draw.rectangle((cx - face_w // 3, cy + face_h // 2, cx + face_w // 3, int(height * 0.82)), fill=skin)
    # hair behind, head, hair on top
    draw.ellipse((cx - face_w - 8, cy - face_h - 14, cx + face_w + 8, cy + face_h // 2), fill=hair)
    draw.ellipse((cx - face_w, cy - face_h, cx + face_w, cy + face_h), fill=skin)
    fringe = int(rng.integers(int(face_h * 0.35), int(face_h * 0.6)))
    draw.chord((cx - face_w, cy - face_h, cx + face_w, cy - face_h + 2 * fringe), 180, 360, fill=hair)
    # eyes, brows, nose, mouth
    eye_y = cy - face_h // 6
    eye_dx = face_w // 2 - int(rng.integers(0, 6))
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse((ex - 11, eye_y - 6, ex + 11, eye_y + 6), fill=(250, 250, 250))
        draw.ellipse((ex - 5, eye_y - 5, ex + 5, eye_y + 5), fill=(40, 28, 20))
        draw.line((ex - 13, eye_y - 14, ex + 13, eye_y - 16 + int(rng.integers(0, 5))), fill=hair, width=4)
    draw.line(
        (cx, eye_y + 6, cx - 6, cy + face_h // 4, cx + 4, cy + face_h // 4 + 3), fill=(150, 100, 80), width=3
    )
    mouth_y = cy + face_h // 2
    mouth_w = int(rng.integers(18, 30))
    draw.arc((cx - mouth_w, mouth_y - 12, cx + mouth_w, mouth_y + 8), 20, 160, fill=(150, 60, 60), width=4)
    # sensor-like noise so the JPEG has a portrait's size
    pixels = np.asarray(image, dtype=np.int16)
    noise = rng.normal(0.0, 8.0, size=pixels.shape).astype(np.int16)
    noisy = np.clip(pixels + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(noisy, "RGB").save(out, format="JPEG", quality=quality, optimize=False)
    return out.getvalue()
