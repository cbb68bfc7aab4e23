// The rational-quadratic spline of one flow layer (Durkan et al. 2019, as nflows writes
// it), applied per element: `bins` bins on [-kTailBound, kTailBound] whose widths and
// heights are softmaxes of unnormalized knots (each at least kMinBinWidth or
// kMinBinHeight of the interval), interior knot derivatives kMinDerivative + softplus,
// derivative 1 at both ends, and the identity outside the interval. Private to the
// train module; docs/file-formats.md writes the same arithmetic out for model.h5.
//
// Two implementations of one function:
//   rational_quadratic_spline        LibTorch operations, on any device, differentiated
//                                    by autograd: the reference.
//   fused_rational_quadratic_spline  on the CPU, one pass over the elements forward and
//                                    one backward with hand-written derivatives (a flow
//                                    layer's spline was about 40 small operations each
//                                    way, and their overhead dominated a training step
//                                    at the batch sizes sgnn streams); elsewhere, the
//                                    reference. tests/train/test_density.cpp checks it
//                                    against the reference and finite differences.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <utility>

namespace sgnn::train {

// The spline's interval: standardized targets beyond +-5 sd are rare, and are mapped
// by the identity (linear tails), so the flow is defined on the whole line.
inline constexpr double kTailBound = 5.0;

// Smallest bin width, bin height and knot derivative, as nflows: a spline can never
// collapse a bin or flatten, so it stays invertible with a bounded log-derivative.
inline constexpr double kMinBinWidth = 1e-3, kMinBinHeight = 1e-3, kMinDerivative = 1e-3;

// The most bins a spline may have (model.flow_bins).
inline constexpr int kMaxSplineBins = 64;

// softplus(c) + kMinDerivative = 1: the unnormalized derivative of the identity.
inline double identity_derivative() { return std::log(std::expm1(1.0 - kMinDerivative)); }

// inputs N x D, unnormalized knots N x D x (3 bins - 1) (widths, heights, interior
// derivatives). Returns the outputs and log |d output / d input|, both N x D; with
// `inverse`, the inverse spline and its log-derivative.
std::pair<torch::Tensor, torch::Tensor> rational_quadratic_spline(const torch::Tensor& inputs,
                                                                  const torch::Tensor& knots, bool inverse);
std::pair<torch::Tensor, torch::Tensor> fused_rational_quadratic_spline(const torch::Tensor& inputs,
                                                                        const torch::Tensor& knots, bool inverse);

}  // namespace sgnn::train
