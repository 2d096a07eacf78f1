"""Workflow step of the embedded demo: draw one demo database with the procedural face renderer.

Its own module, so that the renderer's code is part of this step only (synthfer.codemap): editing it never
reruns the preparation of real datasets.
"""

from __future__ import annotations

import logging
import os

from synthfer.data.demo import DemoDatabase, write_demo_database

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def render_demo_dataset(demo: DemoDatabase, raw: PathLike, threads: int) -> None:
    """Draw one demo database into the folder `raw`."""
    table = write_demo_database(demo, raw, threads)
    log.info("rendered %d images of %d subjects to %s", len(table), table["subject"].nunique(), raw)
