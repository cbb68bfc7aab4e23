// Maps each target from its support under the priors to the real line, where a
// density head (train/density.hpp) models it. Private to the train module.
//
// The transform of a target is chosen from its support (sim::TargetSupport):
//   real        z = x                                  (derived quantities, normal priors)
//   positive    z = log x                              (lognormal priors)
//   interval    z = logit((x - a) / (b - a))           (uniform, truncnormal on [a, b])
//   log-scaled  z = logit((log x - log a) / (log b - log a))   (loguniform on [a, b])
// so that every draw mapped back, x = T^-1(z), lies in the support, and the density of
// x is that of z times |dz/dx| (the Jacobian enters the log-density). A unit share u
// is kept inside [kUnitMargin, 1 - kUnitMargin] before the logit: float targets can
// sit exactly on a bound. The mean head uses no transform: it learns E[x | data].
#pragma once

#include "sgnn/sim/task.hpp"
#include "sgnn/train/config.hpp"

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace sgnn::train {

class TargetTransforms {
public:
    enum class Kind { identity, log, logit, log_logit };
    struct Transform {
        Kind kind = Kind::identity;
        double lower = 0.0, upper = 0.0;  // logit, log_logit: the interval (not its log)
    };
    static constexpr double kUnitMargin = 1e-6;

    TargetTransforms() = default;  // no targets
    explicit TargetTransforms(std::vector<Transform> transforms) : transforms_(std::move(transforms)) {}
    // One transform per target, from the supports. Throws ConfigError naming
    // sim.targets for a target a density cannot describe (a discrete prior) or that
    // some mechanism of a mixture lacks.
    static TargetTransforms for_supports(const std::vector<std::string>& names,
                                         const std::vector<sim::TargetSupport>& supports, const std::string& head);

    std::size_t size() const { return transforms_.size(); }
    const Transform& operator[](std::size_t j) const { return transforms_[j]; }

    // Rows x targets, element-wise. forward: x -> z; inverse: z -> x.
    torch::Tensor forward(const torch::Tensor& x) const;
    torch::Tensor inverse(const torch::Tensor& z) const;
    // Per row, the sum over targets of log |dz/dx| at x: log p(x) = log p(z) + this.
    torch::Tensor log_abs_det_jacobian(const torch::Tensor& x) const;
    // Whether each row lies inside every target's support (the open interval, or the
    // positive half-line up to `upper` where it is finite).
    torch::Tensor inside(const torch::Tensor& x) const;

    // "identity;log;logit(0.1,2);log_logit(1.5,5)": the model.h5 attribute and its parser
    // (throws std::runtime_error naming `origin` for a malformed text).
    std::string describe() const;
    static TargetTransforms parse(const std::string& text, const std::string& origin);

private:
    // f(transform, column) for each target's column of x, stacked again.
    torch::Tensor map_columns(const torch::Tensor& x,
                              const std::function<torch::Tensor(const Transform&, const torch::Tensor&)>& f) const;

    std::vector<Transform> transforms_;
};

// The transforms of a run's targets: none for model.head = mean, else one per target
// from its support. Throws ConfigError naming model.head or sim.targets when the head
// does not fit the targets.
TargetTransforms target_transforms(const ModelConfig& model, const sim::SampleLayout& layout);

}  // namespace sgnn::train
