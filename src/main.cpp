// sgnn: simulation-grounded neural networks on MPI clusters.
//
// Build:   make            (or: cmake -S . -B build && cmake --build build -j)
// Run:     build/sgnn train --config configs/quickstart.cfg
//          mpiexec -n 4 --oversubscribe build/sgnn train --config configs/quickstart.cfg
// Help:    build/sgnn --help, build/sgnn train --help
#include "sgnn/cli/commands.hpp"

int main(int argc, char** argv) { return sgnn::cli::main(argc, argv); }
