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
