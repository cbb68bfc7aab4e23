// A simulator worker: makes batches for the trainers it feeds and sends each one only
// when the trainer has a receive slot for it.
//
// Flow control is by synchronous sends: a batch goes out with MPI_Issend, which
// completes only once the trainer's posted receive has matched it. A lane keeps at
// most `credits` batches in flight, and the trainer posts `credits` receives per
// feeder and re-posts one for each batch it consumes, so memory on both sides is
// credits x feeders x batch bytes, whatever the speed ratio.
#pragma once

#include "sgnn/comm/protocol.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/resume.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace sgnn::stream {

struct StreamConfig {
    std::uint64_t seed = 1;
    int batch_size = 256;  // samples per batch (per trainer and step)
    int credits = 4;       // batches in flight per (simulator, trainer) lane
    int threads = 1;       // OpenMP threads per simulator rank
    bool deterministic = false;
    std::uint64_t batch_origin = 0;     // global index of local batch 0 (stream/resume.hpp)
    double max_dropped_fraction = 0.5;  // of the samples a rank simulates; more stops the run (the
                                        // run sets it from sim.max_dropped_fraction, TaskConfig)
};

// Simulates global batch `batch_index` under `stage` into `buffer` and fills its
// header; the single place where batches are made, by workers and inline alike.
sim::GenerateResult fill_batch(const sim::Task& task, const StreamConfig& config, std::uint64_t batch_index,
                               const comm::ScheduleStage& stage, BatchBuffer& buffer);

// Stops a run whose simulator drops too many samples (throws, samples are counted
// per rank): training on what is left would silently learn a truncated prior.
class DropMonitor {
public:
    // Judged once this many samples were simulated: the dropped share is then known to
    // within 0.023 (one standard error at a share of 0.5).
    static constexpr std::uint64_t kMinimumSamples = 500;
    DropMonitor(const sim::Task& task, const StreamConfig& config) : task_(task), config_(config) {}
    // Throws std::runtime_error naming the simulator and an example parameter vector.
    void record(const sim::GenerateResult& result, double prior_width);

private:
    const sim::Task& task_;
    const StreamConfig& config_;
    std::uint64_t simulated_ = 0, dropped_ = 0;
    std::uint64_t example_ = 0;
    double example_width_ = 1.0;
};

// The published part of the prior schedule, as a simulator knows it.
class StageTable {
public:
    void add(const comm::ScheduleStage& stage);
    // The stage covering `batch`, or nullptr if it is not published yet.
    const comm::ScheduleStage* find(std::uint64_t batch) const;

private:
    std::vector<comm::ScheduleStage> stages_;
};

class SimulatorWorker {
public:
    // `resume`: per trainer, the local batches it still needs (empty: a fresh run).
    SimulatorWorker(const Communicators& comms, const RankLayout& layout, const sim::Task& task,
                    const StreamConfig& config, const std::vector<ResumePoint>& resume = {});
    ~SimulatorWorker();

    // One unit of work: handle control messages, retire completed sends, simulate and
    // send at most one batch. Returns whether anything happened.
    bool poll();
    bool finished() const { return finished_; }

private:
    struct InFlight {
        int buffer;
        MPI_Request request;
    };
    struct LaneState {
        Lane lane;
        ResumePoint resume;
        std::uint64_t next_local_batch;
        std::vector<BatchBuffer> buffers;
        std::vector<int> free_buffers;
        std::deque<InFlight> in_flight;
        bool stop_requested = false;
        bool end_sent = false;
        bool done = false;
        BatchHeader end_header{};
        MPI_Request end_request = MPI_REQUEST_NULL;
    };

    bool receive_control();
    bool retire_sends(LaneState& lane);
    bool produce(LaneState& lane);
    bool finish_lane(LaneState& lane);

    const Communicators& comms_;
    const sim::Task& task_;
    StreamConfig config_;
    int trainers_;
    std::vector<LaneState> lanes_;
    std::size_t next_lane_ = 0;
    StageTable stages_;
    DropMonitor drops_;
    comm::ScheduleStage incoming_stage_{};
    MPI_Request stage_request_ = MPI_REQUEST_NULL;
    comm::LaneStop incoming_stop_{};
    MPI_Request stop_request_ = MPI_REQUEST_NULL;
    bool finished_ = false;
};

}  // namespace sgnn::stream
