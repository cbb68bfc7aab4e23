#include "fixed_sets.hpp"

namespace sgnn::train {

sim::GenerateResult generate_fixed_set(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose,
                                       std::uint64_t first, int count, int threads, std::vector<float>& inputs,
                                       std::vector<float>& targets, std::vector<float>& labels) {
    const sim::SampleLayout& layout = task.layout();
    std::vector<std::uint64_t> indices(static_cast<std::size_t>(count));
    labels.resize(static_cast<std::size_t>(count));
    inputs.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(layout.n_inputs));
    targets.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(layout.n_targets()));
    const sim::GenerateResult result =
        sim::generate_samples(task, seed, purpose, first, count, 1.0,
                              {indices.data(), inputs.data(), targets.data(), labels.data(), count}, threads);
    inputs.resize(static_cast<std::size_t>(result.valid) * static_cast<std::size_t>(layout.n_inputs));
    targets.resize(static_cast<std::size_t>(result.valid) * static_cast<std::size_t>(layout.n_targets()));
    labels.resize(static_cast<std::size_t>(result.valid));
    return result;
}

}  // namespace sgnn::train
