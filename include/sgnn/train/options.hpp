// The options of training (model.*, train.*, eval.*), declared beside TrainConfig
// (train/config.hpp), whose default members are their defaults.
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/train/config.hpp"

#include <vector>

namespace sgnn::train {

std::vector<config::OptionSpec> train_options();

// model.*, train.* and eval.* into `config` (the run fills in the rest: batch size,
// seed, device, outputs). Throws ConfigError naming the key.
void read_train_options(const config::OptionReader& options, TrainConfig& config);

}  // namespace sgnn::train
