// `sgnn bench stream`: the training pipeline's throughput, with the references it is
// compared to (one trainer's compute rate, one core's simulation rate) measured in the
// same run.
#pragma once

#include "sgnn/run/session.hpp"

namespace sgnn::bench {

int bench_stream_command(run::Session& session);

// The help of `sgnn bench` (every benchmark; stream's in full).
const char* bench_help();

}  // namespace sgnn::bench
