"""Network files (golden/netspec.py, docs/NETWORK.md): loading, shapes and the errors that name the layer."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from golden.config import Config
from golden.errors import ConfigError
from golden.netspec import DIGITS64, from_dict, get_netspec, load_network

NETWORKS = Path(__file__).parent.parent / "golden" / "data" / "networks"
RGB32 = {"name": "rgb32", "in_shape": [3, 32, 32], "classes": 10, "data": "digits-rgb",
         "edge": [{"cout": 16, "k": 3, "stride": 1, "pad": 1, "pool": 2},
                  {"cout": 24, "k": 3, "stride": 2, "pad": 1, "pool": 1},
                  {"cout": 8, "k": 1, "stride": 1, "pad": 0, "pool": 1}],
         "host": [{"cout": 32, "k": 3, "stride": 1, "pad": 1, "pool": 2}]}


def test_issue_example_shapes():
    spec = from_dict(RGB32)
    assert [spec.shape_after(i) for i in range(4)] == [(3, 32, 32), (16, 16, 16), (24, 8, 8), (8, 8, 8)]
    assert [b.cin for b in spec.edge + spec.host] == [3, 16, 24, 8]
    assert spec.macs(2) == 8 * 8 * 24 * 16 * 9
    assert from_dict(spec.to_dict()) == spec


def test_shipped_network_files_load(tmp_path):
    files = sorted(NETWORKS.glob("*.json"))
    assert {f.stem for f in files} >= {"rgb32", "k5pool3", "k7s2"}
    for f in files:
        spec = load_network(f)
        assert spec.name == f.stem
        assert get_netspec(str(f)) == spec
    assert load_network(NETWORKS / "rgb32.json") == from_dict(RGB32)


def test_defaults_and_odd_edges():
    """pad defaults to k // 2, stride to 1, pool to 1; a pool that does not divide drops edges."""
    spec = from_dict({"name": "x", "in_shape": [1, 15, 15], "classes": 2,
                      "edge": [{"cout": 4, "k": 5}, {"cout": 4, "k": 3, "pool": 2}]})
    assert spec.edge[0].pad == 2 and spec.edge[0].stride == 1 and spec.edge[0].pool == 1
    assert spec.shape_after(2) == (4, 7, 7)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["edge"][1].update(k=4), "edge layer 2: k must be one of [1, 3, 5, 7], not 4"),
    (lambda d: d["edge"][0].update(stride=3), "edge layer 1: stride must be one of [1, 2], not 3"),
    (lambda d: d["edge"][2].update(pad=1), "edge layer 3: pad must be an integer between 0 and 0"),
    (lambda d: d["edge"][0].update(pool=4), "edge layer 1: pool must be one of [1, 2, 3], not 4"),
    (lambda d: d["edge"][1].update(groups=2), "edge layer 2: unknown key(s) 'groups'"),
    (lambda d: d["host"][0].pop("cout"), "host layer 1: 'cout' is missing"),
    (lambda d: d.update(in_shape=[4, 32, 32]), "in_shape's channels must be an integer between 1 and 3"),
    (lambda d: d.update(in_shape=[3, 1, 1]), "edge layer 1: a 1x1 input gives a 1x1 output, too small"),
    (lambda d: d.update(edge=[]), "edge must be a list of layers (one or more)"),
    (lambda d: d.update(colour=True), "unknown key(s) 'colour'"),
], ids=["k", "stride", "pad", "pool", "layer-key", "cout", "channels", "too-small", "no-edge", "key"])
def test_errors_name_the_layer_and_the_limit(change, message):
    d = json.loads(json.dumps(RGB32))
    change(d)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        from_dict(d)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_network(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_network(bad)


def test_config_takes_a_network_file(tmp_path):
    path = tmp_path / "rgb32.json"
    path.write_text(json.dumps(RGB32))
    cfg = Config(network=str(path), split=2, random_weights=3)
    assert cfg.spec == from_dict(RGB32) and cfg.feature_shape == (24, 8, 8)
    assert Config.from_json(cfg.to_json()) == cfg
    with pytest.raises(ConfigError, match=r"split must be one of \[1, 2, 3\]"):
        Config(network=str(path), split=4)
    with pytest.raises(ConfigError, match="known networks: digits64, or a network file"):
        Config(network="rgb32")
    with pytest.raises(ConfigError, match="weights and random_weights exclude each other"):
        Config(random_weights=1, weights="x.npz")
    assert Config().spec is DIGITS64


def test_cli_schedule_with_a_network_file_and_errors(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(RGB32))
    out = tmp_path / "s.json"
    run = [sys.executable, "-m", "edgesplit.cli"]
    r = subprocess.run(run + ["schedule", "--network", str(path), "--random-weights", "1", "--json", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    layers = json.loads(out.read_text())["layers"]
    assert [(x["stride"], x["pool"], x["k"]) for x in layers] == [(1, 2, 3), (2, 1, 3), (1, 1, 1)]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(RGB32, edge=[{"cout": 4, "k": 2}])))
    r = subprocess.run(run + ["schedule", "--network", str(bad), "--random-weights", "1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "edge layer 1: k must be one of [1, 3, 5, 7], not 2" in r.stderr
    mine = tmp_path / "mine.json"  # a network with no trained bundle (rgb32 ships one)
    mine.write_text(json.dumps(dict(RGB32, name="mine")))
    r = subprocess.run(run + ["schedule", "--network", str(mine)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
