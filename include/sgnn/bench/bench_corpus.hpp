// `sgnn bench corpus`: write and read speed of corpus files (collective hyperslab
// writes through MPI-IO, per-trainer shard reads), against plain POSIX files of the
// same bytes measured in the same run.
#pragma once

#include "sgnn/run/session.hpp"

namespace sgnn::bench {

// Its options are checked before MPI starts; afterwards every error is fatal.
int bench_corpus_command(run::Session& session);
constexpr run::ErrorAgreement kBenchCorpusAgreement{};

}  // namespace sgnn::bench
