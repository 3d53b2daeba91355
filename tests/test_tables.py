import json

import numpy as np
import pytest

from golden.errors import TableError
from golden.rle import NUM_SYMBOLS, valid_symbols
from golden.tables import CodecTable, TableSet


def test_shipped_tables_cover_every_operating_point(cfg, codec):
    for split in cfg.spec.splits:
        for bits in range(1, 9):
            for mode in ("uniform", "ecsq"):
                t = codec.tables.get(split, bits, mode)
                assert (t.code.lengths[valid_symbols(bits)] > 0).all()
                assert t.code.lengths.max() <= t.max_code_len
                assert codec.tables.by_id(t.table_id) is t


def test_json_round_trip_keeps_ids(codec, tmp_path):
    path = tmp_path / "t.json"
    codec.tables.save(path)
    again = TableSet.load(path)
    assert [t.table_id for t in again.tables] == [t.table_id for t in codec.tables.tables]


def _uniform(**kw):
    lengths = [0] * NUM_SYMBOLS
    for s in np.flatnonzero(valid_symbols(1)):
        lengths[s] = 6
    d = dict(split=1, bits=1, mode="uniform", clip=100, lengths=tuple(lengths))
    d.update(kw)
    return d


def test_table_id_is_content_hash():
    a = CodecTable(**_uniform())
    assert CodecTable(**_uniform(clip=50)).table_id == a.table_id  # clip is in the frame header
    longer = list(a.lengths)
    longer[0] = 7
    assert CodecTable(**_uniform(lengths=tuple(longer))).table_id != a.table_id


@pytest.mark.parametrize("changes, message", [
    (dict(bits=0), "bits must be 1..8"),
    (dict(clip=0), "clip must be 1..255"),
    (dict(mode="jpeg"), "mode must be one of"),
    (dict(bits=2), "have no code"),
    (dict(thresholds=(3,)), "uniform table has no thresholds"),
    (dict(mode="ecsq", thresholds=(0,), recon=(0.0, 1.0)), "increase strictly within 1..255"),
    (dict(mode="ecsq", thresholds=(5, 6), recon=(0.0, 1.0)), "needs 1 integer thresholds"),
    (dict(mode="ecsq", thresholds=(5,), recon=(0.0,)), "needs 2 reconstruction values"),
    (dict(lengths=(1,) * NUM_SYMBOLS), "Kraft"),
])
def test_malformed_tables_refused(changes, message):
    with pytest.raises(TableError, match=message):
        CodecTable(**_uniform(**changes))


def test_table_file_errors(tmp_path):
    with pytest.raises(TableError, match="does not exist"):
        TableSet.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(TableError, match="not a codec table file"):
        TableSet.load(tmp_path / "bad.json")
    d = CodecTable(**_uniform()).to_dict()
    d["table_id"] = "0x00000000"
    (tmp_path / "lie.json").write_text(json.dumps({"tables": [d]}))
    with pytest.raises(TableError, match="contents give"):
        TableSet.load(tmp_path / "lie.json")
    with pytest.raises(TableError, match="no codec table for split 9"):
        TableSet([]).get(9, 1, "uniform")
