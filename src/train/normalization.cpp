#include "normalization.hpp"

#include "fixed_sets.hpp"
#include "sgnn/error.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sgnn::train {
namespace schema = checkpoint::schema;

Normalization Normalization::compute(const sim::Task& task, std::uint64_t seed, int samples,
                                     TargetTransforms transforms) {
    std::vector<float> inputs, targets, labels;
    const sim::GenerateResult result =
        generate_fixed_set(task, seed, sim::Purpose::norm, 0, samples, 1, inputs, targets, labels);
    const int n_t = task.layout().n_targets();
    const std::size_t n = labels.size();
    if (n < 2) {
        sim::SampleStream example(seed, sim::Purpose::norm, result.first_dropped);
        throw std::runtime_error("the simulator dropped " + std::to_string(result.dropped) + " of " +
                                 std::to_string(samples) + " normalization samples, for example " +
                                 task.describe_sample(example, 1.0) +
                                 ". Narrow the priors (prior.NAME) or choose targets defined everywhere");
    }
    Normalization norm;
    norm.transforms = std::move(transforms);
    if (norm.transforms.size() > 0) {
        // The statistics of the transformed targets, which the density head sees.
        const torch::Tensor raw = torch::from_blob(targets.data(), {static_cast<std::int64_t>(n), n_t}, torch::kFloat);
        const torch::Tensor z = norm.transforms.forward(raw.to(torch::kDouble)).to(torch::kFloat).contiguous();
        std::copy(z.data_ptr<float>(), z.data_ptr<float>() + z.numel(), targets.begin());
    }
    double sum = 0, sum_sq = 0;
    for (float v : inputs) {
        sum += v;
        sum_sq += static_cast<double>(v) * v;
    }
    const double count = static_cast<double>(inputs.size());
    norm.input_mean = static_cast<float>(sum / count);
    norm.input_std = static_cast<float>(std::sqrt(std::max(1e-12, sum_sq / count - (sum / count) * (sum / count))));
    for (int j = 0; j < n_t; ++j) {
        double s = 0, ss = 0, present = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double v = targets[i * static_cast<std::size_t>(n_t) + static_cast<std::size_t>(j)];
            if (std::isnan(v)) continue;  // this sample's mechanism lacks the target
            s += v;
            ss += v * v;
            ++present;
        }
        if (present < 2) {
            throw std::runtime_error("fewer than 2 of " + std::to_string(n) + " normalization samples have target '" +
                                     task.layout().target_names[static_cast<std::size_t>(j)] +
                                     "': raise the weight of the mechanisms that have it in sim.mixture");
        }
        const double mean = s / present;
        const double var = std::max(1e-12, ss / present - mean * mean);
        norm.target_mean.push_back(static_cast<float>(mean));
        norm.target_std.push_back(static_cast<float>(std::sqrt(var)));
    }
    return norm;
}

Normalization Normalization::restore(const checkpoint::Contents& checkpoint, int n_targets,
                                     TargetTransforms transforms) {
    const auto values = [&](const std::string& field) {
        return checkpoint.model_dataset(schema::normalization(field)).as<float>();
    };
    Normalization norm;
    norm.transforms = std::move(transforms);
    norm.input_mean = values("input_mean").at(0);
    norm.input_std = values("input_std").at(0);
    norm.target_mean = values("target_mean");
    norm.target_std = values("target_std");
    if (norm.target_mean.size() != static_cast<std::size_t>(n_targets)) {
        throw ConfigError("checkpoint " + checkpoint.path + ": normalization for " +
                          std::to_string(norm.target_mean.size()) + " targets, but this run has " +
                          std::to_string(n_targets));
    }
    return norm;
}

std::vector<io::Dataset> Normalization::state() const {
    const auto n_t = static_cast<std::uint64_t>(target_mean.size());
    return {io::make_dataset<float>(schema::normalization("input_mean"), {input_mean}),
            io::make_dataset<float>(schema::normalization("input_std"), {input_std}),
            io::make_dataset(schema::normalization("target_mean"), target_mean, {n_t}),
            io::make_dataset(schema::normalization("target_std"), target_std, {n_t})};
}

std::vector<io::NamedArray> Normalization::model_file_arrays() const {
    const auto n_t = static_cast<std::uint64_t>(target_mean.size());
    return {
        {"input_mean", {1}, {input_mean}},
        {"input_std", {1}, {input_std}},
        {"target_mean", {n_t}, target_mean},
        {"target_std", {n_t}, target_std},
    };
}

Normalization Normalization::from_model_file(const std::vector<io::NamedArray>& arrays, std::size_t n_targets,
                                             TargetTransforms transforms, const std::string& path) {
    Normalization norm;
    norm.transforms = std::move(transforms);
    bool input_mean = false, input_std = false;
    for (const io::NamedArray& array : arrays) {
        if (array.name == "input_mean" && array.values.size() == 1)
            norm.input_mean = array.values[0], input_mean = true;
        if (array.name == "input_std" && array.values.size() == 1) norm.input_std = array.values[0], input_std = true;
        if (array.name == "target_mean") norm.target_mean = array.values;
        if (array.name == "target_std") norm.target_std = array.values;
    }
    if (!input_mean || !input_std || norm.target_mean.size() != n_targets || norm.target_std.size() != n_targets) {
        throw std::runtime_error(path + ": normalization does not match the targets");
    }
    return norm;
}

torch::Tensor Normalization::standardize_inputs(const float* data, std::int64_t rows, std::int64_t n_inputs,
                                                torch::Device device) const {
    torch::Tensor x = torch::from_blob(const_cast<float*>(data), {rows, n_inputs}, torch::kFloat);
    return ((x - input_mean) / input_std).to(device);
}

torch::Tensor Normalization::standardize_targets(const float* data, std::int64_t rows, torch::Device device) const {
    const auto n_t = static_cast<std::int64_t>(target_mean.size());
    return standardize_targets(torch::from_blob(const_cast<float*>(data), {rows, n_t}, torch::kFloat), device);
}

torch::Tensor Normalization::standardize_targets(const torch::Tensor& targets, torch::Device device) const {
    const torch::Tensor y =
        transforms.size() > 0 ? transforms.forward(targets.to(torch::kDouble)).to(targets.scalar_type()) : targets;
    const torch::Tensor mean = torch::tensor(target_mean);
    const torch::Tensor std = torch::tensor(target_std);
    return ((y - mean) / std).to(device);
}

torch::Tensor Normalization::targets_from_standardized(const torch::Tensor& u) const {
    const torch::Tensor mean = torch::tensor(target_mean).to(torch::kDouble);
    const torch::Tensor std = torch::tensor(target_std).to(torch::kDouble);
    const torch::Tensor z = u.to(torch::kCPU, torch::kDouble) * std + mean;
    return transforms.size() > 0 ? transforms.inverse(z) : z;
}

torch::Tensor Normalization::log_abs_det_jacobian(const torch::Tensor& x) const {
    const torch::Tensor std = torch::tensor(target_std).to(torch::kDouble);
    torch::Tensor total = -std.log().sum() * torch::ones({x.size(0)}, torch::kDouble);
    if (transforms.size() > 0) total = total + transforms.log_abs_det_jacobian(x.to(torch::kDouble));
    return total;
}

}  // namespace sgnn::train
