// The training loss, apart from the network and the optimizer. Private to the train
// module (LibTorch).
#pragma once

#include <torch/torch.h>

namespace sgnn::train {

// The network's outputs are n_targets standardized regression outputs, then
// n_classes logits when the task classifies mechanisms (sim/mixture.hpp).
struct LossSpec {
    int n_targets = 0;
    int n_classes = 0;
    double class_weight = 1.0;  // weight of the cross-entropy against the squared error
    int n_outputs() const { return n_targets + n_classes; }
};

// Per-sample loss: squared error summed over the targets the sample has, divided by
// n_targets (a NaN target, one the sample's mechanism lacks, is masked out), plus
// class_weight x the cross-entropy of the logits against the label. With squared
// error the network converges to E[target | data] where the target exists; with the
// cross-entropy, to P(mechanism | data).
torch::Tensor per_sample_loss(const torch::Tensor& outputs, const torch::Tensor& targets, const torch::Tensor& labels,
                              const LossSpec& spec);

}  // namespace sgnn::train
