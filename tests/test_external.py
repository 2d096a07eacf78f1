"""An external generator's faces dealt into units: complete identities only, the others listed with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthfer.data.store import FaceSet
from synthfer.external import complete_identities, external_units
from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.units import UnitSizes


def _faces(identities: int, neutral: bool = True) -> FaceSet:
    emotions = [NEUTRAL, *EMOTIONS] if neutral else list(EMOTIONS)
    rows = [{"subject": f"id{i}", "emotion": e, "path": f"id{i}_{e}.png"} for i in range(identities) for e in emotions]
    table = pd.DataFrame(rows)
    return FaceSet(np.arange(len(table), dtype=np.uint8)[:, None, None].repeat(4, 1).repeat(4, 2), table)


def test_identities_missing_an_emotion_and_extra_faces_are_left_out_with_their_reason():
    faces = _faces(4)
    table = faces.table[~((faces.table["subject"] == "id1") & (faces.table["emotion"] == "fear"))]
    table = pd.concat([table, table[(table["subject"] == "id2") & (table["emotion"] == "anger")]])
    complete, left_out = complete_identities(table)
    assert complete == ["id0", "id2", "id3"]
    assert set(left_out.loc[left_out["subject"] == "id1", "reason"]) == {
        "identity lacks fear: a unit shows every identity with all six emotions"
    }
    assert list(left_out.loc[left_out["subject"] == "id2", "emotion"]) == ["anger"]  # the second anger face


def test_units_deal_identities_to_splits_like_a_translators_units():
    sizes = UnitSizes(train=3, val=1, test=1)
    units = external_units(_faces(12, neutral=False), "drawn", sizes, n_units=2, seed=0)
    assert len(units) == 2
    for unit, faces in enumerate(units):
        per_split = faces.table.groupby("split")["subject"].nunique().to_dict()
        assert per_split == {"train": 3, "val": 1, "test": 1} and set(faces.table["unit"]) == {unit}
        assert (faces.table.groupby("subject")["emotion"].nunique() == len(EMOTIONS)).all()
        assert set(faces.table["translator"]) == {"drawn"} and faces.table["subject"].str.startswith("drawn/").all()
    assert not set(units[0].table["subject"]) & set(units[1].table["subject"])  # each identity in one unit


def test_too_few_complete_identities_say_how_many_the_study_needs():
    with pytest.raises(ValueError, match=r"4 identities have all six emotions, the study needs 10 \(2 unit"):
        external_units(_faces(4), "drawn", UnitSizes(3, 1, 1), n_units=2, seed=0)
