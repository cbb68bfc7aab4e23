// PETSc as sgnn uses it: started on first use on MPI_COMM_SELF (each rank solves its
// own problems: ODE blocks with TS, likelihood fits with TAO), without PETSc's signal
// handlers or tracebacks, and finalized before MPI by OdeRuntimeScope.
//
// PETSc's global state (logging, memory tracking) is not thread safe, so every use
// holds petsc_mutex(): solves are serialized within a process, and parallelism comes
// from MPI ranks.
#pragma once

#include <mutex>

namespace sgnn::sim {

std::mutex& petsc_mutex();

// Starts PETSc if nobody has; the caller holds petsc_mutex().
void ensure_petsc();

// Throws std::runtime_error "PETSc <what> failed: <PETSc's message>" for a non-zero code.
void petsc_check(int code, const char* what);

// Finalizes PETSc if this process started it; call before MPI_Finalize.
void finalize_petsc();

}  // namespace sgnn::sim
