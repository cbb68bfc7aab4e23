#include "models.hpp"

#include "sgnn/error.hpp"

#include <stdexcept>
#include <string>

namespace sgnn::train {
namespace {

namespace nn = torch::nn;

// Pre-norm residual block: x + W2 gelu(W1 LayerNorm(x)). No batch statistics, so a
// sample's output never depends on the rest of its batch (data-parallel exactness).
class ResidualBlock : public nn::Module {
public:
    explicit ResidualBlock(int width)
        : norm_(register_module("norm", nn::LayerNorm(nn::LayerNormOptions({width})))),
          fc1_(register_module("fc1", nn::Linear(width, width))),
          fc2_(register_module("fc2", nn::Linear(width, width))) {}

    torch::Tensor forward(const torch::Tensor& x) {
        return x + fc2_->forward(torch::gelu(fc1_->forward(norm_->forward(x))));
    }

private:
    nn::LayerNorm norm_;
    nn::Linear fc1_, fc2_;
};

class ResidualMlp final : public Network {
public:
    ResidualMlp(const ModelConfig& config, int n_inputs, int n_outputs, int n_density)
        : input_(register_module("input", nn::Linear(n_inputs, config.hidden))),
          blocks_(register_module("blocks", nn::ModuleList())),
          out_norm_(register_module("out_norm", nn::LayerNorm(nn::LayerNormOptions({config.hidden})))) {
        for (int b = 0; b < config.blocks; ++b) blocks_->push_back(std::make_shared<ResidualBlock>(config.hidden));
        add_heads(config, config.hidden, n_outputs, n_density);
    }

    torch::Tensor embed(const torch::Tensor& inputs) override {
        torch::Tensor h = input_->forward(inputs);
        for (const auto& block : *blocks_) h = block->as<ResidualBlock>()->forward(h);
        return out_norm_->forward(h);
    }

private:
    nn::Linear input_;
    nn::ModuleList blocks_;
    nn::LayerNorm out_norm_;
};

// Three same-padded convolutions (two followed by 2x max pooling), flattened so that
// timing (when the peak comes) survives, then a dense embedding layer. A sample with
// several series (prey, predators) enters as that many input channels.
class Cnn1d final : public Network {
public:
    Cnn1d(const ModelConfig& config, int n_inputs, int n_outputs, int n_density)
        : input_channels_(config.input_channels) {
        const int c = config.channels, k = config.kernel, pad = config.kernel / 2;
        if (input_channels_ < 1 || n_inputs % input_channels_ != 0) {
            throw std::logic_error("cnn: " + std::to_string(n_inputs) + " inputs do not split into " +
                                   std::to_string(input_channels_) + " channels");
        }
        n_inputs /= input_channels_;  // the length of each series
        conv1_ = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(input_channels_, c, k).padding(pad)));
        conv2_ = register_module("conv2", nn::Conv1d(nn::Conv1dOptions(c, 2 * c, k).padding(pad)));
        conv3_ = register_module("conv3", nn::Conv1d(nn::Conv1dOptions(2 * c, 2 * c, k).padding(pad)));
        // Same padding keeps the length for odd kernels; pooling halves it twice.
        const int length = ((n_inputs + 2 * pad - k + 1) / 2 + 2 * pad - k + 1) / 2 + 2 * pad - k + 1;
        if (length < 1) {
            throw ConfigError("model.kernel = " + std::to_string(k) + ": too wide for " + std::to_string(n_inputs) +
                              " input days");
        }
        dense_ = register_module("dense", nn::Linear(2 * c * length, config.hidden));
        norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({config.hidden})));
        add_heads(config, config.hidden, n_outputs, n_density);
    }

    torch::Tensor embed(const torch::Tensor& inputs) override {
        torch::Tensor h = inputs.view({inputs.size(0), input_channels_, -1});
        h = torch::max_pool1d(torch::gelu(conv1_->forward(h)), 2);
        h = torch::max_pool1d(torch::gelu(conv2_->forward(h)), 2);
        h = torch::gelu(conv3_->forward(h)).flatten(1);
        return norm_->forward(torch::gelu(dense_->forward(h)));
    }

private:
    int input_channels_;
    nn::Conv1d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
    nn::Linear dense_{nullptr};
    nn::LayerNorm norm_{nullptr};
};

}  // namespace

std::shared_ptr<Network> make_network(const ModelConfig& config, int n_inputs, int n_outputs, int n_density) {
    if (config.type == "mlp") return std::make_shared<ResidualMlp>(config, n_inputs, n_outputs, n_density);
    if (config.type == "cnn") return std::make_shared<Cnn1d>(config, n_inputs, n_outputs, n_density);
    throw ConfigError("model.type = '" + config.type + "': unknown model; choose mlp or cnn");
}

}  // namespace sgnn::train
