// The options of training (model.*, train.*, eval.*), declared beside TrainConfig
// (train/config.hpp), whose default members are their defaults.
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/train/config.hpp"

#include <string>
#include <vector>

namespace sgnn::train {

std::vector<config::OptionSpec> train_options();

// model.*, train.* and eval.* into `config` (the run fills in the rest: batch size,
// seed, device, outputs). Throws ConfigError naming the key.
void read_train_options(const config::OptionReader& options, TrainConfig& config);

// Throws ConfigError if `device` cannot be used by this LibTorch build.
void check_device(const std::string& device);
// Everything about the training settings that can be checked before ranks start
// talking (device, network shape, a head that fits the targets); throws ConfigError
// naming the key.
void validate(const TrainConfig& config, const sim::SampleLayout& layout);

}  // namespace sgnn::train
