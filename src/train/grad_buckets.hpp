// Gradient bucketing for data parallelism, in the manner of PyTorch's c10d Reducer:
// parameters are grouped into buckets of at most `cap_bytes`, in reverse order (the
// order backward produces their gradients). A hook on each parameter copies its
// gradient into the bucket's flat buffer; when a bucket's last gradient lands, the
// transport starts reducing it while backward carries on with earlier layers.
#pragma once

#include "sgnn/train/allreduce.hpp"

#include <torch/torch.h>

#include <thread>
#include <vector>

namespace sgnn::train {

class GradientBucketer {
public:
    GradientBucketer(std::vector<torch::Tensor> parameters, std::size_t cap_bytes, AllreduceTransport& transport);

    int bucket_count() const { return static_cast<int>(buckets_.size()); }
    // Call before backward.
    void prepare();
    // Call after backward: reduces what the hooks have not started, waits, and writes
    // the summed gradients times `scale` into every parameter's .grad.
    void finish(double scale);

private:
    struct Bucket {
        std::vector<int> parameters;
        std::vector<float> flat;
        int pending = 0;
        bool started = false;
    };
    struct Slot {
        int bucket;
        std::size_t offset;
    };

    void on_gradient(int parameter, const torch::Tensor& gradient);
    void start(Bucket& bucket);

    std::vector<torch::Tensor> parameters_;
    std::vector<Slot> slots_;
    std::vector<char> arrived_;
    std::vector<Bucket> buckets_;
    AllreduceTransport& transport_;
    std::thread::id owner_;  // MPI may be called only from this thread (MPI_THREAD_FUNNELED)
};

}  // namespace sgnn::train
