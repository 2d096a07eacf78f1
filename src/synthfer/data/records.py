"""The record table every loader returns: one row per image, the same columns for every dataset."""

RECORD_COLUMNS = ("path", "subject", "emotion", "source", "frame", "intensity")
EYE_COLUMNS = ("left_eye_x", "left_eye_y", "right_eye_x", "right_eye_y")
"""Eye centres in image pixels (x, y), image-left eye first; NaN when the dataset does not give them."""


def _pillow_suffixes() -> frozenset[str]:
    """Every file suffix Pillow can open (WebP, GIF, JPEG 2000, ... as this Pillow was built): faces are read with
    Pillow, so a format it reads is a format a dataset may hold."""
    from PIL import Image

    Image.init()
    return frozenset(suffix for suffix, kind in Image.registered_extensions().items() if kind in Image.OPEN)


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}) | _pillow_suffixes()
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mov", ".wmv", ".mpg", ".mpeg"})
"""File kinds a record's path may name: a still image, or a video whose `frame` is the image."""

REJECT_COLUMN = "reject"
"""Optional record column: a loader's reason why a file or row the layout lists cannot be used (a malformed
table row, an empty video). Such records skip preparation and go to the rejected list with that reason."""
