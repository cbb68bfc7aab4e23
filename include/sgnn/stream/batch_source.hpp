// Where a trainer's batches come from.
//
// StreamedBatchSource receives them from the trainer's feeder simulators under credit
// flow control; InlineBatchSource simulates them on the trainer itself (a single
// process without mpiexec). Both hand out the same batch indices: trainer t's k-th
// batch is global batch k*T + t (in fast mode the streamed source may hand them out
// in arrival order instead).
#pragma once

#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/messages.hpp"
#include "sgnn/stream/mpi_context.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace sgnn::stream {

struct SourceStats {
    double wait_seconds = 0.0;      // time acquire() spent waiting for data
    std::uint64_t batches = 0;
    std::uint64_t samples = 0;
    std::uint64_t dropped = 0;
    std::uint32_t schedule_version = 0;  // of the latest batch
    int max_buffered_batches = 0;        // most batches ever held in receive slots
};

class BatchSource {
public:
    virtual ~BatchSource() = default;
    // Waits until the next batch is there; it stays valid until release().
    virtual const BatchBuffer& acquire() = 0;
    virtual void release() = 0;
    // After the last step: stop the feeders and drain what they still send.
    virtual void finish() = 0;
    const SourceStats& stats() const { return stats_; }

protected:
    SourceStats stats_;
};

class StreamedBatchSource final : public BatchSource {
public:
    StreamedBatchSource(const Communicators& comms, const RankLayout& layout, const sim::Task& task,
                        const StreamConfig& config);
    ~StreamedBatchSource() override;

    const BatchBuffer& acquire() override;
    void release() override;
    void finish() override;

private:
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
    int trainer_index_;
    int trainers_;
    int credits_;
    bool deterministic_;
    std::vector<Feeder> feeders_;
    std::uint64_t local_batch_ = 0;
    int next_feeder_ = 0;
    int held_feeder_ = -1;
    int held_slot_ = -1;
};

class InlineBatchSource final : public BatchSource {
public:
    // `stage_for` maps a global batch index to its prior-schedule stage.
    InlineBatchSource(const sim::Task& task, const StreamConfig& config, int trainer_index, int trainers,
                      std::function<ScheduleStage(std::uint64_t)> stage_for);

    const BatchBuffer& acquire() override;
    void release() override {}
    void finish() override {}

private:
    const sim::Task& task_;
    StreamConfig config_;
    int trainer_index_, trainers_;
    std::function<ScheduleStage(std::uint64_t)> stage_for_;
    BatchBuffer buffer_;
    std::uint64_t local_batch_ = 0;
};

}  // namespace sgnn::stream
