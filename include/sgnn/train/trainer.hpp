// The trainer role (run/role.hpp's poll/finished). Torch stays behind this interface
// (pimpl) so that the rest of sgnn compiles without LibTorch headers. It depends on the
// protocol (comm/protocol.hpp) and the checkpoint schema, not on the coordinator.
#pragma once

#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/checkpoint/writer.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch_source.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/train/config.hpp"

#include <memory>

namespace sgnn::train {

class Trainer {
public:
    // `resume`: the checkpoint this run continues from, or nullptr.
    Trainer(const stream::Communicators& comms, const stream::RankLayout& layout, const sim::Task& task,
            const TrainConfig& config, stream::BatchSource& source, checkpoint::Writer& checkpoints,
            const checkpoint::Contents* resume = nullptr);
    ~Trainer();

    // One training step (waiting for its batch), then a checkpoint if one is due or was
    // asked for; or the closing sequence after the last step: final evaluation,
    // model.h5, final report, draining the feeders.
    bool poll();
    bool finished() const;
    // Whether the run stopped early on a signal (after writing a checkpoint).
    bool stopped_on_signal() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sgnn::train
