// Where a trainer's stream stands, for checkpoints and resume.
//
// Trainer t consumes its local batches k = 0, 1, 2, ... (global batch origin + k*T + t).
// In deterministic mode it takes them in order; in fast mode in arrival order, so at
// any moment it has consumed every batch below a watermark plus a few above it (at
// most credits x feeders). A resumed stream skips exactly those, and the batches the
// checkpoint holds already (buffered at the trainer but not yet trained on): no
// sample is trained twice and none is lost, whatever the new number of simulators.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

namespace sgnn::stream {

// Which local batches a trainer has consumed.
class ConsumedBatches {
public:
    ConsumedBatches() = default;
    ConsumedBatches(std::uint64_t watermark, const std::vector<std::uint64_t>& above);
    void mark(std::uint64_t local_batch);
    bool contains(std::uint64_t local_batch) const;
    std::uint64_t watermark() const { return watermark_; }  // every batch below is consumed
    std::vector<std::uint64_t> above() const { return {above_.begin(), above_.end()}; }

private:
    std::uint64_t watermark_ = 0;
    std::set<std::uint64_t> above_;
};

// The local batches a resumed trainer still needs from simulators: every k >= watermark
// that is not in `skip` (consumed already, or restored from the checkpoint).
struct ResumePoint {
    std::uint64_t watermark = 0;
    std::vector<std::uint64_t> skip;  // sorted, each >= watermark

    bool skipped(std::uint64_t local_batch) const;
    // The first local batch >= from with k mod count == slot that is needed.
    std::uint64_t next_needed(std::uint64_t from, int slot, int count) const;
    // The first local batch >= from that is needed (any residue).
    std::uint64_t next_needed(std::uint64_t from) const { return next_needed(from, 0, 1); }
};

// Global index of trainer t's local batch k: batches before `origin` belong to an
// earlier layout (a run resumed with another trainer count starts a fresh range).
inline std::uint64_t global_batch_index(std::uint64_t origin, int trainers, int trainer_index, std::uint64_t local) {
    return origin + local * static_cast<std::uint64_t>(trainers) + static_cast<std::uint64_t>(trainer_index);
}

}  // namespace sgnn::stream
