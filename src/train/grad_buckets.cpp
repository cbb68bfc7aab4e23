#include "grad_buckets.hpp"

#include <algorithm>
#include <cstring>

namespace sgnn::train {

GradientBucketer::GradientBucketer(std::vector<torch::Tensor> parameters, std::size_t cap_bytes,
                                   AllreduceTransport& transport)
    : parameters_(std::move(parameters)), transport_(transport), owner_(std::this_thread::get_id()) {
    slots_.resize(parameters_.size());
    arrived_.assign(parameters_.size(), 0);
    std::size_t bucket_bytes = cap_bytes;  // forces a new bucket for the first parameter
    for (int i = static_cast<int>(parameters_.size()) - 1; i >= 0; --i) {
        const std::size_t bytes =
            static_cast<std::size_t>(parameters_[static_cast<std::size_t>(i)].numel()) * sizeof(float);
        if (buckets_.empty() || bucket_bytes + bytes > cap_bytes) {
            buckets_.emplace_back();
            bucket_bytes = 0;
        }
        Bucket& bucket = buckets_.back();
        slots_[static_cast<std::size_t>(i)] = {static_cast<int>(buckets_.size()) - 1, bucket.flat.size()};
        bucket.parameters.push_back(i);
        bucket.flat.resize(bucket.flat.size() + bytes / sizeof(float));
        bucket_bytes += bytes;
    }
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
        const int index = static_cast<int>(i);
        parameters_[i].register_hook([this, index](const torch::Tensor& gradient) { on_gradient(index, gradient); });
    }
}

void GradientBucketer::prepare() {
    std::fill(arrived_.begin(), arrived_.end(), 0);
    for (Bucket& bucket : buckets_) {
        bucket.pending = static_cast<int>(bucket.parameters.size());
        bucket.started = false;
    }
}

void GradientBucketer::on_gradient(int parameter, const torch::Tensor& gradient) {
    const Slot& slot = slots_[static_cast<std::size_t>(parameter)];
    Bucket& bucket = buckets_[static_cast<std::size_t>(slot.bucket)];
    const torch::Tensor host = gradient.detach().to(torch::kCPU, torch::kFloat).contiguous();
    std::memcpy(bucket.flat.data() + slot.offset, host.data_ptr<float>(),
                static_cast<std::size_t>(host.numel()) * sizeof(float));
    arrived_[static_cast<std::size_t>(parameter)] = 1;
    if (--bucket.pending == 0 && std::this_thread::get_id() == owner_) start(bucket);
    if (std::this_thread::get_id() == owner_) transport_.progress();
}

void GradientBucketer::start(Bucket& bucket) {
    bucket.started = true;
    transport_.start(bucket.flat.data(), bucket.flat.size());
}

void GradientBucketer::finish(double scale) {
    for (Bucket& bucket : buckets_) {
        if (bucket.started) continue;
        // Gradients that never arrived (a parameter unused by this loss) count as zero;
        // every trainer runs the same graph, so all of them agree on which.
        for (int p : bucket.parameters) {
            if (arrived_[static_cast<std::size_t>(p)]) continue;
            const Slot& slot = slots_[static_cast<std::size_t>(p)];
            std::fill_n(bucket.flat.data() + slot.offset, parameters_[static_cast<std::size_t>(p)].numel(), 0.0f);
        }
        start(bucket);
    }
    transport_.wait_all();
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
        torch::Tensor& parameter = parameters_[i];
        const Slot& slot = slots_[i];
        float* data = buckets_[static_cast<std::size_t>(slot.bucket)].flat.data() + slot.offset;
        torch::Tensor summed = torch::from_blob(data, parameter.sizes(), torch::kFloat).to(parameter.device());
        if (scale != 1.0) summed = summed * scale;
        if (parameter.grad().defined()) {
            parameter.mutable_grad().copy_(summed);
        } else {
            parameter.mutable_grad() = summed.clone();
        }
    }
}

}  // namespace sgnn::train
