// Catch2's runner, plus PETSc's finalization (the ODE tests start PETSc).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sgnn/sim/ode_solver.hpp"

int main(int argc, char** argv) {
    const int result = Catch::Session().run(argc, argv);
    sgnn::sim::finalize_ode_runtime();
    return result;
}
