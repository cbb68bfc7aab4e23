#include "learner.hpp"

#include "sgnn/io/sha256.hpp"
#include "sgnn/stream/mpi_context.hpp"

namespace sgnn::train {

Learner::Learner(const ModelConfig& model, const OptimizerConfig& optimizer, const LossSpec& loss, int n_inputs,
                 MPI_Comm trainers, torch::Device device, std::uint64_t seed)
    : device_(device), loss_(loss), transport_(trainers), grad_clip_(optimizer.grad_clip) {
    // Denormal floats (tiny gradients, Adam's squared moments) cost x86 CPUs ~100x per
    // operation; flushing them to zero changes no result of consequence.
    at::globalContext().setFlushDenormal(true);
    torch::manual_seed(seed);
    network_ = make_network(model, n_inputs, loss_.n_outputs());
    network_->to(device_);
    parameters_ = network_->parameters();
    if (transport_.size() > 1) {
        // Trainer 0's initial parameters for everyone (a start-up collective).
        for (torch::Tensor& parameter : parameters_) {
            torch::NoGradGuard no_grad;
            torch::Tensor host = parameter.detach().to(torch::kCPU).contiguous();
            stream::check_mpi(MPI_Bcast(host.data_ptr<float>(), static_cast<int>(host.numel()), MPI_FLOAT, 0, trainers),
                              "MPI_Bcast(initial parameters)");
            parameter.copy_(host.to(device_));
        }
        bucketer_ = std::make_unique<GradientBucketer>(
            parameters_, static_cast<std::size_t>(optimizer.bucket_mb * 1024.0 * 1024.0), transport_);
    }
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        parameters_, torch::optim::AdamWOptions(optimizer.learning_rate).weight_decay(optimizer.weight_decay));
}

double Learner::step(const torch::Tensor& inputs, const torch::Tensor& targets, const torch::Tensor& labels,
                     double learning_rate, std::int64_t nominal_batch) {
    network_->train();
    optimizer_->zero_grad();
    if (bucketer_) bucketer_->prepare();
    const torch::Tensor per_sample = per_sample_loss(network_->forward(inputs), targets, labels, loss_);
    const torch::Tensor loss = per_sample.sum() / static_cast<double>(nominal_batch);
    loss.backward();
    if (bucketer_) bucketer_->finish(1.0 / transport_.size());
    if (grad_clip_ > 0) torch::nn::utils::clip_grad_norm_(parameters_, grad_clip_);
    for (auto& group : optimizer_->param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate);
    }
    optimizer_->step();
    return per_sample.mean().item<double>();
}

torch::Tensor Learner::predict(const torch::Tensor& inputs) {
    torch::NoGradGuard no_grad;
    network_->eval();
    return network_->forward(inputs);
}

std::vector<io::NamedArray> Learner::parameter_arrays() const {
    std::vector<io::NamedArray> arrays;
    for (const auto& item : network_->named_parameters()) {
        const torch::Tensor host = item.value().detach().to(torch::kCPU, torch::kFloat).contiguous();
        io::NamedArray array;
        array.name = item.key();
        for (auto d : host.sizes()) array.shape.push_back(static_cast<std::uint64_t>(d));
        array.values.assign(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
        arrays.push_back(std::move(array));
    }
    return arrays;
}

std::string Learner::parameter_sha256() const {
    io::Sha256 hash;
    for (const io::NamedArray& array : parameter_arrays()) {
        hash.update(array.values.data(), array.values.size() * sizeof(float));
    }
    return hash.hex_digest();
}

}  // namespace sgnn::train
