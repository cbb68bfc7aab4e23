// `sgnn bench corpus`: write and read speed of corpus files (collective hyperslab
// writes through MPI-IO, per-trainer shard reads), against plain POSIX files of the
// same bytes measured in the same run.
#pragma once

#include <string>
#include <vector>

namespace sgnn::cli {

int bench_corpus_command(const std::vector<std::string>& args, int* argc, char*** argv);

}  // namespace sgnn::cli
