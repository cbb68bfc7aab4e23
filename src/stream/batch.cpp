#include "sgnn/stream/batch.hpp"

namespace sgnn::stream {

BatchBuffer::BatchBuffer(int capacity, int n_inputs, int n_targets)
    : capacity_(capacity), n_inputs_(n_inputs), n_targets_(n_targets) {
    const std::size_t b = static_cast<std::size_t>(capacity);
    indices_offset_ = sizeof(BatchHeader);
    inputs_offset_ = indices_offset_ + b * sizeof(std::uint64_t);
    targets_offset_ = inputs_offset_ + b * static_cast<std::size_t>(n_inputs) * sizeof(float);
    labels_offset_ = targets_offset_ + b * static_cast<std::size_t>(n_targets) * sizeof(float);
    bytes_.assign(labels_offset_ + b * sizeof(float), 0);
}

std::uint64_t BatchBuffer::payload_checksum() const {
    // Covers the header's identifying fields and the payload; 64-bit words keep it cheap
    // (tens of microseconds per batch, against milliseconds of training per batch).
    std::uint64_t hash = 1469598103934665603ull;
    auto mix = [&hash](std::uint64_t word) {
        hash ^= word;
        hash *= 1099511628211ull;
    };
    const BatchHeader& h = header();
    mix(h.batch_index);
    mix((static_cast<std::uint64_t>(h.schedule_version) << 32) | h.sample_count);
    mix((static_cast<std::uint64_t>(h.dropped_count) << 32) | h.flags);
    const std::size_t words = (bytes_.size() - sizeof(BatchHeader)) / sizeof(std::uint64_t);
    const auto* p = reinterpret_cast<const std::uint64_t*>(bytes_.data() + sizeof(BatchHeader));
    for (std::size_t i = 0; i < words; ++i) mix(p[i]);
    return hash;
}

}  // namespace sgnn::stream
