#include "learner.hpp"

#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/stream/communicators.hpp"

#include <algorithm>
#include <cmath>

namespace sgnn::train {
namespace schema = checkpoint::schema;

double learning_rate_at(const OptimizerConfig& config, std::int64_t step, std::int64_t total_steps) {
    if (step < config.warmup_steps) {
        return config.learning_rate * static_cast<double>(step + 1) / static_cast<double>(config.warmup_steps);
    }
    const double span = static_cast<double>(std::max<std::int64_t>(1, total_steps - config.warmup_steps));
    const double progress = std::min(1.0, static_cast<double>(step - config.warmup_steps) / span);
    return config.min_learning_rate +
           0.5 * (config.learning_rate - config.min_learning_rate) * (1.0 + std::cos(M_PI * progress));
}

Learner::Learner(const ModelConfig& model, const OptimizerConfig& optimizer, const LossSpec& loss, int n_inputs,
                 MPI_Comm trainers, torch::Device device, std::uint64_t seed)
    : device_(device), loss_(loss), transport_(trainers), grad_clip_(optimizer.grad_clip) {
    // Denormal floats (tiny gradients, Adam's squared moments) cost x86 CPUs ~100x per
    // operation; flushing them to zero changes no result of consequence.
    at::globalContext().setFlushDenormal(true);
    torch::manual_seed(seed);
    network_ = make_network(model, n_inputs, loss_.n_outputs(), loss_.n_density());
    network_->to(device_);
    parameters_ = network_->parameters();
    if (transport_.size() > 1) {
        // Trainer 0's initial parameters for everyone (a start-up collective).
        for (torch::Tensor& parameter : parameters_) {
            torch::NoGradGuard no_grad;
            torch::Tensor host = parameter.detach().to(torch::kCPU).contiguous();
            comm::check_mpi(MPI_Bcast(host.data_ptr<float>(), static_cast<int>(host.numel()), MPI_FLOAT, 0, trainers),
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
    const torch::Tensor per_sample = per_sample_loss(*network_, inputs, targets, labels, loss_);
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

torch::Tensor Learner::sample(const torch::Tensor& inputs, std::int64_t n, at::Generator& generator) {
    torch::NoGradGuard no_grad;
    network_->eval();
    return network_->density()->sample(network_->embed(inputs), n, generator);
}

torch::Tensor Learner::log_prob(const torch::Tensor& inputs, const torch::Tensor& u) {
    torch::NoGradGuard no_grad;
    network_->eval();
    return network_->density()->log_prob(u, network_->embed(inputs));
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

namespace {

std::string optimizer_key(const torch::Tensor& parameter) {
    // How LibTorch's optimizers key their per-parameter state.
    return c10::guts::to_string(parameter.unsafeGetTensorImpl());
}

io::Dataset tensor_dataset(const std::string& path, const torch::Tensor& tensor) {
    const torch::Tensor host = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<std::uint64_t> shape;
    for (auto d : host.sizes()) shape.push_back(static_cast<std::uint64_t>(d));
    return io::make_dataset(path, std::vector<float>(host.data_ptr<float>(), host.data_ptr<float>() + host.numel()),
                            shape.empty() ? std::vector<std::uint64_t>{1} : shape);
}

torch::Tensor tensor_from(const std::map<std::string, io::Dataset>& datasets, const std::string& path,
                          const torch::Tensor& like) {
    const auto it = datasets.find(path);
    if (it == datasets.end()) throw std::runtime_error("missing " + path);
    std::vector<std::uint64_t> expected;
    for (auto d : like.sizes()) expected.push_back(static_cast<std::uint64_t>(d));
    if (expected.empty()) expected.push_back(1);
    if (it->second.type != io::ElementType::f32 || it->second.shape != expected) {
        throw std::runtime_error(path + " has another shape than this network's; the checkpoint is from another model");
    }
    const std::vector<float> values = it->second.as<float>();
    return torch::from_blob(const_cast<float*>(values.data()), like.sizes(), torch::kFloat).clone().to(like.device());
}

}  // namespace

std::vector<io::Dataset> Learner::state() const {
    std::vector<io::Dataset> datasets;
    const auto& state = optimizer_->state();
    for (const auto& item : network_->named_parameters()) {
        datasets.push_back(tensor_dataset(schema::parameter(item.key()), item.value()));
        const auto it = state.find(optimizer_key(item.value()));
        if (it == state.end()) continue;  // no step taken yet
        const auto& adam = static_cast<const torch::optim::AdamWParamState&>(*it->second);
        datasets.push_back(tensor_dataset(schema::optimizer_state(item.key(), "exp_avg"), adam.exp_avg()));
        datasets.push_back(tensor_dataset(schema::optimizer_state(item.key(), "exp_avg_sq"), adam.exp_avg_sq()));
        datasets.push_back(io::make_dataset<std::int64_t>(schema::optimizer_state(item.key(), "step"), {adam.step()}));
    }
    return datasets;
}

void Learner::restore(const std::map<std::string, io::Dataset>& datasets) {
    torch::NoGradGuard no_grad;
    auto& state = optimizer_->state();
    state.clear();
    for (const auto& item : network_->named_parameters()) {
        torch::Tensor parameter = item.value();
        parameter.copy_(tensor_from(datasets, schema::parameter(item.key()), parameter));
        const auto step = datasets.find(schema::optimizer_state(item.key(), "step"));
        if (step == datasets.end()) continue;
        auto adam = std::make_unique<torch::optim::AdamWParamState>();
        adam->step(step->second.as<std::int64_t>().at(0));
        adam->exp_avg(tensor_from(datasets, schema::optimizer_state(item.key(), "exp_avg"), parameter));
        adam->exp_avg_sq(tensor_from(datasets, schema::optimizer_state(item.key(), "exp_avg_sq"), parameter));
        state[optimizer_key(parameter)] = std::move(adam);
    }
}

std::string Learner::first_non_finite_parameter() const {
    torch::NoGradGuard no_grad;
    for (const auto& item : network_->named_parameters()) {
        if (!torch::isfinite(item.value()).all().item<bool>()) return item.key();
    }
    return "";
}

std::string Learner::parameter_sha256() const {
    io::Sha256 hash;
    for (const io::NamedArray& array : parameter_arrays()) {
        hash.update(array.values.data(), array.values.size() * sizeof(float));
    }
    return hash.hex_digest();
}

}  // namespace sgnn::train
