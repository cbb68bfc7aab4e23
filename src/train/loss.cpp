#include "loss.hpp"

namespace sgnn::train {

torch::Tensor per_sample_loss(Network& network, const torch::Tensor& inputs, const torch::Tensor& targets,
                              const torch::Tensor& labels, const LossSpec& spec) {
    const torch::Tensor embedding = network.embed(inputs);
    const torch::Tensor outputs = network.outputs(embedding);
    torch::Tensor loss = torch::zeros({inputs.size(0)}, outputs.options());
    if (spec.density) {
        loss = loss - network.density()->log_prob(targets, embedding);
    } else if (spec.n_targets > 0) {
        const torch::Tensor predicted = outputs.slice(1, 0, spec.n_targets);
        const torch::Tensor present = torch::isfinite(targets);
        // Zero the missing targets before subtracting: a NaN anywhere in the graph
        // would turn the masked gradient into NaN too.
        const torch::Tensor clean = torch::where(present, targets, torch::zeros_like(targets));
        const torch::Tensor squared = (predicted - clean).pow(2) * present.to(outputs.scalar_type());
        loss = loss + squared.sum(1) / static_cast<double>(spec.n_targets);
    }
    if (spec.n_classes > 0) {
        const std::int64_t first = spec.density ? 0 : spec.n_targets;
        const torch::Tensor logits = outputs.slice(1, first, first + spec.n_classes);
        loss = loss + spec.class_weight * torch::nn::functional::cross_entropy(
                                              logits, labels.to(torch::kLong),
                                              torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    }
    return loss;
}

}  // namespace sgnn::train
