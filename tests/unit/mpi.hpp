// Unit tests that need MPI (HDF5 files written through MPI-IO) start it on first use;
// tests/unit/main.cpp finalizes it.
#pragma once

#include <mpi.h>

inline void ensure_mpi() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(nullptr, nullptr);
}
