// Offline corpora (`sgnn simulate`, corpus/simulate_command.hpp): every rank simulates
// its share of samples 0..N-1 of the training stream and all write them into one HDF5
// file with collective hyperslab writes; `sgnn train --data corpus.h5` trains from it.
// The row shares and agreed chunks here serve memory banks too (bank/).
#pragma once

#include "sgnn/run/config.hpp"
#include "sgnn/sim/task.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::corpus {

struct CorpusStats {
    std::uint64_t samples = 0, dropped = 0;
    double bytes = 0.0, write_seconds = 0.0;  // all ranks; the slowest rank's time in writes
};

// Collective over MPI_COMM_WORLD: samples 0..N-1 of `config`'s training stream into
// `out` (docs/file-formats.md), `chunk` rows per rank and write. Progress and the
// final line are printed where `show_progress`. Throws ConfigError or runtime_error.
CorpusStats write_corpus(const run::RunConfig& config, std::uint64_t samples, const std::string& out,
                         std::uint64_t chunk, bool show_progress);

// Rows of a file written by every rank: rank r makes the contiguous share
// [N r / P, N (r+1) / P), in write_rounds() rounds of at most `chunk` rows, the same
// number on every rank (collective writes).
struct RowShare {
    std::uint64_t first, count;
};
RowShare row_share(std::uint64_t rows, int rank, int ranks);
std::uint64_t write_rounds(std::uint64_t rows, int ranks, std::uint64_t chunk);
// The columns inputs, targets, parameters, labels, indices, valid of a chunk, for
// io::CorpusWriter::write_rows.
std::vector<const void*> column_pointers(const sim::IndexedSamples& rows);

// Collective over MPI_COMM_WORLD: one chunk of samples for a file every rank writes,
// or StopRequested on every rank alike when any rank was asked to stop (a stop signal
// abandons the chunk; the ranks must then leave the collective writes together).
sim::IndexedSamples generate_chunk_or_stop(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose,
                                           std::uint64_t first, std::uint64_t count, int threads,
                                           const std::string& during);

// Throws ConfigError naming `option` unless `path` can be written (absent, or a
// regular file that is replaced: never a device, FIFO, directory or link).
void require_output_file(const std::string& path, const std::string& option);

}  // namespace sgnn::corpus
