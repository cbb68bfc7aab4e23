// Unit tests that need MPI (HDF5 files written through MPI-IO) start it on first use;
// tests/unit/main.cpp finalizes it.
#pragma once

#include "sgnn/comm/mpi.hpp"

#include <mpi.h>

inline void ensure_mpi() {
    int initialized = 0;
    sgnn::comm::check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) sgnn::comm::check_mpi(MPI_Init(nullptr, nullptr), "MPI_Init");
}
