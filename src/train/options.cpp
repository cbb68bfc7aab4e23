#include "sgnn/train/options.hpp"

#include "models.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/error.hpp"
#include "target_transforms.hpp"

#include <torch/torch.h>

#include <string>

namespace sgnn::train {

std::vector<config::OptionSpec> train_options() {
    using config::default_text;
    using Type = config::OptionSpec::Type;
    const TrainConfig train;
    return {
        {"model.type",
         Type::choice,
         default_text(train.model.type),
         "network: mlp = residual MLP, cnn = 1-D convolutional network",
         0,
         0,
         {"mlp", "cnn"}},
        {"model.hidden", Type::integer, default_text(train.model.hidden), "width of hidden layers and of the embedding",
         1, 65536},
        {"model.blocks", Type::integer, default_text(train.model.blocks), "residual blocks (mlp)", 0, 64},
        {"model.channels", Type::integer, default_text(train.model.channels), "channels of the first convolution (cnn)",
         1, 4096},
        {"model.kernel", Type::integer, default_text(train.model.kernel), "convolution kernel width in days, odd (cnn)",
         1, 63},
        {"model.head",
         Type::choice,
         default_text(train.model.head),
         "what the network returns for the targets: mean = the posterior mean E[target | data], trained by squared "
         "error; flow = the full posterior, a conditional normalizing flow (masked autoregressive rational-quadratic "
         "splines); mixture = the full posterior as a mixture of Gaussians (cheaper, for few targets). flow and "
         "mixture are trained by the negative log-density and give posterior draws (sgnn predict); each target is "
         "modelled after a transform chosen from its prior (log for lognormal, logit for uniform and loguniform "
         "intervals), so every draw lies inside the prior's support",
         0,
         0,
         {"mean", "flow", "mixture"}},
        {"model.flow_transforms", Type::integer, default_text(train.model.flow_transforms),
         "flow: autoregressive spline layers", 1, 32},
        {"model.flow_hidden", Type::integer, default_text(train.model.flow_hidden),
         "flow: hidden units of each layer's masked (MADE) network", 2, 4096},
        {"model.flow_bins", Type::integer, default_text(train.model.flow_bins),
         "flow: rational-quadratic spline bins per target", 2, 64},
        {"model.components", Type::integer, default_text(train.model.components),
         "mixture: Gaussian components, each with a full covariance", 1, 64},

        {"train.steps", Type::integer, default_text(train.steps),
         "optimizer steps; each consumes trainers x batch_size samples", 1, 1e9},
        {"train.lr", Type::real, default_text(train.optimizer.learning_rate), "peak AdamW learning rate", 1e-8, 10},
        {"train.lr_min", Type::real, default_text(train.optimizer.min_learning_rate),
         "learning rate at the end of the cosine decay", 0, 10},
        {"train.warmup_steps", Type::integer, default_text(train.optimizer.warmup_steps),
         "steps of linear learning-rate warmup", 0, 1e9},
        {"train.weight_decay", Type::real, default_text(train.optimizer.weight_decay), "AdamW decoupled weight decay",
         0, 10},
        {"train.grad_clip", Type::real, default_text(train.optimizer.grad_clip),
         "maximum global gradient norm; 0 disables clipping", 0, 1e6},
        {"train.bucket_mb", Type::real, default_text(train.optimizer.bucket_mb),
         "gradient allreduce bucket size in MiB", 0.001, 4096},
        {"train.threads", Type::integer, default_text(train.threads), "LibTorch threads per trainer rank", 1, 256},
        {"train.class_weight", Type::real, default_text(train.class_weight),
         "mixtures with the target 'mechanism': weight of the cross-entropy against the squared error", 0, 1e6},

        {"eval.every", Type::integer, default_text(train.eval_every),
         "evaluate on the held-out set every N steps (and at the end)", 1, 1e9},
        {"eval.samples", Type::integer, default_text(train.eval_samples),
         "held-out samples, from their own random stream (never trained on)", 2, 1e7},
        {"calibration.draws", Type::integer, default_text(train.calibration_draws),
         "flow and mixture heads: posterior draws per held-out sample at each evaluation, for simulation-based "
         "calibration (each truth's rank among its draws: coverage of central 50/80/90/95% intervals and a test of "
         "uniform ranks per target, in metrics.csv, summary.json and calibration.png) and for the point estimate "
         "scored by R2 and RMSE (the draws' mean)",
         2, 100000},
    };
}

void read_train_options(const config::OptionReader& v, TrainConfig& t) {
    t.model.type = v.choice("model.type");
    t.model.hidden = v.small_integer("model.hidden");
    t.model.blocks = v.small_integer("model.blocks");
    t.model.channels = v.small_integer("model.channels");
    t.model.kernel = v.small_integer("model.kernel");
    if (t.model.kernel % 2 == 0) v.fail("model.kernel", "must be odd, so that convolutions keep the series length");
    t.model.head = v.choice("model.head");
    t.model.flow_transforms = v.small_integer("model.flow_transforms");
    t.model.flow_hidden = v.small_integer("model.flow_hidden");
    t.model.flow_bins = v.small_integer("model.flow_bins");
    t.model.components = v.small_integer("model.components");
    t.calibration_draws = v.small_integer("calibration.draws");
    t.steps = v.integer("train.steps");
    t.threads = v.small_integer("train.threads");
    t.class_weight = v.number("train.class_weight");
    t.optimizer.learning_rate = v.number("train.lr");
    t.optimizer.min_learning_rate = v.number("train.lr_min");
    if (t.optimizer.min_learning_rate > t.optimizer.learning_rate) {
        v.fail("train.lr_min", "must not exceed train.lr (" + v.text("train.lr") + ")");
    }
    t.optimizer.warmup_steps = v.integer("train.warmup_steps");
    t.optimizer.weight_decay = v.number("train.weight_decay");
    t.optimizer.grad_clip = v.number("train.grad_clip");
    t.optimizer.bucket_mb = v.number("train.bucket_mb");
    t.eval_every = v.integer("eval.every");
    t.eval_samples = v.small_integer("eval.samples");
}

void check_device(const std::string& device) {
    if (device == "cpu") return;
    if (device == "cuda") {
        if (!torch::cuda::is_available()) {
            throw ConfigError(
                "device = cuda: this LibTorch build sees no usable CUDA GPU (Debian's libtorch is "
                "CPU-only); use device = cpu or a CUDA-enabled LibTorch");
        }
        return;
    }
    throw ConfigError("device = '" + device + "': choose cpu or cuda");
}

void validate(const TrainConfig& config, const sim::SampleLayout& layout) {
    const int n_inputs = layout.n_inputs, n_targets = layout.n_targets(), n_classes = layout.n_classes();
    if (n_targets > comm::kMaxTargets) {
        throw ConfigError("sim.targets: at most " + std::to_string(comm::kMaxTargets) + " targets");
    }
    if (n_classes > comm::kMaxClasses) {
        throw ConfigError("sim.mixture: at most " + std::to_string(comm::kMaxClasses) + " mechanisms to classify");
    }
    check_device(config.device);
    target_transforms(config.model, layout);  // throws for a head that does not fit the targets
    const bool density = config.model.head != "mean";
    make_network(config.model, n_inputs, (density ? 0 : n_targets) + n_classes, density ? n_targets : 0);
}

}  // namespace sgnn::train
