// model.h5 of a trained network. Private to the train module.
#pragma once

#include "learner.hpp"
#include "normalization.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/train/config.hpp"

#include <cstdint>
#include <string>

namespace sgnn::train {

// Writes the parameters, the normalization and the attributes a reader needs to
// rebuild the forward pass (docs/file-formats.md) to `path`, atomically. `sha256` is
// the learner's parameter_sha256(), which the replicas agreed on.
void export_model(const std::string& path, const Learner& learner, const Normalization& norm,
                  const sim::SampleLayout& layout, const TrainConfig& config, std::int64_t steps,
                  const std::string& sha256);

}  // namespace sgnn::train
