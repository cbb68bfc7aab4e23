"""pytest settings of the end-to-end tests: the sgnn under test and where it runs.

Every test file here takes the same options; CTest passes them (tests/CMakeLists.txt,
sgnn_e2e_tests), one test per CTest entry:

    python3 -m pytest tests/e2e/test_training.py::test_learning --sgnn build/sgnn \
        --config-dir configs --workdir build/e2e --mpiexec "mpiexec --oversubscribe"
"""
import os

import harness


def pytest_addoption(parser):
    group = parser.getgroup("sgnn")
    group.addoption("--sgnn", required=True, help="the sgnn executable under test")
    group.addoption("--config-dir", required=True, help="sgnn's configs/ folder")
    group.addoption("--workdir", required=True, help="where the tests' runs go (created)")
    group.addoption("--mpiexec", required=True, help='the MPI launcher, e.g. "mpiexec --oversubscribe"')
    group.addoption("--python", default="/usr/bin/python3", help="a python3 with h5py and NumPy")
    group.addoption("--reader", default=None, help="sgnn_read_fuzz, the readers built with AddressSanitizer (fuzz)")


def pytest_configure(config):
    # One settings object for the whole session, read by the helpers (harness.ARGS).
    for name in ("sgnn", "config_dir", "workdir", "mpiexec", "python", "reader"):
        setattr(harness.ARGS, name, config.getoption(name))
    os.makedirs(harness.ARGS.workdir, exist_ok=True)
