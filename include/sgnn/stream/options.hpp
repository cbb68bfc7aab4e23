// The options of streaming (stream.*), declared beside StreamConfig, whose default
// members are their defaults.
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <vector>

namespace sgnn::stream {

std::vector<config::OptionSpec> stream_options();

// stream.batch_size and stream.credits into `config` (the run fills in the rest: seed,
// threads, determinism, the dropped-sample limit). Throws ConfigError naming the key.
void read_stream_options(const config::OptionReader& options, StreamConfig& config);

}  // namespace sgnn::stream
