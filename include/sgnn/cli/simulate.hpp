// `sgnn simulate`: an offline corpus. Every rank simulates its share of samples
// 0..N-1 of the training stream and all write them into one HDF5 file with collective
// hyperslab writes; `sgnn train --data corpus.h5` trains from it.
#pragma once

#include "sgnn/cli/run_config.hpp"
#include "sgnn/sim/task.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::cli {

struct CorpusStats {
    std::uint64_t samples = 0, dropped = 0;
    double bytes = 0.0, write_seconds = 0.0;  // all ranks; the slowest rank's time in writes
};

// Collective over MPI_COMM_WORLD: samples 0..N-1 of `config`'s training stream into
// `out` (docs/file-formats.md), `chunk` rows per rank and write. Progress and the
// final line are printed where `show_progress`. Throws ConfigError or runtime_error.
CorpusStats write_corpus(const RunConfig& config, std::uint64_t samples, const std::string& out, std::uint64_t chunk,
                         bool show_progress);

int simulate_command(const std::vector<std::string>& args, int* argc, char*** argv);

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

// Removes "--name VALUE" or "--name=VALUE" from args; returns VALUE, or `fallback`.
std::string take_flag(std::vector<std::string>& args, const std::string& name, const std::string& fallback);

}  // namespace sgnn::cli
