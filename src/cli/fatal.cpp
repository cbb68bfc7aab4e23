#include "sgnn/cli/fatal.hpp"

#include "sgnn/error.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace sgnn::cli {

void end_job(const std::exception& error, const std::string& role, int rank) {
    if (dynamic_cast<const PeerError*>(&error) != nullptr) std::this_thread::sleep_for(std::chrono::seconds(5));
    std::fprintf(stderr, "sgnn: error [%s, rank %d]: %s\n", role.c_str(), rank, error.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::exit(1);  // not reached: MPI_Abort does not return
}

}  // namespace sgnn::cli
