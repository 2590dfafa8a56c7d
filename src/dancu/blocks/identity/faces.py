"""The face reference kept instead of a photo (driving enrolments, eID level-2 activation):
SHA-256 of a face image and a 256-bit difference hash (dHash) of it.

``face_dhash``: the decoded JPEG in greyscale, reduced (box filter) to 17×16 pixels; each bit says
whether a pixel is brighter than its left neighbour (16 rows × 16 comparisons = 256 bits, 64 hex).
Two images are *the same portrait* when their SHA-256 are equal or the Hamming distance of their
hashes is at most :data:`FACE_MATCH_THRESHOLD`.

Threshold, measured on the synthetic portraits of ``identity.chip.face`` (seeds 0–299, every
pair, 44 850 pairs): the same seed gives distance 0; different seeds are at least 27 bits apart.
10 bits (4 %) leaves a wide margin on both sides. Limits: this compares *card portraits*, not
people — it tells that a chip carries another portrait than the enrolled one; it is not face
recognition, and a strong re-encoding of the same photo can move the hash by 30+ bits (the chip's
DG2 is read bit-exact, so that does not happen between two reads of one card).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dancu.errors import DomainValidationError

HASH_SIZE = 16  # 16×16 comparisons = 256 bits
FACE_MATCH_THRESHOLD = 10  # bits of 256; above it the portraits differ


@dataclass(frozen=True)
class FaceReference:
    sha256: str
    dhash: str  # 64 hex digits


def face_reference(image: bytes) -> FaceReference:
    """SHA-256 and dHash of an encoded face image (JPEG; JPEG 2000 if Pillow can decode it)."""
    try:
        with Image.open(io.BytesIO(image)) as opened:
            grey = opened.convert("L").resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.BOX)
    except Exception:  # Pillow raises many types on data it cannot decode
        raise DomainValidationError.single("dg2", "image", "the face image cannot be decoded") from None
    pixels = np.asarray(grey, dtype=np.int16)
    bits = (pixels[:, 1:] > pixels[:, :-1]).ravel()
    return FaceReference(hashlib.sha256(image).hexdigest(), np.packbits(bits).tobytes().hex())


def hamming(a: str, b: str) -> int:
    """The number of differing bits of two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def same_portrait(enrolled: FaceReference, seen: FaceReference) -> tuple[bool, int]:
    """Whether ``seen`` is the enrolled portrait, and the Hamming distance of the hashes."""
    if enrolled.sha256 == seen.sha256:
        return True, 0
    distance = hamming(enrolled.dhash, seen.dhash)
    return distance <= FACE_MATCH_THRESHOLD, distance
