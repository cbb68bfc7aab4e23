// User simulator example: sgnn with a model of your own, built out of tree against an
// installed sgnn.
//
// Build and run (from any folder; PREFIX is where sgnn was installed):
//
//   cmake --install build --prefix PREFIX                      # in the sgnn checkout
//   cmake -S examples/user_simulator -B my-build -DCMAKE_PREFIX_PATH=PREFIX
//   cmake --build my-build
//   my-build/my_sgnn list simulators                           # sir_erlang is listed
//   mpiexec -n 3 my-build/my_sgnn train --config PREFIX/share/sgnn/configs/quickstart.cfg \
//       --sim.model sir_erlang --out runs/erlang
//
// What it shows: a simulator is a class with parameters() and simulate() (and, if it
// has them, derived quantities); one call adds it to sgnn, and every sgnn command
// (train, simulate, bank, attribute, bench, sweep) then runs it by name, with its
// priors as prior.NAME options. The model here, sir_erlang.hpp, is an SIR whose
// infectious period has two stages.
//
// CI builds this example against a fresh install (CTest install_and_example).
#include "sir_erlang.hpp"

#include <sgnn/cli/commands.hpp>
#include <sgnn/sim/simulator.hpp>

#include <memory>

int main(int argc, char** argv) {
    // 1. Add the model to sgnn's simulator registry, before anything reads it.
    sgnn::sim::add_simulator("sir_erlang",
                             [](const sgnn::sim::SimulatorOptions&) { return std::make_unique<example::SirErlang>(); });
    // 2. Run sgnn's command line as it is: every command now knows sir_erlang.
    return sgnn::cli::main(argc, argv);
}
