// The batch message (comm::kTagBatch): one contiguous buffer sent as a single MPI message.
//
//   BatchHeader | sample indices (u64 x B) | inputs (f32 x B x n_in)
//               | targets (f32 x B x n_t) | mechanism labels (f32 x B)
//
// Valid samples are packed first; header.sample_count says how many. Capacity is
// fixed per run, so every message of a run has the same size and receive buffers can
// be posted before anything is known about the batch.
#pragma once

#include "sgnn/comm/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sgnn::stream {

// The header and its flags are part of the protocol (comm/protocol.hpp).
using comm::BatchHeader;
using comm::kEndOfStream;

class BatchBuffer {
public:
    BatchBuffer(int capacity, int n_inputs, int n_targets);

    BatchHeader& header() { return *reinterpret_cast<BatchHeader*>(bytes_.data()); }
    const BatchHeader& header() const { return *reinterpret_cast<const BatchHeader*>(bytes_.data()); }
    std::uint64_t* indices() { return reinterpret_cast<std::uint64_t*>(bytes_.data() + indices_offset_); }
    const std::uint64_t* indices() const {
        return reinterpret_cast<const std::uint64_t*>(bytes_.data() + indices_offset_);
    }
    float* inputs() { return floats(inputs_offset_); }
    const float* inputs() const { return floats(inputs_offset_); }
    float* targets() { return floats(targets_offset_); }
    const float* targets() const { return floats(targets_offset_); }
    float* labels() { return floats(labels_offset_); }
    const float* labels() const { return floats(labels_offset_); }

    void* data() { return bytes_.data(); }
    const void* data() const { return bytes_.data(); }
    int size_bytes() const { return static_cast<int>(bytes_.size()); }
    int capacity() const { return capacity_; }
    int n_inputs() const { return n_inputs_; }
    int n_targets() const { return n_targets_; }

    std::uint64_t payload_checksum() const;
    void seal() { header().checksum = payload_checksum(); }
    bool checksum_ok() const { return header().checksum == payload_checksum(); }

private:
    float* floats(std::size_t offset) { return reinterpret_cast<float*>(bytes_.data() + offset); }
    const float* floats(std::size_t offset) const { return reinterpret_cast<const float*>(bytes_.data() + offset); }

    int capacity_, n_inputs_, n_targets_;
    std::size_t indices_offset_, inputs_offset_, targets_offset_, labels_offset_;
    std::vector<unsigned char> bytes_;
};

}  // namespace sgnn::stream
