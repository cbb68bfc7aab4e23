// Conditional density heads: p(u | h), the posterior of the targets given the data,
// where h is the network's embedding of the observed series and u the targets after
// their transform (train/target_transforms.hpp) and standardization. Private to the
// train module (LibTorch); docs/file-formats.md writes out every layer and constant,
// so that a reader can rebuild them from model.h5.
//
//   GaussianMixture  p(u | h) = sum_k pi_k N(u; mu_k, (U_k^T U_k)^-1), K components,
//                    each with a full precision matrix through its upper-triangular
//                    Cholesky factor U_k (positive diagonal exp(s)).
//   SplineFlow       a masked autoregressive flow: `transforms` layers, each a
//                    rational-quadratic spline per dimension (Durkan et al. 2019, as
//                    nflows writes it: `bins` bins on [-kTailBound, kTailBound], identity
//                    outside) whose knots a MADE network computes from the dimensions
//                    before it and from h; the order of dimensions is reversed between
//                    layers; a standard normal base. Densities take one pass; draws take
//                    one pass per dimension and layer. The spline: train/rq_spline.hpp.
#pragma once

#include "sgnn/train/config.hpp"

#include <torch/torch.h>

#include <cstdint>
#include <memory>

namespace sgnn::train {

class DensityHead : public torch::nn::Module {
public:
    // log p(u | h) per row: u is rows x dimension, h rows x context.
    virtual torch::Tensor log_prob(const torch::Tensor& u, const torch::Tensor& h) = 0;
    // `n` draws for each row of h: (rows * n) x dimension, row r's draws at r n ..
    // r n + n - 1, all randomness from `generator`, a CPU generator (reproducible for a
    // seed on any device).
    virtual torch::Tensor sample(const torch::Tensor& h, std::int64_t n, at::Generator& generator) = 0;
};

// The head named by config.head ("mixture" or "flow") for `dimension` targets and an
// embedding of width `context`. Throws ConfigError for any other name.
std::shared_ptr<DensityHead> make_density_head(const ModelConfig& config, int dimension, int context);

}  // namespace sgnn::train
