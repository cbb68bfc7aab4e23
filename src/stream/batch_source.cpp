#include "sgnn/stream/batch_source.hpp"

#include "sgnn/clock.hpp"

#include "sgnn/comm/backoff.hpp"
#include "sgnn/error.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace sgnn::stream {

ResumePoint StreamState::resume_point(const StreamConfig& config, int trainers, int trainer_index) const {
    ResumePoint point;
    point.watermark = watermark;
    point.skip = consumed_above;
    for (const BatchBuffer& batch : buffered) {
        point.skip.push_back(
            (batch.header().batch_index - config.batch_origin - static_cast<std::uint64_t>(trainer_index)) /
            static_cast<std::uint64_t>(trainers));
    }
    std::sort(point.skip.begin(), point.skip.end());
    return point;
}

BatchSource::BatchSource(const StreamConfig& config, int trainer_index, int trainers, StreamState resume)
    : config_(config),
      trainer_index_(trainer_index),
      trainers_(trainers),
      resume_(resume.resume_point(config, trainers, trainer_index)),
      stats_(resume.stats),
      consumed_(resume.watermark, resume.consumed_above) {
    for (BatchBuffer& batch : resume.buffered) {
        const std::uint64_t local = local_of(batch.header().batch_index);
        restored_[local] = std::make_unique<BatchBuffer>(std::move(batch));
    }
}

std::uint64_t BatchSource::local_of(std::uint64_t global_batch) const {
    return (global_batch - config_.batch_origin - static_cast<std::uint64_t>(trainer_index_)) /
           static_cast<std::uint64_t>(trainers_);
}

const BatchBuffer& BatchSource::acquire() {
    const BatchBuffer* batch = nullptr;
    if (!restored_.empty()) {
        // Deterministic mode keeps index order; fast mode trains the restored ones first.
        const auto it = config_.deterministic ? restored_.find(consumed_.watermark()) : restored_.begin();
        if (it != restored_.end()) {
            held_restored_ = std::move(it->second);
            restored_.erase(it);
            batch = held_restored_.get();
        }
    }
    if (batch == nullptr) batch = &acquire_new(consumed_.watermark());
    const BatchHeader& header = batch->header();
    consumed_.mark(local_of(header.batch_index));
    ++stats_.batches;
    stats_.samples += header.sample_count;
    stats_.dropped += header.dropped_count;
    stats_.schedule_version = header.schedule_version;
    return *batch;
}

void BatchSource::release() {
    if (held_restored_) {
        held_restored_.reset();
    } else {
        release_new();
    }
}

StreamState BatchSource::snapshot() {
    StreamState state;
    state.watermark = consumed_.watermark();
    state.consumed_above = consumed_.above();
    for (const auto& [local, batch] : restored_) state.buffered.push_back(*batch);
    for (const BatchBuffer* batch : received()) state.buffered.push_back(*batch);
    state.stats = stats_;
    return state;
}

StreamedBatchSource::StreamedBatchSource(const Communicators& comms, const RankLayout& layout, const sim::Task& task,
                                         const StreamConfig& config, StreamState resume)
    : BatchSource(config, layout.trainer_index(comms.world_rank()), layout.trainers(), std::move(resume)),
      comms_(comms) {
    const sim::SampleLayout& sample = task.layout();
    for (int rank : layout.feeders_of(trainer_index_)) {
        Feeder feeder;
        feeder.rank = rank;
        for (int i = 0; i < config.credits; ++i) {
            feeder.buffers.emplace_back(config.batch_size, sample.n_inputs, sample.n_targets());
        }
        feeder.requests.assign(static_cast<std::size_t>(config.credits), MPI_REQUEST_NULL);
        feeders_.push_back(std::move(feeder));
    }
    if (feeders_.empty()) throw std::logic_error("trainer without feeders");
    // The credits: every posted receive is a slot a feeder may fill.
    for (Feeder& feeder : feeders_) {
        for (int i = 0; i < config.credits; ++i) post(feeder, i);
    }
}

StreamedBatchSource::~StreamedBatchSource() {
    // Normally finish() has retired everything; this only runs on an error path where
    // the job is being aborted, so requests are left to MPI_Abort.
}

void StreamedBatchSource::post(Feeder& feeder, int slot) {
    BatchBuffer& buffer = feeder.buffers[static_cast<std::size_t>(slot)];
    comm::check_mpi(MPI_Irecv(buffer.data(), buffer.size_bytes(), MPI_BYTE, feeder.rank, comm::kTagBatch, comms_.data(),
                              &feeder.requests[static_cast<std::size_t>(slot)]),
                    "MPI_Irecv(batch)");
    feeder.posted.push_back(slot);
}

bool StreamedBatchSource::front_ready(Feeder& feeder) {
    if (feeder.posted.empty()) return false;
    MPI_Request& request = feeder.requests[static_cast<std::size_t>(feeder.posted.front())];
    if (request == MPI_REQUEST_NULL) return true;  // completed by an earlier test
    int done = 0;
    comm::check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test(batch receive)");
    return done != 0;
}

int StreamedBatchSource::count_buffered() {
    int buffered = 0;
    for (Feeder& feeder : feeders_) {
        for (int slot : feeder.posted) {
            MPI_Request& request = feeder.requests[static_cast<std::size_t>(slot)];
            int done = request == MPI_REQUEST_NULL;
            if (!done) comm::check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test(batch receive)");
            buffered += done;
        }
    }
    return buffered;
}

const BatchBuffer& StreamedBatchSource::acquire_new(std::uint64_t expected_local) {
    const auto start = std::chrono::steady_clock::now();
    const int n_feeders = static_cast<int>(feeders_.size());
    comm::Backoff backoff;
    int chosen = -1;
    while (chosen < 0) {
        if (config_.deterministic) {
            // Fixed order: local batch k comes from feeder k mod F, whatever arrives first.
            const int f = static_cast<int>(expected_local % static_cast<std::uint64_t>(n_feeders));
            if (front_ready(feeders_[static_cast<std::size_t>(f)])) chosen = f;
        } else {
            for (int i = 0; i < n_feeders; ++i) {
                const int f = (next_feeder_ + i) % n_feeders;
                if (front_ready(feeders_[static_cast<std::size_t>(f)])) {
                    chosen = f;
                    next_feeder_ = (f + 1) % n_feeders;
                    break;
                }
            }
        }
        if (chosen < 0) backoff.idle();
    }
    stats_.wait_seconds += seconds_since(start);
    stats_.max_buffered_batches = std::max(stats_.max_buffered_batches, count_buffered());

    Feeder& feeder = feeders_[static_cast<std::size_t>(chosen)];
    held_feeder_ = chosen;
    held_slot_ = feeder.posted.front();
    feeder.posted.pop_front();
    const BatchBuffer& batch = feeder.buffers[static_cast<std::size_t>(held_slot_)];
    const BatchHeader& header = batch.header();
    if (header.flags & kEndOfStream) {
        throw PeerError("simulator rank " + std::to_string(feeder.rank) + " ended its stream before training finished");
    }
    if (!batch.checksum_ok()) {
        throw PeerError("batch " + std::to_string(header.batch_index) + " from simulator rank " +
                        std::to_string(feeder.rank) + " failed its checksum");
    }
    const std::uint64_t expected = global_batch_index(config_.batch_origin, trainers_, trainer_index_, expected_local);
    if (config_.deterministic && header.batch_index != expected) {
        throw PeerError("deterministic stream out of order: expected batch " + std::to_string(expected) +
                        " from simulator rank " + std::to_string(feeder.rank) + ", got " +
                        std::to_string(header.batch_index));
    }
    return batch;
}

std::vector<const BatchBuffer*> StreamedBatchSource::received() {
    std::vector<const BatchBuffer*> batches;
    for (Feeder& feeder : feeders_) {
        // Receives complete in posting order, so the completed ones are a prefix.
        for (int slot : feeder.posted) {
            MPI_Request& request = feeder.requests[static_cast<std::size_t>(slot)];
            int done = request == MPI_REQUEST_NULL;
            if (!done) comm::check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test(batch receive)");
            if (!done) break;
            batches.push_back(&feeder.buffers[static_cast<std::size_t>(slot)]);
        }
    }
    return batches;
}

void StreamedBatchSource::release_new() {
    if (held_feeder_ < 0) return;
    // Re-posting the slot is the credit going back to the feeder.
    post(feeders_[static_cast<std::size_t>(held_feeder_)], held_slot_);
    held_feeder_ = -1;
    held_slot_ = -1;
}

void StreamedBatchSource::finish() {
    BatchSource::release();
    std::vector<MPI_Request> stop_requests(feeders_.size(), MPI_REQUEST_NULL);
    std::vector<comm::LaneStop> stops(feeders_.size(), comm::LaneStop{trainer_index_, 0});
    for (std::size_t f = 0; f < feeders_.size(); ++f) {
        comm::check_mpi(MPI_Isend(&stops[f], sizeof(comm::LaneStop), MPI_BYTE, feeders_[f].rank, comm::kTagLaneStop,
                                  comms_.data(), &stop_requests[f]),
                        "MPI_Isend(lane stop)");
    }
    // Drain: keep accepting (and discarding) batches until each feeder's end marker.
    comm::Backoff backoff;
    for (;;) {
        bool progressed = false;
        bool all_ended = true;
        for (Feeder& feeder : feeders_) {
            if (feeder.ended) continue;
            all_ended = false;
            if (!front_ready(feeder)) continue;
            progressed = true;
            const int slot = feeder.posted.front();
            feeder.posted.pop_front();
            if (feeder.buffers[static_cast<std::size_t>(slot)].header().flags & kEndOfStream) {
                feeder.ended = true;
                for (int open_slot : feeder.posted) {
                    comm::cancel(feeder.requests[static_cast<std::size_t>(open_slot)], "MPI_Cancel(batch receive)");
                }
                feeder.posted.clear();
            } else {
                post(feeder, slot);
            }
        }
        const bool stops_done = comm::test_all(stop_requests, "MPI_Testall(lane stop)");
        if (all_ended && stops_done) return;
        if (progressed) {
            backoff.reset();
        } else {
            backoff.idle();
        }
    }
}

InlineBatchSource::InlineBatchSource(const sim::Task& task, const StreamConfig& config, int trainer_index, int trainers,
                                     std::function<comm::ScheduleStage(std::uint64_t)> stage_for, StreamState resume)
    : BatchSource(config, trainer_index, trainers, std::move(resume)),
      task_(task),
      stage_for_(std::move(stage_for)),
      drops_(task, config_),
      buffer_(config.batch_size, task.layout().n_inputs, task.layout().n_targets()) {}

const BatchBuffer& InlineBatchSource::acquire_new(std::uint64_t) {
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t local = resume_.next_needed(next_local_);
    next_local_ = local + 1;
    const std::uint64_t batch_index = global_batch_index(config_.batch_origin, trainers_, trainer_index_, local);
    const comm::ScheduleStage stage = stage_for_(batch_index);
    drops_.record(fill_batch(task_, config_, batch_index, stage, buffer_), stage.width);
    // Time spent simulating is time the trainer does not train: it counts as waiting.
    stats_.wait_seconds += seconds_since(start);
    stats_.max_buffered_batches = 1;
    return buffer_;
}

}  // namespace sgnn::stream
