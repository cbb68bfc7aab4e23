// The training loss, apart from the network and the optimizer. Private to the train
// module (LibTorch).
#pragma once

#include "models.hpp"

#include <torch/torch.h>

namespace sgnn::train {

// With the mean head the network's linear outputs are n_targets standardized
// regression outputs, then n_classes logits when the task classifies mechanisms
// (sim/mixture.hpp); with a density head the targets are the density head's and the
// linear outputs are the logits only.
struct LossSpec {
    int n_targets = 0;
    int n_classes = 0;
    bool density = false;       // model.head = flow or mixture
    double class_weight = 1.0;  // weight of the cross-entropy against the target term
    int n_outputs() const { return (density ? 0 : n_targets) + n_classes; }
    int n_density() const { return density ? n_targets : 0; }
};

// Per-sample loss of `network` on standardized inputs and targets.
// Mean head: squared error summed over the targets the sample has, divided by
// n_targets (a NaN target, one the sample's mechanism lacks, is masked out): the
// network converges to E[target | data] where the target exists.
// Density head: the negative log-density of the standardized, transformed targets
// -log p(u | data) (a proper scoring rule: the head converges to the posterior).
// Either way plus class_weight x the cross-entropy of the logits against the label
// (the classifier converges to P(mechanism | data)).
torch::Tensor per_sample_loss(Network& network, const torch::Tensor& inputs, const torch::Tensor& targets,
                              const torch::Tensor& labels, const LossSpec& spec);

}  // namespace sgnn::train
