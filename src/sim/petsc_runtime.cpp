#include "sgnn/sim/petsc_runtime.hpp"

#include "sgnn/comm/mpi.hpp"

#include <mpi.h>
#include <petscsys.h>

#include <stdexcept>
#include <string>

namespace sgnn::sim {
namespace {

bool petsc_started_here = false;

}  // namespace

std::mutex& petsc_mutex() {
    static std::mutex mutex;
    return mutex;
}

void petsc_check(int code, const char* what) {
    if (code == 0) return;
    const char* text = nullptr;
    PetscErrorMessage(static_cast<PetscErrorCode>(code), &text, nullptr);
    throw std::runtime_error(std::string("PETSc ") + what + " failed: " + (text ? text : "unknown error"));
}

void ensure_petsc() {
    PetscBool initialized = PETSC_FALSE;
    petsc_check(PetscInitialized(&initialized), "PetscInitialized");
    if (initialized) return;
    int mpi_initialized = 0;
    comm::check_mpi(MPI_Initialized(&mpi_initialized), "MPI_Initialized");
    // Each rank solves its own problems: PETSc's world is this process alone.
    if (mpi_initialized) PETSC_COMM_WORLD = MPI_COMM_SELF;
    // sgnn handles its own signals and errors: no PETSc handlers, no tracebacks on stderr.
    petsc_check(PetscOptionsSetValue(nullptr, "-no_signal_handler", nullptr), "PetscOptionsSetValue");
    petsc_check(PetscInitializeNoArguments(), "PetscInitialize");
    petsc_check(PetscPushErrorHandler(PetscReturnErrorHandler, nullptr), "PetscPushErrorHandler");
    petsc_started_here = true;
}

void finalize_petsc() {
    std::lock_guard<std::mutex> lock(petsc_mutex());
    PetscBool finalized = PETSC_FALSE;
    PetscFinalized(&finalized);
    if (petsc_started_here && !finalized) PetscFinalize();
    petsc_started_here = false;
}

}  // namespace sgnn::sim
