// The trainer role. Torch stays behind this interface (pimpl) so that the rest of
// sgnn compiles without LibTorch headers.
#pragma once

#include "sgnn/coord/checkpoint.hpp"
#include "sgnn/coord/checkpoint_writer.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch_source.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/train/config.hpp"

#include <memory>
#include <string>

namespace sgnn::train {

class Trainer {
public:
    // `resume`: the checkpoint this run continues from, or nullptr.
    Trainer(const stream::Communicators& comms, const stream::RankLayout& layout, const sim::Task& task,
            const TrainConfig& config, stream::BatchSource& source, coord::CheckpointWriter& checkpoints,
            const coord::CheckpointContents* resume = nullptr);
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

// Throws ConfigError if `device` cannot be used by this LibTorch build.
void check_device(const std::string& device);
// Everything about the training settings that can be checked before ranks start
// talking (device, network shape); throws ConfigError naming the key.
void validate(const TrainConfig& config, int n_inputs, int n_targets, int n_classes);

}  // namespace sgnn::train
