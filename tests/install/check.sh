#!/bin/bash
# The installed sgnn stands alone, and a simulator built out of tree runs in it.
#
#   tests/install/check.sh BUILD_DIR WORK_DIR "MPIEXEC..."
#
# 1. cmake --install BUILD_DIR into WORK_DIR/prefix;
# 2. from a folder outside the source tree, the installed sgnn runs an experiment,
#    finding its configs and plotting script relative to itself;
# 3. examples/user_simulator configures and builds against the installed package
#    (find_package(sgnn)), lists its simulator and trains it for a few steps.
set -euo pipefail
build=$(cd "$1" && pwd)
work=$2
mpiexec=$3
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"
mkdir -p "$work/elsewhere"
prefix="$work/prefix"

echo "== 1. cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for path in bin/sgnn share/sgnn/configs/quickstart.cfg share/sgnn/scripts/plot_experiment.py \
            lib/cmake/sgnn/sgnnConfig.cmake include/sgnn/sim/simulator.hpp; do
  [ -e "$prefix/$path" ] || { echo "FAIL: $prefix/$path was not installed"; exit 1; }
done

echo "== 2. the installed sgnn, run from $work/elsewhere"
cd "$work/elsewhere"
"$prefix/bin/sgnn" experiment posterior-mean --scale quick --out "$work/x" > "$work/experiment.log" 2>&1 ||
  { tail -20 "$work/experiment.log"; echo "FAIL: the installed sgnn could not run the experiment"; exit 1; }
grep -q '"claims_hold"' "$work/x/summary.json" || { echo "FAIL: no summary.json"; exit 1; }
if grep -q "no figures" "$work/experiment.log"; then echo "FAIL: the installed plotting script was not found"; exit 1; fi
ls "$work/x"/*.png > /dev/null || { echo "FAIL: no figures"; exit 1; }
if grep -rq "$source_dir" "$work/x/config.ini"; then echo "FAIL: the run read files from the source tree"; exit 1; fi

echo "== 3. examples/user_simulator against the installed package"
cmake -S "$source_dir/examples/user_simulator" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release > "$work/example-configure.log" 2>&1 ||
  { tail -30 "$work/example-configure.log"; echo "FAIL: find_package(sgnn) failed"; exit 1; }
cmake --build "$work/example" -j 2 > "$work/example-build.log" 2>&1 ||
  { tail -30 "$work/example-build.log"; echo "FAIL: the example did not build"; exit 1; }
"$work/example/my_sgnn" list simulators > "$work/simulators.txt"
grep -q "^sir_erlang:" "$work/simulators.txt" || { echo "FAIL: sir_erlang is not listed"; exit 1; }
# shellcheck disable=SC2086
$mpiexec -n 3 "$work/example/my_sgnn" train --config "$prefix/share/sgnn/configs/quickstart.cfg" \
  --sim.model sir_erlang --sim.targets R0 --train.steps 40 --eval.every 40 --out "$work/erlang" > "$work/train.log" 2>&1 ||
  { tail -20 "$work/train.log"; echo "FAIL: training sir_erlang failed"; exit 1; }
grep -q '"model_sha256"' "$work/erlang/summary.json" || { echo "FAIL: no summary.json for sir_erlang"; exit 1; }
echo "install and out-of-tree example: ok"
