// The communicators each role talks on (MPI start-up and checked calls: comm/mpi.hpp).
//
// data:     dup of MPI_COMM_WORLD for batches and lane stops
// control:  dup of MPI_COMM_WORLD for schedule stages and trainer reports
// trainers: split of MPI_COMM_WORLD holding only the trainer ranks (gradient
//           allreduce, evaluation reductions); MPI_COMM_NULL on other ranks
// checkpointers: the coordinator and the trainers, coordinator first (collective
//           checkpoint writes); MPI_COMM_NULL on simulator-only ranks
#pragma once

#include "sgnn/comm/mpi.hpp"
#include "sgnn/stream/layout.hpp"

#include <mpi.h>

namespace sgnn::stream {

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

}  // namespace sgnn::stream
