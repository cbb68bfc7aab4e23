// Networks (LibTorch). Private to the train module.
#pragma once

#include "sgnn/train/config.hpp"

#include <torch/torch.h>

#include <memory>

namespace sgnn::train {

// Every network is an embedding followed by a linear head; the embedding (the
// penultimate layer) is what back-to-simulation attribution searches in.
class Network : public torch::nn::Module {
public:
    virtual torch::Tensor embed(const torch::Tensor& inputs) = 0;
    torch::Tensor forward(const torch::Tensor& inputs) { return head_->forward(embed(inputs)); }

protected:
    torch::nn::Linear head_{nullptr};
};

// Builds the network named by config.type; throws ConfigError otherwise.
std::shared_ptr<Network> make_network(const ModelConfig& config, int n_inputs, int n_outputs);

}  // namespace sgnn::train
