// MPI start-up and the communicators each role talks on.
//
// data:     dup of MPI_COMM_WORLD for batches and lane stops
// control:  dup of MPI_COMM_WORLD for schedule stages and trainer reports
// trainers: split of MPI_COMM_WORLD holding only the trainer ranks (gradient
//           allreduce, evaluation reductions); MPI_COMM_NULL on other ranks
// checkpointers: the coordinator and the trainers, coordinator first (collective
//           checkpoint writes); MPI_COMM_NULL on simulator-only ranks
#pragma once

#include "sgnn/stream/layout.hpp"

#include <mpi.h>

#include <vector>

namespace sgnn::stream {

// Owns MPI_Init_thread/MPI_Finalize. FUNNELED: only the main thread calls MPI (CPU
// autograd runs gradient hooks on the calling thread).
class MpiSession {
public:
    MpiSession(int* argc, char*** argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    int world_rank() const { return rank_; }
    int world_size() const { return size_; }

private:
    int rank_ = 0;
    int size_ = 1;
};

class Communicators {
public:
    Communicators(const RankLayout& layout, int world_rank);
    ~Communicators();
    Communicators(const Communicators&) = delete;
    Communicators& operator=(const Communicators&) = delete;

    MPI_Comm data() const { return data_; }
    MPI_Comm control() const { return control_; }
    MPI_Comm trainers() const { return trainers_; }
    MPI_Comm checkpointers() const { return checkpointers_; }
    int world_rank() const { return rank_; }

private:
    int rank_;
    MPI_Comm data_ = MPI_COMM_NULL;
    MPI_Comm control_ = MPI_COMM_NULL;
    MPI_Comm trainers_ = MPI_COMM_NULL;
    MPI_Comm checkpointers_ = MPI_COMM_NULL;
};

// Throws PeerError with MPI's own error text if `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* what);

// True (and `requests` emptied) once every request has completed; never blocks.
bool test_all(std::vector<MPI_Request>& requests, const char* what);
// Waits for every request by testing with backoff (see stream/backoff.hpp), never in
// a blocking MPI wait.
void wait_all(std::vector<MPI_Request>& requests, const char* what);

}  // namespace sgnn::stream
