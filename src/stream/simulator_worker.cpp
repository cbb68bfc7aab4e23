#include "sgnn/stream/simulator_worker.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace sgnn::stream {

void StageTable::add(const comm::ScheduleStage& stage) {
    stages_.push_back(stage);
    std::sort(stages_.begin(), stages_.end(),
              [](const comm::ScheduleStage& a, const comm::ScheduleStage& b) { return a.first_batch < b.first_batch; });
}

const comm::ScheduleStage* StageTable::find(std::uint64_t batch) const {
    for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) {
        if (it->first_batch <= batch) return batch < it->valid_until ? &*it : nullptr;
    }
    return nullptr;
}

sim::GenerateResult fill_batch(const sim::Task& task, const StreamConfig& config, std::uint64_t batch_index,
                               const comm::ScheduleStage& stage, BatchBuffer& buffer) {
    const std::uint64_t batch_size = static_cast<std::uint64_t>(config.batch_size);
    const sim::GenerateResult result = sim::generate_samples(
        task, config.seed, sim::Purpose::train, batch_index * batch_size, config.batch_size, stage.width,
        {buffer.indices(), buffer.inputs(), buffer.targets(), buffer.labels(), buffer.capacity()}, config.threads);
    BatchHeader& header = buffer.header();
    header.batch_index = batch_index;
    header.schedule_version = stage.version;
    header.sample_count = static_cast<std::uint32_t>(result.valid);
    header.dropped_count = static_cast<std::uint32_t>(result.dropped);
    header.flags = 0;
    buffer.seal();
    return result;
}

void DropMonitor::record(const sim::GenerateResult& result, double prior_width) {
    if (result.dropped > 0 && dropped_ == 0) {
        example_ = result.first_dropped;
        example_width_ = prior_width;
    }
    simulated_ += static_cast<std::uint64_t>(result.valid + result.dropped);
    dropped_ += static_cast<std::uint64_t>(result.dropped);
    if (simulated_ < kMinimumSamples) return;
    const double share = static_cast<double>(dropped_) / static_cast<double>(simulated_);
    if (share <= config_.max_dropped_fraction) return;
    sim::SampleStream rng(config_.seed, sim::Purpose::train, example_);
    char text[256];
    std::snprintf(text, sizeof text,
                  "%.1f%% of %llu simulated samples were dropped (non-finite or negative values, or "
                  "the simulator threw), more than sim.max_dropped_fraction = %g; ",
                  100.0 * share, static_cast<unsigned long long>(simulated_), config_.max_dropped_fraction);
    throw std::runtime_error(std::string(text) + "for example sample " + std::to_string(example_) + ": " +
                             task_.describe_sample(rng, example_width_) +
                             ". Narrow the priors (prior.NAME) or choose targets defined everywhere");
}

SimulatorWorker::SimulatorWorker(const Communicators& comms, const RankLayout& layout, const sim::Task& task,
                                 const StreamConfig& config, const std::vector<ResumePoint>& resume)
    : comms_(comms), task_(task), config_(config), trainers_(layout.trainers()), drops_(task, config_) {
    const sim::SampleLayout& sample = task.layout();
    for (const Lane& lane : layout.lanes_of(comms.world_rank())) {
        LaneState state;
        state.lane = lane;
        if (!resume.empty()) state.resume = resume.at(static_cast<std::size_t>(lane.trainer_index));
        state.next_local_batch = state.resume.next_needed(0, lane.feeder_slot, lane.feeder_count);
        for (int i = 0; i < config.credits; ++i) {
            state.buffers.emplace_back(config.batch_size, sample.n_inputs, sample.n_targets());
            state.free_buffers.push_back(i);
        }
        lanes_.push_back(std::move(state));
    }
    if (lanes_.empty()) {
        finished_ = true;
        return;
    }
    comm::check_mpi(MPI_Irecv(&incoming_stage_, sizeof incoming_stage_, MPI_BYTE, RankLayout::coordinator_rank(),
                              comm::kTagScheduleStage, comms.control(), &stage_request_),
                    "MPI_Irecv(schedule stage)");
    comm::check_mpi(MPI_Irecv(&incoming_stop_, sizeof incoming_stop_, MPI_BYTE, MPI_ANY_SOURCE, comm::kTagLaneStop,
                              comms.data(), &stop_request_),
                    "MPI_Irecv(lane stop)");
}

SimulatorWorker::~SimulatorWorker() {
    // Outstanding control receives are cancelled; nothing else can be pending once
    // every lane has finished. (After an error the job is aborted instead.)
    for (MPI_Request* request : {&stage_request_, &stop_request_}) {
        comm::cancel(*request, "MPI_Cancel(simulator control receive)");
    }
}

bool SimulatorWorker::receive_control() {
    bool any = false;
    for (;;) {
        int arrived = 0;
        comm::check_mpi(MPI_Test(&stage_request_, &arrived, MPI_STATUS_IGNORE), "MPI_Test(schedule stage)");
        if (!arrived) break;
        stages_.add(incoming_stage_);
        any = true;
        comm::check_mpi(MPI_Irecv(&incoming_stage_, sizeof incoming_stage_, MPI_BYTE, RankLayout::coordinator_rank(),
                                  comm::kTagScheduleStage, comms_.control(), &stage_request_),
                        "MPI_Irecv(schedule stage)");
    }
    for (;;) {
        int arrived = 0;
        comm::check_mpi(MPI_Test(&stop_request_, &arrived, MPI_STATUS_IGNORE), "MPI_Test(lane stop)");
        if (!arrived) break;
        for (LaneState& lane : lanes_) {
            if (lane.lane.trainer_index == incoming_stop_.trainer_index) lane.stop_requested = true;
        }
        any = true;
        if (std::all_of(lanes_.begin(), lanes_.end(), [](const LaneState& l) { return l.stop_requested; })) {
            break;  // no further stops can come; the receive is not re-posted
        }
        comm::check_mpi(MPI_Irecv(&incoming_stop_, sizeof incoming_stop_, MPI_BYTE, MPI_ANY_SOURCE, comm::kTagLaneStop,
                                  comms_.data(), &stop_request_),
                        "MPI_Irecv(lane stop)");
    }
    return any;
}

bool SimulatorWorker::retire_sends(LaneState& lane) {
    bool any = false;
    // Sends on one lane match in order (MPI non-overtaking), so only the front can be done.
    while (!lane.in_flight.empty()) {
        int done = 0;
        comm::check_mpi(MPI_Test(&lane.in_flight.front().request, &done, MPI_STATUS_IGNORE), "MPI_Test(batch send)");
        if (!done) break;
        lane.free_buffers.push_back(lane.in_flight.front().buffer);
        lane.in_flight.pop_front();
        any = true;
    }
    return any;
}

bool SimulatorWorker::produce(LaneState& lane) {
    if (lane.stop_requested || lane.free_buffers.empty()) return false;
    const std::uint64_t batch_index =
        global_batch_index(config_.batch_origin, trainers_, lane.lane.trainer_index, lane.next_local_batch);
    const comm::ScheduleStage* stage = stages_.find(batch_index);
    if (stage == nullptr) return false;  // the coordinator has not published this batch's prior yet

    const int buffer_id = lane.free_buffers.back();
    lane.free_buffers.pop_back();
    BatchBuffer& buffer = lane.buffers[static_cast<std::size_t>(buffer_id)];
    drops_.record(fill_batch(task_, config_, batch_index, *stage, buffer), stage->width);

    MPI_Request request;
    comm::check_mpi(MPI_Issend(buffer.data(), buffer.size_bytes(), MPI_BYTE, lane.lane.trainer_rank, comm::kTagBatch,
                               comms_.data(), &request),
                    "MPI_Issend(batch)");
    lane.in_flight.push_back({buffer_id, request});
    lane.next_local_batch =
        lane.resume.next_needed(lane.next_local_batch + 1, lane.lane.feeder_slot, lane.lane.feeder_count);
    return true;
}

bool SimulatorWorker::finish_lane(LaneState& lane) {
    if (lane.done || !lane.stop_requested) return false;
    if (!lane.end_sent) {
        // The end marker follows every data message on this lane (non-overtaking), so
        // the draining trainer knows nothing more will come from us.
        lane.end_header = BatchHeader{};
        lane.end_header.flags = kEndOfStream;
        comm::check_mpi(MPI_Issend(&lane.end_header, sizeof lane.end_header, MPI_BYTE, lane.lane.trainer_rank,
                                   comm::kTagBatch, comms_.data(), &lane.end_request),
                        "MPI_Issend(end of stream)");
        lane.end_sent = true;
        return true;
    }
    if (!lane.in_flight.empty()) return false;
    int done = 0;
    comm::check_mpi(MPI_Test(&lane.end_request, &done, MPI_STATUS_IGNORE), "MPI_Test(end of stream)");
    if (done) lane.done = true;
    return done != 0;
}

bool SimulatorWorker::poll() {
    if (finished_) return false;
    bool any = receive_control();
    for (LaneState& lane : lanes_) {
        any |= retire_sends(lane);
        any |= finish_lane(lane);
    }
    // Round-robin over lanes, one batch per poll, so control stays responsive.
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        LaneState& lane = lanes_[(next_lane_ + i) % lanes_.size()];
        if (produce(lane)) {
            next_lane_ = (next_lane_ + i + 1) % lanes_.size();
            any = true;
            break;
        }
    }
    finished_ = std::all_of(lanes_.begin(), lanes_.end(), [](const LaneState& l) { return l.done; });
    return any;
}

}  // namespace sgnn::stream
