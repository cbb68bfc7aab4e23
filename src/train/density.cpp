#include "density.hpp"

#include "rq_spline.hpp"

#include "sgnn/error.hpp"

#include <cmath>
#include <vector>

namespace sgnn::train {
namespace {

namespace nn = torch::nn;

constexpr double kLogTwoPi = 1.8378770664093454836;

// log N(x; 0, 1) summed over the last dimension.
torch::Tensor standard_normal_log_prob(const torch::Tensor& x) {
    return -0.5 * (x.pow(2).sum(-1) + static_cast<double>(x.size(-1)) * kLogTwoPi);
}

// ---- Gaussian mixture ----------------------------------------------------------------

class GaussianMixture final : public DensityHead {
public:
    GaussianMixture(int components, int dimension, int context) : k_(components), d_(dimension) {
        off_diagonal_ = d_ * (d_ - 1) / 2;
        const int outputs = k_ * (1 + 2 * d_ + off_diagonal_);
        layer_ = register_module("layer", nn::Linear(context, outputs));
        // Row-major positions of U's strictly upper entries, (0,1), (0,2), ..., (1,2), ...
        std::vector<std::int64_t> upper;
        for (int i = 0; i < d_; ++i) {
            for (int j = i + 1; j < d_; ++j) upper.push_back(static_cast<std::int64_t>(i) * d_ + j);
        }
        upper_ = torch::tensor(upper, torch::kLong);
    }

    torch::Tensor log_prob(const torch::Tensor& u, const torch::Tensor& h) override {
        const Parts p = parts(h);
        const torch::Tensor diff = u.unsqueeze(1) - p.means;  // rows x K x D
        const torch::Tensor whitened = torch::matmul(p.factor, diff.unsqueeze(-1)).squeeze(-1);
        const torch::Tensor component = p.log_weights + p.log_diagonal.sum(-1) - 0.5 * whitened.pow(2).sum(-1);
        return torch::logsumexp(component, 1) - 0.5 * d_ * kLogTwoPi;
    }

    torch::Tensor sample(const torch::Tensor& h, std::int64_t n, at::Generator& generator) override {
        const Parts p = parts(h);
        const std::int64_t rows = h.size(0);
        // Drawn on the CPU, with a CPU generator: the same draws on every device.
        const torch::Tensor chosen =
            torch::multinomial(p.log_weights.exp().to(torch::kCPU), n, true, generator).to(h.device());  // rows x n
        const torch::Tensor noise = torch::randn({rows, n, d_, 1}, generator, torch::kFloat).to(h.options());
        const auto pick = [&](const torch::Tensor& t, std::int64_t trailing) {
            std::vector<std::int64_t> shape{rows, n};
            for (std::int64_t k = 2; k < t.dim(); ++k) shape.push_back(t.size(k));
            torch::Tensor index = chosen;
            for (std::int64_t k = 0; k < trailing; ++k) index = index.unsqueeze(-1);
            return torch::gather(t, 1, index.expand(shape));
        };
        const torch::Tensor means = pick(p.means, 1), factor = pick(p.factor, 2);
        const torch::Tensor offset = torch::linalg_solve_triangular(factor, noise, /*upper=*/true).squeeze(-1);
        return (means + offset).reshape({rows * n, d_});
    }

private:
    struct Parts {
        torch::Tensor log_weights;   // rows x K, log pi_k
        torch::Tensor means;         // rows x K x D
        torch::Tensor log_diagonal;  // rows x K x D, s: U_ii = exp(s_i)
        torch::Tensor factor;        // rows x K x D x D, U
    };

    // The layer's outputs, in order: K weight logits, K x D means, K x D log-diagonals,
    // K x D(D-1)/2 strictly upper entries of U (row-major).
    Parts parts(const torch::Tensor& h) {
        const std::int64_t rows = h.size(0);
        const torch::Tensor out = layer_->forward(h);
        std::int64_t at = 0;
        const auto take = [&](std::int64_t width) {
            const torch::Tensor t = out.slice(1, at, at + width);
            at += width;
            return t;
        };
        Parts p;
        p.log_weights = torch::log_softmax(take(k_), 1);
        p.means = take(static_cast<std::int64_t>(k_) * d_).reshape({rows, k_, d_});
        p.log_diagonal = take(static_cast<std::int64_t>(k_) * d_).reshape({rows, k_, d_});
        const torch::Tensor strict =
            take(static_cast<std::int64_t>(k_) * off_diagonal_).reshape({rows, k_, off_diagonal_});
        torch::Tensor flat = torch::zeros({rows, k_, static_cast<std::int64_t>(d_) * d_}, h.options());
        if (off_diagonal_ > 0) flat = flat.index_copy(2, upper_.to(h.device()), strict);
        p.factor = flat.reshape({rows, k_, d_, d_}) + torch::diag_embed(p.log_diagonal.exp());
        return p;
    }

    int k_, d_, off_diagonal_;
    nn::Linear layer_{nullptr};
    torch::Tensor upper_;
};

// ---- Masked autoregressive spline flow ---------------------------------------------

// A linear layer whose weight is multiplied by a fixed 0/1 mask (MADE, Germain et al.
// 2015). The masked entries start at zero and get no gradient, so the stored weight is
// already masked.
class MaskedLinear : public nn::Module {
public:
    MaskedLinear(const torch::Tensor& mask) : mask_(mask.to(torch::kFloat)) {
        linear_ = register_module("linear", nn::Linear(mask.size(1), mask.size(0)));
        mask_ = register_buffer("mask", mask_);
        torch::NoGradGuard no_grad;
        linear_->weight.mul_(mask_);
    }
    torch::Tensor forward(const torch::Tensor& x) {
        return torch::nn::functional::linear(x, linear_->weight * mask_, linear_->bias);
    }
    nn::Linear& linear() { return linear_; }

private:
    nn::Linear linear_{nullptr};
    torch::Tensor mask_;
};

// Degrees of MADE (Germain et al. 2015): input i has degree i + 1 (i = 0..D-1); hidden
// unit k has degree k mod (D - 1) + 1 (0 when D = 1, so that it sees no input); the
// outputs of dimension i have degree i + 1. A hidden unit sees inputs of degree <= its
// own; an output sees hidden units of degree < its own: output i depends on inputs
// 0..i-1 only, and on the context, which enters the first hidden layer unmasked.
torch::Tensor mask_between(const std::vector<int>& in, const std::vector<int>& out, bool strict) {
    torch::Tensor mask = torch::zeros({static_cast<std::int64_t>(out.size()), static_cast<std::int64_t>(in.size())});
    auto a = mask.accessor<float, 2>();
    for (std::size_t o = 0; o < out.size(); ++o) {
        for (std::size_t i = 0; i < in.size(); ++i) a[o][i] = (strict ? out[o] > in[i] : out[o] >= in[i]) ? 1.0f : 0.0f;
    }
    return mask;
}

class AutoregressiveSpline : public nn::Module {
public:
    AutoregressiveSpline(int dimension, int context, int hidden, int bins) : d_(dimension), bins_(bins) {
        const int per_dimension = 3 * bins - 1;
        std::vector<int> inputs, units, outputs;
        for (int i = 0; i < d_; ++i) inputs.push_back(i + 1);
        for (int k = 0; k < hidden; ++k) units.push_back(d_ == 1 ? 0 : k % (d_ - 1) + 1);
        for (int i = 0; i < d_; ++i) {
            for (int q = 0; q < per_dimension; ++q) outputs.push_back(i + 1);
        }
        input_ = register_module("input", std::make_shared<MaskedLinear>(mask_between(inputs, units, false)));
        context_ = register_module("context", nn::Linear(context, hidden));
        hidden_ = register_module("hidden", std::make_shared<MaskedLinear>(mask_between(units, units, false)));
        output_ = register_module("output", std::make_shared<MaskedLinear>(mask_between(units, outputs, true)));
        // Start as the identity: equal bins and unit derivatives whatever the inputs.
        torch::NoGradGuard no_grad;
        output_->linear()->weight.zero_();
        torch::Tensor bias = output_->linear()->bias.view({d_, per_dimension});
        bias.zero_();
        bias.slice(1, 2 * bins, per_dimension).fill_(identity_derivative());
    }

    // Knots for every dimension: N x D x (3 bins - 1).
    torch::Tensor knots(const torch::Tensor& x, const torch::Tensor& h) {
        torch::Tensor a = torch::relu(input_->forward(x) + context_->forward(h));
        a = torch::relu(hidden_->forward(a));
        return output_->forward(a).view({x.size(0), d_, 3 * bins_ - 1});
    }

    // x -> y and log |dy/dx| summed over dimensions.
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& h) {
        auto [y, log_det] = fused_rational_quadratic_spline(x, knots(x, h), false);
        return {y, log_det.sum(1)};
    }

    // y -> x, one dimension per pass: after pass i, dimensions 0..i are exact.
    torch::Tensor inverse(const torch::Tensor& y, const torch::Tensor& h) {
        torch::Tensor x = torch::zeros_like(y);
        for (int i = 0; i < d_; ++i) x = fused_rational_quadratic_spline(y, knots(x, h), true).first;
        return x;
    }

private:
    int d_, bins_;
    std::shared_ptr<MaskedLinear> input_{nullptr}, hidden_{nullptr}, output_{nullptr};
    nn::Linear context_{nullptr};
};

class SplineFlow final : public DensityHead {
public:
    SplineFlow(int transforms, int hidden, int bins, int dimension, int context) : d_(dimension) {
        layers_ = register_module("layers", nn::ModuleList());
        for (int l = 0; l < transforms; ++l) {
            layers_->push_back(std::make_shared<AutoregressiveSpline>(dimension, context, hidden, bins));
        }
    }

    // u -> noise through every layer, reversing the order of dimensions after each.
    torch::Tensor log_prob(const torch::Tensor& u, const torch::Tensor& h) override {
        torch::Tensor x = u, total = torch::zeros({u.size(0)}, u.options());
        for (const auto& layer : *layers_) {
            auto [y, log_det] = layer->as<AutoregressiveSpline>()->forward(x, h);
            total = total + log_det;
            x = y.flip({1});
        }
        return total + standard_normal_log_prob(x);
    }

    torch::Tensor sample(const torch::Tensor& h, std::int64_t n, at::Generator& generator) override {
        const torch::Tensor context = h.repeat_interleave(n, 0);
        // Drawn on the CPU, with a CPU generator: the same draws on every device.
        torch::Tensor x = torch::randn({context.size(0), d_}, generator, torch::kFloat).to(h.options());
        for (std::size_t l = layers_->size(); l-- > 0;) {
            x = (*layers_)[l]->as<AutoregressiveSpline>()->inverse(x.flip({1}), context);
        }
        return x;
    }

private:
    int d_;
    nn::ModuleList layers_{nullptr};
};

}  // namespace

std::shared_ptr<DensityHead> make_density_head(const ModelConfig& config, int dimension, int context) {
    if (config.head == "mixture") return std::make_shared<GaussianMixture>(config.components, dimension, context);
    if (config.head == "flow") {
        return std::make_shared<SplineFlow>(config.flow_transforms, config.flow_hidden, config.flow_bins, dimension,
                                            context);
    }
    throw ConfigError("model.head = '" + config.head + "': no density head by that name; choose flow or mixture");
}

}  // namespace sgnn::train
