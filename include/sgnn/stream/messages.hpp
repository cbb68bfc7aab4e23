// Small fixed-size control messages and the tags that carry them. Batches and lane
// stops travel on the data communicator; schedule stages and trainer reports on the
// control communicator, so neither can be mistaken for the other.
#pragma once

#include <cstdint>

namespace sgnn::stream {

enum Tag : int {
    kTagBatch = 1,          // simulator -> trainer, data communicator
    kTagLaneStop = 2,       // trainer -> simulator, data communicator: "send no more"
    kTagScheduleStage = 3,  // coordinator -> simulator, control communicator
    kTagReport = 4,         // trainer 0 -> coordinator, control communicator
    kTagCheckpointRequest = 5,  // coordinator -> trainers, control communicator
    kTagStopSignal = 6,     // any rank -> coordinator, control communicator: "I got SIGTERM/SIGUSR1"
};

// What the coordinator asks of the trainers; they agree on the step that honours it.
enum RequestFlags : std::int32_t { kRequestCheckpoint = 1, kRequestStop = 2 };

struct CheckpointRequest {
    std::int32_t flags;   // RequestFlags
    std::int32_t signal;  // the signal behind a stop, or 0
    std::int32_t id;      // increasing; trainers serve each request once
    std::int32_t padding;
};

// A prior-schedule stage: batches first_batch .. valid_until-1 use `width`. The
// coordinator promises that no other stage applies to those batches, so a simulator
// may simulate a batch only once some published stage covers it.
struct ScheduleStage {
    std::uint64_t first_batch;
    std::uint64_t valid_until;
    double width;
    std::uint32_t version;
    std::uint32_t padding;
};

struct LaneStop {
    std::int32_t trainer_index;
    std::int32_t padding;
};

}  // namespace sgnn::stream
