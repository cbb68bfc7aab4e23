// The transport that moves gradient buckets: in-place MPI_Iallreduce (sum) over the
// trainer communicator. It knows flat float buffers only; which gradients go into
// which bucket is the bucketer's business (src/train/grad_buckets.*).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <vector>

namespace sgnn::train {

class AllreduceTransport {
public:
    explicit AllreduceTransport(MPI_Comm comm);
    int size() const { return size_; }
    void start(float* data, std::size_t count);
    // Lets started reductions advance (Open MPI progresses non-blocking collectives
    // only inside MPI calls); called from the gradient hooks during backward.
    void progress();
    // Waits (polling, see comm/backoff.hpp) until every started reduction is done.
    void wait_all();

private:
    MPI_Comm comm_;
    int size_ = 1;
    std::vector<MPI_Request> requests_;
};

}  // namespace sgnn::train
