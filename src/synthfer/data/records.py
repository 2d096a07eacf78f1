"""The record table every loader returns: one row per image, the same columns for every dataset."""

RECORD_COLUMNS = ("path", "subject", "emotion", "source", "frame", "intensity")
EYE_COLUMNS = ("left_eye_x", "left_eye_y", "right_eye_x", "right_eye_y")
"""Eye centres in image pixels (x, y), image-left eye first; NaN when the dataset does not give them."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mov", ".wmv", ".mpg", ".mpeg"})
"""File kinds a record's path may name: a still image, or a video whose `frame` is the image."""

REJECT_COLUMN = "reject"
"""Optional record column: a loader's reason why a file or row the layout lists cannot be used (a malformed
table row, an empty video). Such records skip preparation and go to the rejected list with that reason."""
