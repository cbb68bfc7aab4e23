// Where a trainer's batches come from.
//
// StreamedBatchSource receives them from the trainer's feeder simulators under credit
// flow control; InlineBatchSource simulates them on the trainer itself (a single
// process without mpiexec). Both hand out the same batch indices: trainer t's k-th
// batch is global batch origin + k*T + t (in fast mode the streamed source may hand
// them out in arrival order instead).
//
// The base class keeps the account a checkpoint needs (stream/resume.hpp): which local
// batches were consumed, and the batches restored from a checkpoint, which it hands out
// before (fast mode) or in their turn among (deterministic mode) the new ones.
#pragma once

#include "sgnn/comm/protocol.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/resume.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace sgnn::stream {

struct SourceStats {
    double wait_seconds = 0.0;  // time acquire() spent waiting for data
    std::uint64_t batches = 0;
    std::uint64_t samples = 0;
    std::uint64_t dropped = 0;
    std::uint32_t schedule_version = 0;  // of the latest batch
    int max_buffered_batches = 0;        // most batches ever held in receive slots
};

// A trainer's stream position: what a checkpoint records and a resume restores.
struct StreamState {
    std::uint64_t watermark = 0;                // local batches below are consumed
    std::vector<std::uint64_t> consumed_above;  // consumed local batches >= watermark
    std::vector<BatchBuffer> buffered;          // received (or restored) but not yet consumed
    SourceStats stats;                          // counters so far, carried across a resume

    // What simulators must (not) make again for this trainer.
    ResumePoint resume_point(const StreamConfig& config, int trainers, int trainer_index) const;
};

class BatchSource {
public:
    BatchSource(const StreamConfig& config, int trainer_index, int trainers, StreamState resume);
    virtual ~BatchSource() = default;
    // Waits until the next batch is there; it stays valid until release().
    const BatchBuffer& acquire();
    void release();
    // After the last step: stop the feeders and drain what they still send.
    virtual void finish() = 0;
    const SourceStats& stats() const { return stats_; }
    const StreamConfig& config() const { return config_; }
    // The state a checkpoint records (copies of the buffered batches); never waits.
    StreamState snapshot();

protected:
    // The next batch that no checkpoint restored. In deterministic mode it must be
    // local batch `expected`.
    virtual const BatchBuffer& acquire_new(std::uint64_t expected) = 0;
    virtual void release_new() = 0;
    // Batches received but not yet handed out, in the order they will be.
    virtual std::vector<const BatchBuffer*> received() = 0;
    std::uint64_t local_of(std::uint64_t global_batch) const;

    StreamConfig config_;
    int trainer_index_;
    int trainers_;
    ResumePoint resume_;  // batches the simulators do not make again
    SourceStats stats_;

private:
    ConsumedBatches consumed_;
    std::map<std::uint64_t, std::unique_ptr<BatchBuffer>> restored_;  // by local batch
    std::unique_ptr<BatchBuffer> held_restored_;
};

class StreamedBatchSource final : public BatchSource {
public:
    StreamedBatchSource(const Communicators& comms, const RankLayout& layout, const sim::Task& task,
                        const StreamConfig& config, StreamState resume = {});
    ~StreamedBatchSource() override;

    void finish() override;

private:
    const BatchBuffer& acquire_new(std::uint64_t expected) override;
    void release_new() override;
    std::vector<const BatchBuffer*> received() override;

    struct Feeder {
        int rank;
        std::vector<BatchBuffer> buffers;
        std::vector<MPI_Request> requests;
        std::deque<int> posted;  // slots in posting order; MPI matches them in this order
        bool ended = false;
    };

    void post(Feeder& feeder, int slot);
    bool front_ready(Feeder& feeder);
    int count_buffered();

    const Communicators& comms_;
    std::vector<Feeder> feeders_;
    int next_feeder_ = 0;
    int held_feeder_ = -1;
    int held_slot_ = -1;
};

class InlineBatchSource final : public BatchSource {
public:
    // `stage_for` maps a global batch index to its prior-schedule stage.
    InlineBatchSource(const sim::Task& task, const StreamConfig& config, int trainer_index, int trainers,
                      std::function<comm::ScheduleStage(std::uint64_t)> stage_for, StreamState resume = {});
    void finish() override {}

private:
    const BatchBuffer& acquire_new(std::uint64_t expected) override;
    void release_new() override {}
    std::vector<const BatchBuffer*> received() override { return {}; }

    const sim::Task& task_;
    std::function<comm::ScheduleStage(std::uint64_t)> stage_for_;
    DropMonitor drops_;
    BatchBuffer buffer_;
    std::uint64_t next_local_ = 0;
};

}  // namespace sgnn::stream
