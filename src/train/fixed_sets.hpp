// The fixed sample sets a trainer simulates for itself, apart from the training stream:
// the `norm` stream (standardization) and the `eval` stream (held-out metrics). Private
// to the train module.
#pragma once

#include "sgnn/sim/task.hpp"

#include <cstdint>
#include <vector>

namespace sgnn::train {

// The valid samples among indices first..first+count-1 of stream `purpose`, at full
// prior width, their rows packed in index order; dropped samples are left out.
sim::GenerateResult generate_fixed_set(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose,
                                       std::uint64_t first, int count, int threads, std::vector<float>& inputs,
                                       std::vector<float>& targets, std::vector<float>& labels);

}  // namespace sgnn::train
