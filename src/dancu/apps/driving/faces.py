"""The face reference of driving enrolments: moved to :mod:`dancu.blocks.identity.faces` so that
blocks (the eID desk's level-2 activation) compare portraits with the same code; re-exported here."""

from dancu.blocks.identity.faces import (
    FACE_MATCH_THRESHOLD,
    HASH_SIZE,
    FaceReference,
    face_reference,
    hamming,
    same_portrait,
)

__all__ = ["FACE_MATCH_THRESHOLD", "HASH_SIZE", "FaceReference", "face_reference", "hamming", "same_portrait"]
