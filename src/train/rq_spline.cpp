#include "rq_spline.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

namespace sgnn::train {
namespace {

torch::Tensor gather_bins(const torch::Tensor& t, const torch::Tensor& bin) {
    return torch::gather(t, -1, bin.unsqueeze(-1)).squeeze(-1);
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> rational_quadratic_spline(const torch::Tensor& inputs,
                                                                  const torch::Tensor& knots, bool inverse) {
    const double b = kTailBound;
    const std::int64_t bins = (knots.size(-1) + 1) / 3;
    const torch::Tensor inside = (inputs >= -b) & (inputs <= b);
    const torch::Tensor x = inputs.clamp(-b, b);  // outside: computed on the bound, then discarded

    // Knot positions: widths and heights by softmax, each at least the minimum; the
    // two boundary derivatives are 1, so that the spline meets the identity tails.
    const auto positions = [&](const torch::Tensor& unnormalized, double min_size) {
        torch::Tensor sizes = torch::softmax(unnormalized, -1);
        sizes = min_size + (1.0 - min_size * static_cast<double>(bins)) * sizes;
        torch::Tensor cumulative = torch::nn::functional::pad(torch::cumsum(sizes, -1),
                                                              torch::nn::functional::PadFuncOptions({1, 0}).value(0.0));
        cumulative = 2.0 * b * cumulative - b;
        cumulative.select(-1, 0).fill_(-b);
        cumulative.select(-1, bins).fill_(b);
        return cumulative;
    };
    const torch::Tensor cum_widths = positions(knots.slice(-1, 0, bins), kMinBinWidth);
    const torch::Tensor cum_heights = positions(knots.slice(-1, bins, 2 * bins), kMinBinHeight);
    const torch::Tensor widths = cum_widths.slice(-1, 1) - cum_widths.slice(-1, 0, bins);
    const torch::Tensor heights = cum_heights.slice(-1, 1) - cum_heights.slice(-1, 0, bins);
    torch::Tensor derivatives = kMinDerivative + torch::softplus(knots.slice(-1, 2 * bins));
    const torch::Tensor one = torch::ones_like(derivatives.slice(-1, 0, 1));
    derivatives = torch::cat({one, derivatives, one}, -1);  // bins + 1 knots

    // The bin of each input: the last knot at or below it.
    const torch::Tensor& edges = inverse ? cum_heights : cum_widths;
    const torch::Tensor bin = ((x.unsqueeze(-1) >= edges).sum(-1) - 1).clamp(0, bins - 1);
    const torch::Tensor x_k = gather_bins(cum_widths, bin), w_k = gather_bins(widths, bin);
    const torch::Tensor y_k = gather_bins(cum_heights, bin), h_k = gather_bins(heights, bin);
    const torch::Tensor d_k = gather_bins(derivatives, bin), d_k1 = gather_bins(derivatives.slice(-1, 1), bin);
    const torch::Tensor s_k = h_k / w_k;

    torch::Tensor theta;
    torch::Tensor outputs;
    if (!inverse) {
        theta = (x - x_k) / w_k;
        const torch::Tensor t1 = theta * (1.0 - theta);
        outputs = y_k + h_k * (s_k * theta.pow(2) + d_k * t1) / (s_k + (d_k + d_k1 - 2.0 * s_k) * t1);
    } else {
        // The root in [0, 1] of the quadratic a theta^2 + b theta + c = 0, in the stable form.
        const torch::Tensor dy = x - y_k, slope = d_k + d_k1 - 2.0 * s_k;
        const torch::Tensor qa = dy * slope + h_k * (s_k - d_k);
        const torch::Tensor qb = h_k * d_k - dy * slope;
        const torch::Tensor qc = -s_k * dy;
        const torch::Tensor discriminant = (qb.pow(2) - 4.0 * qa * qc).clamp_min(0.0);
        theta = (2.0 * qc) / (-qb - discriminant.sqrt());
        outputs = x_k + theta * w_k;
    }
    const torch::Tensor t1 = theta * (1.0 - theta);
    const torch::Tensor denominator = s_k + (d_k + d_k1 - 2.0 * s_k) * t1;
    const torch::Tensor numerator = s_k.pow(2) * (d_k1 * theta.pow(2) + 2.0 * s_k * t1 + d_k * (1.0 - theta).pow(2));
    torch::Tensor log_det = numerator.log() - 2.0 * denominator.log();  // log dy/dx
    if (inverse) log_det = -log_det;
    return {torch::where(inside, outputs, inputs), torch::where(inside, log_det, torch::zeros_like(log_det))};
}

namespace {

// ---- The fused spline -----------------------------------------------------------------
//
// The softmaxes of the widths and heights are one vectorized LibTorch operation (and
// autograd differentiates it); everything after them runs per element here: knot
// positions as cumulative sums with the ends set to -B and B, widths and heights as
// their differences, and the two knot derivatives of the element's bin, 1 at the
// ends and kMinDerivative + softplus(...) inside. Scalar exp and log cost more than the
// rest of an element, so only the bin's two softplus are computed.
template <typename T>
struct Knots {
    int bins = 0;
    T cw[kMaxSplineBins + 1], ch[kMaxSplineBins + 1];
    const T* raw_derivatives;  // bins - 1 unnormalized interior derivatives

    // pw, ph: the softmaxes of the widths and heights.
    Knots(const T* pw, const T* ph, const T* ud, int n_bins) : bins(n_bins), raw_derivatives(ud) {
        positions(pw, kMinBinWidth, cw);
        positions(ph, kMinBinHeight, ch);
    }

    // torch::softplus with its default threshold: the input itself above 20.
    static T softplus(T v) { return v > T(20) ? v : std::log1p(std::exp(v)); }
    static T softplus_slope(T v) { return v > T(20) ? T(1) : T(1) / (T(1) + std::exp(-v)); }

    // The derivative at knot i (0..bins).
    T delta(int i) const { return i == 0 || i == bins ? T(1) : T(kMinDerivative) + softplus(raw_derivatives[i - 1]); }

    void positions(const T* p, double min_size, T* cumulative) const {
        const T scale = T(1.0 - min_size * bins);
        T running = 0;
        cumulative[0] = T(-kTailBound);
        for (int i = 0; i < bins; ++i) {
            running += T(min_size) + scale * p[i];
            cumulative[i + 1] = T(2.0 * kTailBound) * running - T(kTailBound);
        }
        cumulative[bins] = T(kTailBound);
    }

    // The bin of v among the edges: the last edge at or below it, within [0, bins - 1].
    int bin_of(T v, const T* edges) const {
        int count = 0;
        for (int i = 0; i <= bins; ++i) count += v >= edges[i];
        return std::clamp(count - 1, 0, bins - 1);
    }
};

// The spline's value and log-derivative inside the interval, and their partial
// derivatives in the bin's local quantities (for the backward pass).
template <typename T>
struct Local {
    T y, log_det;
    // d/dx, d/d(left edge a), d/d(width W), d/d(bottom c), d/d(height H), d/d delta_k, d/d delta_k+1
    T y_x, y_a, y_w, y_c, y_h, y_d0, y_d1;
    T l_x, l_a, l_w, l_h, l_d0, l_d1;
};

template <typename T>
Local<T> forward_in_bin(T x, T a, T w, T c, T h, T d0, T d1, bool with_partials) {
    Local<T> o{};
    const T theta = (x - a) / w, s = h / w;
    const T t1 = theta * (T(1) - theta), slope = d0 + d1 - T(2) * s;
    const T den = s + slope * t1;
    const T num = s * theta * theta + d0 * t1;
    o.y = c + h * num / den;
    const T p = d1 * theta * theta + T(2) * s * t1 + d0 * (T(1) - theta) * (T(1) - theta);
    o.log_det = std::log(s * s * p) - T(2) * std::log(den);
    if (!with_partials) return o;
    // y = c + h f(theta, s, d0, d1), f = num / den.
    const T one_minus_two_theta = T(1) - T(2) * theta;
    const T den2 = den * den;
    const T f = num / den;
    const T f_theta = ((T(2) * s * theta + d0 * one_minus_two_theta) * den - num * slope * one_minus_two_theta) / den2;
    const T f_s = (theta * theta * den - num * (T(1) - T(2) * t1)) / den2;
    const T f_d0 = t1 * (den - num) / den2;
    const T f_d1 = -num * t1 / den2;
    // theta = (x - a) / w, s = h / w.
    o.y_x = h * f_theta / w;
    o.y_a = -o.y_x;
    o.y_w = -h * (f_theta * theta + f_s * s) / w;
    o.y_c = T(1);
    o.y_h = f + h * f_s / w;
    o.y_d0 = h * f_d0;
    o.y_d1 = h * f_d1;
    // log_det = 2 log s + log p - 2 log den.
    const T p_theta = T(2) * d1 * theta + T(2) * s * one_minus_two_theta - T(2) * d0 * (T(1) - theta);
    const T l_theta = p_theta / p - T(2) * slope * one_minus_two_theta / den;
    const T l_s = T(2) / s + T(2) * t1 / p - T(2) * (T(1) - T(2) * t1) / den;
    o.l_x = l_theta / w;
    o.l_a = -o.l_x;
    o.l_w = -(l_theta * theta + l_s * s) / w;
    o.l_h = l_s / w;
    o.l_d0 = (T(1) - theta) * (T(1) - theta) / p - T(2) * t1 / den;
    o.l_d1 = theta * theta / p - T(2) * t1 / den;
    return o;
}

// The inverse inside the interval: the root in [0, 1] of the quadratic in theta, in the
// stable form, and the log-derivative of the inverse (minus the forward one).
template <typename T>
std::pair<T, T> inverse_in_bin(T y, T a, T w, T c, T h, T d0, T d1) {
    const T s = h / w, dy = y - c, slope = d0 + d1 - T(2) * s;
    const T qa = dy * slope + h * (s - d0);
    const T qb = h * d0 - dy * slope;
    const T qc = -s * dy;
    const T discriminant = std::max(qb * qb - T(4) * qa * qc, T(0));
    const T theta = (T(2) * qc) / (-qb - std::sqrt(discriminant));
    const T t1 = theta * (T(1) - theta);
    const T den = s + slope * t1;
    const T p = d1 * theta * theta + T(2) * s * t1 + d0 * (T(1) - theta) * (T(1) - theta);
    return {a + theta * w, -(std::log(s * s * p) - T(2) * std::log(den))};
}

constexpr std::int64_t kGrain = 256;  // elements per task of at::parallel_for

// inputs N x D; softmaxes N x D x 2 x bins (widths, heights); raw_derivatives N x D x
// (bins - 1). All contiguous.
std::pair<torch::Tensor, torch::Tensor> spline_kernel(const torch::Tensor& x, const torch::Tensor& softmaxes,
                                                      const torch::Tensor& raw_derivatives, bool inverse) {
    const auto bins = static_cast<int>(softmaxes.size(-1));
    torch::Tensor out = torch::empty_like(x), log_det = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_rational_quadratic_spline", [&] {
        const scalar_t* xs = x.data_ptr<scalar_t>();
        const scalar_t* ps = softmaxes.data_ptr<scalar_t>();
        const scalar_t* uds = raw_derivatives.data_ptr<scalar_t>();
        scalar_t* ys = out.data_ptr<scalar_t>();
        scalar_t* ls = log_det.data_ptr<scalar_t>();
        at::parallel_for(0, x.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t e = begin; e < end; ++e) {
                const scalar_t v = xs[e];
                if (!(v >= scalar_t(-kTailBound) && v <= scalar_t(kTailBound))) {
                    ys[e] = v;
                    ls[e] = 0;
                    continue;
                }
                const scalar_t* p = ps + e * 2 * bins;
                const Knots<scalar_t> k(p, p + bins, uds + e * (bins - 1), bins);
                const int b = k.bin_of(v, inverse ? k.ch : k.cw);
                const scalar_t w = k.cw[b + 1] - k.cw[b], h = k.ch[b + 1] - k.ch[b];
                const scalar_t d0 = k.delta(b), d1 = k.delta(b + 1);
                if (inverse) {
                    std::tie(ys[e], ls[e]) = inverse_in_bin(v, k.cw[b], w, k.ch[b], h, d0, d1);
                } else {
                    const Local<scalar_t> o = forward_in_bin(v, k.cw[b], w, k.ch[b], h, d0, d1, false);
                    ys[e] = o.y;
                    ls[e] = o.log_det;
                }
            }
        });
    });
    return {out, log_det};
}

// Gradients of the forward spline in its inputs, the softmaxes and the raw derivatives,
// from those in the outputs (grad_y) and log-derivatives (grad_l), either undefined
// when unused.
torch::autograd::variable_list spline_backward_kernel(const torch::Tensor& x, const torch::Tensor& softmaxes,
                                                      const torch::Tensor& raw_derivatives, const torch::Tensor& grad_y,
                                                      const torch::Tensor& grad_l) {
    const torch::Tensor gy = grad_y.defined() ? grad_y.contiguous() : torch::zeros_like(x);
    const torch::Tensor gl = grad_l.defined() ? grad_l.contiguous() : torch::zeros_like(x);
    const auto bins = static_cast<int>(softmaxes.size(-1));
    torch::Tensor grad_x = torch::empty_like(x), grad_p = torch::zeros_like(softmaxes),
                  grad_ud = torch::zeros_like(raw_derivatives);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_rational_quadratic_spline_backward", [&] {
        const scalar_t* xs = x.data_ptr<scalar_t>();
        const scalar_t* ps = softmaxes.data_ptr<scalar_t>();
        const scalar_t* uds = raw_derivatives.data_ptr<scalar_t>();
        const scalar_t* gys = gy.data_ptr<scalar_t>();
        const scalar_t* gls = gl.data_ptr<scalar_t>();
        scalar_t* gxs = grad_x.data_ptr<scalar_t>();
        scalar_t* gps = grad_p.data_ptr<scalar_t>();
        scalar_t* guds = grad_ud.data_ptr<scalar_t>();
        at::parallel_for(0, x.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t e = begin; e < end; ++e) {
                const scalar_t v = xs[e];
                if (!(v >= scalar_t(-kTailBound) && v <= scalar_t(kTailBound))) {
                    gxs[e] = gys[e];  // the identity: no knot matters
                    continue;
                }
                const scalar_t* p = ps + e * 2 * bins;
                const scalar_t* ud = uds + e * (bins - 1);
                const Knots<scalar_t> k(p, p + bins, ud, bins);
                const int b = k.bin_of(v, k.cw);
                const scalar_t w = k.cw[b + 1] - k.cw[b], h = k.ch[b + 1] - k.ch[b];
                const Local<scalar_t> o = forward_in_bin(v, k.cw[b], w, k.ch[b], h, k.delta(b), k.delta(b + 1), true);
                const scalar_t g = gys[e], q = gls[e];
                gxs[e] = g * o.y_x + q * o.l_x;
                // The bin's edge and size as positions: a = cw[b], W = cw[b+1] - cw[b]
                // (likewise c, H on the heights), so d/d cw[b] = d/da - d/dW and
                // d/d cw[b+1] = d/dW. The end positions are constants. An interior
                // position is cumulative[i] = 2B sum_{j<i} (min + scale p_j) - B, so
                // d/d p_j = 2B scale sum of d/d cumulative[i] over j < i < bins: only
                // the bin's two positions have a gradient.
                const scalar_t g_a = g * o.y_a + q * o.l_a, g_w = g * o.y_w + q * o.l_w;
                const scalar_t g_c = g * o.y_c, g_h = g * o.y_h + q * o.l_h;
                const auto to_softmax = [&](scalar_t g_left, scalar_t g_right, double min_size, scalar_t* g_p) {
                    const scalar_t factor = scalar_t(2.0 * kTailBound * (1.0 - min_size * bins));
                    // positions b (if interior) and b + 1 (if interior)
                    const scalar_t at_right = b + 1 < bins ? g_right : scalar_t(0);
                    const scalar_t at_left = b >= 1 ? g_left : scalar_t(0);
                    for (int j = 0; j < bins; ++j) {
                        scalar_t sum = 0;
                        if (j < b) sum += at_left;
                        if (j < b + 1) sum += at_right;
                        g_p[j] = factor * sum;
                    }
                };
                scalar_t* gp = gps + e * 2 * bins;
                to_softmax(g_a - g_w, g_w, kMinBinWidth, gp);
                to_softmax(g_c - g_h, g_h, kMinBinHeight, gp + bins);
                // Derivatives: delta[i] = min + softplus(ud[i - 1]) for 1 <= i < bins.
                const scalar_t g_d0 = g * o.y_d0 + q * o.l_d0, g_d1 = g * o.y_d1 + q * o.l_d1;
                scalar_t* gud = guds + e * (bins - 1);
                if (b >= 1) gud[b - 1] = g_d0 * Knots<scalar_t>::softplus_slope(ud[b - 1]);
                if (b + 1 < bins) gud[b] = g_d1 * Knots<scalar_t>::softplus_slope(ud[b]);
            }
        });
    });
    return {grad_x, grad_p, grad_ud};
}

class FusedSpline : public torch::autograd::Function<FusedSpline> {
public:
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* context, const torch::Tensor& x,
                                                  const torch::Tensor& softmaxes,
                                                  const torch::Tensor& raw_derivatives) {
        context->save_for_backward({x, softmaxes, raw_derivatives});
        auto [y, log_det] = spline_kernel(x, softmaxes, raw_derivatives, false);
        return {y, log_det};
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                   torch::autograd::variable_list grads) {
        const auto saved = context->get_saved_variables();
        return spline_backward_kernel(saved[0], saved[1], saved[2], grads[0], grads[1]);
    }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> fused_rational_quadratic_spline(const torch::Tensor& inputs,
                                                                        const torch::Tensor& knots, bool inverse) {
    const std::int64_t bins = (knots.size(-1) + 1) / 3;
    if (!inputs.device().is_cpu() || bins > kMaxSplineBins) return rational_quadratic_spline(inputs, knots, inverse);
    if (inverse && torch::GradMode::is_enabled() && (inputs.requires_grad() || knots.requires_grad()))
        return rational_quadratic_spline(inputs, knots, true);  // only draws invert, and they need no gradient
    const torch::Tensor x = inputs.contiguous();
    std::vector<std::int64_t> shape = x.sizes().vec();
    shape.push_back(2);
    shape.push_back(bins);
    const torch::Tensor softmaxes = torch::softmax(knots.slice(-1, 0, 2 * bins).reshape(shape), -1);
    const torch::Tensor raw_derivatives = knots.slice(-1, 2 * bins).contiguous();
    if (inverse) return spline_kernel(x, softmaxes, raw_derivatives, true);
    const torch::autograd::variable_list out = FusedSpline::apply(x, softmaxes, raw_derivatives);
    return {out[0], out[1]};
}

}  // namespace sgnn::train
