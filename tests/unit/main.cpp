// Catch2's runner, plus the finalization of what tests may have started: PETSc (the ODE
// tests), then MPI (the checkpoint tests start it on first use, tests/unit/mpi.hpp;
// starting it costs seconds, so the other tests do not).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sgnn/comm/mpi.hpp"
#include "sgnn/sim/ode_solver.hpp"

#include <mpi.h>

int main(int argc, char** argv) {
    const int result = Catch::Session().run(argc, argv);
    sgnn::sim::finalize_ode_runtime();
    int initialized = 0, finalized = 0;
    sgnn::comm::check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
    sgnn::comm::check_mpi(MPI_Finalized(&finalized), "MPI_Finalized");
    if (initialized && !finalized) sgnn::comm::check_mpi(MPI_Finalize(), "MPI_Finalize");
    return result;
}
