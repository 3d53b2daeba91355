import os

import numpy as np
import pytest

from golden.config import Config


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("EDGESPLIT_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cfg():
    return Config()


@pytest.fixture(scope="session")
def int_model(cfg):
    from golden import ptq

    return ptq.int_model(cfg)


@pytest.fixture(scope="session")
def codec(cfg):
    from golden.codec import Codec

    return Codec.for_config(cfg)


@pytest.fixture(scope="session")
def test_features(cfg, int_model):
    """Integer features of the first 24 test frames after every split."""
    from golden import datasets, edge

    return edge.run_all(int_model, datasets.embedded(cfg, "test").images[:24])


@pytest.fixture
def rng(request):
    """A seeded generator; the seed is printed so that a failure can be replayed."""
    seed = int(os.environ.get("EDGESPLIT_SEED", "12345"))
    print(f"{request.node.name}: seed {seed} (set EDGESPLIT_SEED to replay)")
    return np.random.default_rng(seed)
