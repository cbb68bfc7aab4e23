#include "sgnn/run/fatal.hpp"

#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/error.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

namespace sgnn::run {

// One line: LibTorch appends a backtrace to its messages, and running out of memory
// should name the options that decide how much is needed.
std::string one_line_message(const std::exception& error) {
    std::string message = error.what();
    message = message.substr(0, message.find('\n'));
    const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&error) != nullptr ||
                               message.find("can't allocate memory") != std::string::npos;
    if (out_of_memory) {
        message = "out of memory (" + message +
                  "). The largest allocations grow with stream.batch_size x sim.days x "
                  "stream.credits (batches in flight), eval.samples x sim.days (the held-out set) and model.hidden^2 x "
                  "model.blocks (the network): lower one of them, or give each rank more memory";
    }
    return message;
}

void end_job(const std::exception& error, const std::string& role, int rank) {
    if (dynamic_cast<const PeerError*>(&error) != nullptr) std::this_thread::sleep_for(std::chrono::seconds(5));
    std::fprintf(stderr, "sgnn: error [%s, rank %d]: %s\n", role.c_str(), rank, one_line_message(error).c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::exit(1);  // not reached: MPI_Abort does not return
}

void end_job_stopped(const std::exception& stop, const std::string& role, int rank, int ranks) {
    if (rank <= 1) {
        std::fprintf(stderr, "sgnn: %s [%s, rank %d]\n", stop.what(), role.c_str(), rank);
        std::fflush(stderr);
    }
    if (ranks > 1) MPI_Abort(MPI_COMM_WORLD, checkpoint::kExitRequeue);
    comm::report_mpi(MPI_Finalize(), "MPI_Finalize");
    std::exit(checkpoint::kExitRequeue);
}

}  // namespace sgnn::run
