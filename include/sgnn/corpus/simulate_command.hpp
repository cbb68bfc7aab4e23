// `sgnn simulate`: an offline corpus of the training stream in one HDF5 file, written
// by every rank together (corpus/corpus_writer.hpp).
#pragma once

#include "sgnn/run/session.hpp"

namespace sgnn::corpus {

// Every rank simulates its share and meets errors and stops with the others (the
// chunks are agreed collectively), so each rank leaves with the same status.
int simulate_command(run::Session& session);
constexpr run::ErrorAgreement kSimulateAgreement{run::Agreement::every_rank, run::Agreement::every_rank};

}  // namespace sgnn::corpus
