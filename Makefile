# sgnn top-level Makefile. On a fresh Debian 12 machine:
#
#   make quickstart   install missing Debian packages, build, run the default experiment
#   make test         install missing Debian packages, build, run the whole test suite
#
# Other targets: make build (deps + compile), make deps (packages only), make figures
# (paper experiments at quick scale, refreshes docs/results.md), make format (apply
# .clang-format), make tidy (clang-tidy over src/), make sanitize (the unit tests under
# AddressSanitizer and UndefinedBehaviorSanitizer), make clean.
# Variables: BUILD_DIR (build), BUILD_TYPE (Release), JOBS (all cores), RANKS (4).

BUILD_DIR  ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
RANKS      ?= 4

# Everything sgnn needs, as Debian 12 packages. libopenblas0-openmp matters: LibTorch
# calls the system BLAS, and the reference BLAS is about 14x slower.
PACKAGES := build-essential cmake pkg-config \
	openmpi-bin libopenmpi-dev \
	libtorch-dev libopenblas0-openmp \
	libhdf5-openmpi-dev petsc-dev \
	libboost-program-options-dev catch2 librandom123-dev \
	nlohmann-json3-dev libssl-dev libmuparser-dev clang-format \
	python3 python3-numpy python3-h5py python3-matplotlib python3-pytest python3-sklearn

# Open MPI refuses to start as root unless told; containers and CI often run as root.
ifeq ($(shell id -u),0)
  MPI_ROOT_FLAGS := --allow-run-as-root
endif
MPIEXEC := mpiexec --oversubscribe $(MPI_ROOT_FLAGS)

.PHONY: deps build quickstart test figures format tidy sanitize clean

deps:
	@missing=$$(for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "sgnn: all Debian packages present"; exit 0; fi; \
	echo "sgnn: installing missing Debian packages:" $$missing; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	else echo "sgnn: not root and no sudo; run this, then make again:"; \
		echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends" $$missing; exit 1; fi; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)

quickstart: build
	$(MPIEXEC) -n $(RANKS) $(BUILD_DIR)/sgnn train --config configs/quickstart.cfg

# Tests run JOBS at a time: on CI's 2 cores the suite takes about 9 minutes instead of 14.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)

# Every paper experiment at quick scale, then the quick-scale section of docs/results.md.
EXPERIMENTS := posterior-mean model-selection attribution unobservable mismatch sbibm
figures: build
	for e in $(EXPERIMENTS); do $(MPIEXEC) -n 2 $(BUILD_DIR)/sgnn experiment $$e --scale quick --out runs/figures/$$e || exit 1; done
	/usr/bin/python3 scripts/update_results.py docs/results.md runs/figures

# The C++ sources in sgnn's layout (.clang-format); CTest lint_format checks it.
CXX_SOURCES = $(shell git ls-files '*.cpp' '*.hpp')
format:
	clang-format -i $(CXX_SOURCES)

# clang-tidy with .clang-tidy's checks over every translation unit of src/.
tidy: build
	@command -v run-clang-tidy >/dev/null || { echo "sgnn: make tidy needs clang-tidy (apt-get install clang-tidy)"; exit 1; }
	run-clang-tidy -p $(BUILD_DIR) -quiet -j $(JOBS) '$(CURDIR)/src/.*\.cpp$$'

# The debug-sanitize preset (CMakePresets.json): unit and MPI tests under ASan + UBSan
# (the unit tests, the data-parallel step, credit flow, the trainer and coordinator roles),
# run in build-sanitize/tests, where they leave their files.
sanitize: deps
	cmake --preset debug-sanitize
	cmake --build --preset debug-sanitize -j $(JOBS) --target sgnn_unit_tests sgnn_test_data_parallel \
		sgnn_test_credit_flow sgnn_test_trainer sgnn_test_coordinator
	export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; \
	cd build-sanitize/tests && ./sgnn_unit_tests && $(MPIEXEC) -n 2 ./sgnn_test_data_parallel && \
	$(MPIEXEC) -n 3 ./sgnn_test_credit_flow --slow trainer && \
	$(MPIEXEC) -n 3 ./sgnn_test_trainer trainer_role && $(MPIEXEC) -n 2 ./sgnn_test_coordinator coordinator_role

clean:
	rm -rf $(BUILD_DIR) build-sanitize
