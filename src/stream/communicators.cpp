#include "sgnn/stream/communicators.hpp"

namespace sgnn::stream {

Communicators::Communicators(const RankLayout& layout, int world_rank) : rank_(world_rank) {
    comm::check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &data_), "MPI_Comm_dup(data)");
    comm::check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &control_), "MPI_Comm_dup(control)");
    const int color = layout.is_trainer(world_rank) ? 1 : MPI_UNDEFINED;
    const int key = layout.is_trainer(world_rank) ? layout.trainer_index(world_rank) : 0;
    comm::check_mpi(MPI_Comm_split(MPI_COMM_WORLD, color, key, &trainers_), "MPI_Comm_split(trainers)");
    const bool checkpoints = world_rank == RankLayout::coordinator_rank() || layout.is_trainer(world_rank);
    comm::check_mpi(MPI_Comm_split(MPI_COMM_WORLD, checkpoints ? 1 : MPI_UNDEFINED, world_rank, &checkpointers_),
                    "MPI_Comm_split(checkpointers)");
    for (MPI_Comm created : {data_, control_, trainers_, checkpointers_}) {
        if (created != MPI_COMM_NULL) {
            comm::check_mpi(MPI_Comm_set_errhandler(created, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        }
    }
}

Communicators::~Communicators() {
    for (MPI_Comm* created : {&data_, &control_, &trainers_, &checkpointers_}) {
        if (*created != MPI_COMM_NULL) comm::report_mpi(MPI_Comm_free(created), "MPI_Comm_free");
    }
}

}  // namespace sgnn::stream
