// `sgnn bench simulate`: simulator speed, per core and across OpenMP threads, with an
// optional NumPy reference measured in the same run.
#pragma once

#include <string>
#include <vector>

namespace sgnn::cli {

int bench_simulate_command(const std::vector<std::string>& args);

}  // namespace sgnn::cli
