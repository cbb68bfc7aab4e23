// Batches from a corpus file (`sgnn simulate`) instead of live simulators.
//
// Trainer t of T reads its shard, rows [N t / T, N (t+1) / T) of the corpus, keeps
// the valid ones, and serves them in a new random order every epoch (a permutation
// drawn from the Philox stream (seed, shuffle) at counter epoch * T + t). An epoch is
// floor(valid rows / batch size) batches; the rest of a shard waits for the next
// epoch's order. Local batch k is batch k mod E of epoch k / E, so a resumed run picks
// up exactly where its checkpoint stood.
#pragma once

#include "sgnn/stream/batch_source.hpp"

#include <string>
#include <vector>

namespace sgnn::stream {

class CorpusBatchSource final : public BatchSource {
public:
    // Throws ConfigError naming the file when it cannot serve this run (shape, size).
    CorpusBatchSource(const std::string& path, const sim::SampleLayout& layout, const StreamConfig& config,
                      int trainer_index, int trainers, StreamState resume = {});
    void finish() override {}

    std::uint64_t shard_rows() const { return static_cast<std::uint64_t>(labels_.size()); }
    std::uint64_t batches_per_epoch() const { return batches_per_epoch_; }

private:
    const BatchBuffer& acquire_new(std::uint64_t expected) override;
    void release_new() override {}
    std::vector<const BatchBuffer*> received() override { return {}; }
    void shuffle(std::uint64_t epoch);

    int n_inputs_, n_targets_;
    std::vector<float> inputs_, targets_, labels_;
    std::vector<std::uint64_t> indices_;
    std::uint64_t batches_per_epoch_ = 0;
    std::vector<std::uint32_t> order_;  // the current epoch's permutation of shard rows
    std::uint64_t epoch_ = ~0ull;
    BatchBuffer buffer_;
    std::uint64_t next_local_ = 0;
};

}  // namespace sgnn::stream
