// Held-out evaluation. Private to the train module.
//
// Each trainer holds its shard of the `eval` stream (samples lo..hi-1 of eval.samples,
// split evenly over trainers) and computes sums over it that add up across trainers:
// per target the count, squared error, sum and sum of squares; the cross-entropy and
// confusion counts of the mechanism classifier. The trainer adds them up over the
// trainer communicator in one reduction, together with its own counters, and
// fill_report() turns the totals into R^2, RMSE, loss and accuracy. With a density
// head the point estimate is the mean of calibration.draws posterior draws, the loss
// is the mean negative log-density of the held-out targets, and the draws calibrate
// the head: each truth's rank among them (train/calibration.hpp) gives coverage of
// central intervals and a test of uniform ranks per target.
#pragma once

#include "learner.hpp"
#include "normalization.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/train/config.hpp"

#include <torch/torch.h>

#include <cstddef>
#include <vector>

namespace sgnn::train {

class HeldOutEvaluation {
public:
    // Simulates this trainer's shard; its inputs are standardized with `norm`, which
    // must outlive this object.
    HeldOutEvaluation(const sim::Task& task, const TrainConfig& config, int trainer_index, int trainers,
                      const Normalization& norm, torch::Device device);

    // This trainer's sums (size() values), to be added up over all trainers.
    std::vector<double> local_sums(Learner& learner) const;
    std::size_t size() const;
    // Sets the held-out fields of `report` (eval_r2, eval_rmse, eval_loss; for a
    // classifier eval_cross_entropy, eval_confusion, eval_accuracy; for a density head
    // the calibration fields) from the first size() values of `totals`, the sums over
    // all trainers.
    void fill_report(const std::vector<double>& totals, comm::TrainerReport& report) const;

private:
    const Normalization& norm_;
    std::uint64_t seed_;  // of the posterior draws, with this shard's first index
    int draws_;
    int n_targets_;
    int n_classes_;
    double class_weight_;
    torch::Tensor inputs_;                // standardized
    torch::Tensor targets_;               // raw, double; NaN where a sample's mechanism lacks a target
    torch::Tensor standardized_targets_;  // density heads: as the head sees them
    torch::Tensor labels_;                // mechanism indices
};

}  // namespace sgnn::train
