// `sgnn bench simulate`: simulator speed, per core and across OpenMP threads, with an
// optional NumPy reference measured in the same run.
#pragma once

#include "sgnn/run/session.hpp"

namespace sgnn::bench {

int bench_simulate_command(run::Session& session);

}  // namespace sgnn::bench
