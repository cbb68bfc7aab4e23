#include "sgnn/train/allreduce.hpp"

#include "sgnn/stream/communicators.hpp"

#include <climits>
#include <stdexcept>

namespace sgnn::train {

AllreduceTransport::AllreduceTransport(MPI_Comm comm) : comm_(comm) {
    if (comm_ != MPI_COMM_NULL) size_ = comm::size_of(comm_);
}

void AllreduceTransport::start(float* data, std::size_t count) {
    if (size_ == 1) return;
    if (count > static_cast<std::size_t>(INT_MAX)) throw std::length_error("gradient bucket too large for MPI");
    MPI_Request request;
    comm::check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm_, &request),
                    "MPI_Iallreduce(gradients)");
    requests_.push_back(request);
}

void AllreduceTransport::progress() { comm::test_all(requests_, "MPI_Testall(gradients)"); }

void AllreduceTransport::wait_all() { comm::wait_all(requests_, "MPI_Testall(gradients)"); }

}  // namespace sgnn::train
