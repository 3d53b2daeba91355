import json

import pytest

from golden.config import Config
from golden.errors import ConfigError


def test_defaults_valid_and_json_round_trip():
    cfg = Config()
    assert Config.from_json(cfg.to_json()) == cfg
    assert cfg.feature_shape == cfg.spec.shape_after(cfg.split)
    assert Config(split=2).feature_shape == (16, 16, 16)
    assert Config(split=3).feature_shape == (32, 8, 8)
    assert cfg.levels == 1 << cfg.bits


@pytest.mark.parametrize("changes, message", [
    (dict(bits=0), "bits must be between 1 and 8, not 0"),
    (dict(bits=9), "bits must be between 1 and 8, not 9"),
    (dict(split=0), "split must be one of [1, 2, 3]"),
    (dict(split=4), "split must be one of [1, 2, 3]"),
    (dict(clip=0), "clip must be an integer between 1 and 255"),
    (dict(clip=256), "clip must be an integer between 1 and 255"),
    (dict(quantizer="jpeg"), "quantizer must be one of ['uniform', 'ecsq']"),
    (dict(rows=0), "rows must be between 1 and 64, not 0"),
    (dict(cols=-3), "cols must be between 1 and 64, not -3"),
    (dict(acc_bits=12), "acc_bits must be between"),
    (dict(rows=3), "power-of-two number of rows"),
    (dict(board="arty"), "board must be one of"),
    (dict(network="resnet"), "unknown network 'resnet'"),
    (dict(bits="4"), "bits must be an integer, not '4'"),
    (dict(bits=True), "bits must be an integer, not True"),
    (dict(max_code_len=20), "max_code_len must be between 8 and 16"),
])
def test_bad_values_raise_config_error(changes, message):
    with pytest.raises(ConfigError) as exc:
        Config(**changes)
    assert message in str(exc.value)


def test_replace_validates_and_ignores_none():
    cfg = Config()
    assert cfg.replace(bits=None, split=None) == cfg
    assert cfg.replace(bits=5).bits == 5
    with pytest.raises(ConfigError, match="bits must be between 1 and 8"):
        cfg.replace(bits=12)
    with pytest.raises(ConfigError, match="unknown configuration key"):
        cfg.replace(colour="red")


def test_from_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Config.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Config.from_file(bad)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"bits": 3, "speed": 9}))
    with pytest.raises(ConfigError, match="unknown configuration key.*'speed'"):
        Config.from_file(unknown)
    listy = tmp_path / "list.json"
    listy.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        Config.from_file(listy)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"bits": 3, "split": 1}))
    cfg = Config.from_file(good)
    assert (cfg.bits, cfg.split) == (3, 1)


def test_min_acc_bits_covers_worst_case():
    cfg = Config()
    taps = max(b.taps for b in cfg.spec.edge)
    assert 2 ** (cfg.min_acc_bits() - 1) > taps * 255 * 128
