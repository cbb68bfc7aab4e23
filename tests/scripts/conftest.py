"""Options of the script tests: where data/ is (CTest passes the source tree's)."""
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data"),
                     help="the data/ folder (data/sbibm)")


@pytest.fixture
def data_dir(request):
    return request.config.getoption("--data")
