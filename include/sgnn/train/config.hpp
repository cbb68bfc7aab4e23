// Plain settings of the training module. Their defaults are the defaults of the
// model.*, train.* and eval.* options (train/options.hpp); the run fills them in.
#pragma once

#include <cstdint>
#include <string>

namespace sgnn::train {

struct ModelConfig {
    std::string type = "mlp";  // mlp: residual MLP; cnn: 1-D convolutional network
    int hidden = 128;          // width of the MLP blocks and of the embedding
    int blocks = 3;            // residual blocks (mlp)
    int channels = 16;         // first convolution's channels (cnn)
    int kernel = 5;            // convolution kernel width (cnn)
    int input_channels = 1;    // series per sample, one after the other in the input (from the task)
    // What the network gives for the targets (train/density.hpp): "mean" the posterior
    // mean, trained by squared error; "flow" or "mixture" the full posterior density,
    // trained by its negative log-likelihood.
    std::string head = "mean";
    int flow_transforms = 5;  // flow: autoregressive spline layers
    int flow_hidden = 64;     // flow: hidden units of each layer's MADE network
    int flow_bins = 8;        // flow: spline bins per dimension
    int components = 8;       // mixture: Gaussian components
};

struct OptimizerConfig {
    double learning_rate = 1e-3;
    double min_learning_rate = 1e-5;
    std::int64_t warmup_steps = 100;
    double weight_decay = 1e-4;
    double grad_clip = 1.0;  // max global gradient norm; 0 disables clipping
    double bucket_mb = 1.0;  // gradient allreduce bucket cap
};

struct TrainConfig {
    ModelConfig model;
    OptimizerConfig optimizer;
    std::int64_t steps = 2000;
    int batch_size = 256;
    std::uint64_t seed = 1;
    int threads = 1;  // LibTorch intra-op threads per trainer
    std::string device = "cpu";
    std::int64_t eval_every = 200;
    int eval_samples = 2048;
    int calibration_draws = 100;        // density heads: posterior draws per held-out sample
    double class_weight = 1.0;          // cross-entropy weight against the squared error (mixtures)
    int norm_samples = 2048;            // samples used to standardize inputs and targets
    std::string model_path;             // model.h5 to write at the end; empty: none
    std::string out_dir;                // checkpoints go to out_dir/checkpoints; empty: no checkpoints
    std::int64_t checkpoint_every = 0;  // steps between checkpoints; 0: only on request
    double report_interval = 0.2;
    double debug_step_delay_ms = 0.0;    // test-only: slows every step
    std::int64_t debug_poison_step = 0;  // test-only: NaN inputs at this step (a non-finite loss)
};

// Learning rate at `step`: linear warmup, then cosine decay to the minimum.
double learning_rate_at(const OptimizerConfig& config, std::int64_t step, std::int64_t total_steps);

}  // namespace sgnn::train
