// The posterior heads (train/density.hpp) and the targets' transforms
// (train/target_transforms.hpp): densities that integrate to one, draws that follow
// their density and stay inside the priors' support, a spline that inverts exactly, and
// a mixture head that learns a known Gaussian posterior.
#include "density.hpp"
#include "models.hpp"
#include "rq_spline.hpp"
#include "target_transforms.hpp"

#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

using namespace sgnn::train;

namespace {

// A head whose every weight is perturbed at random (the identity start of the flow
// would make the checks trivial), on a context of width 3. Moderately: a wild flow
// piles its mass into spikes narrower than any integration grid.
std::shared_ptr<DensityHead> random_head(const std::string& kind, int dimension, std::uint64_t seed) {
    torch::manual_seed(seed);
    ModelConfig config;
    config.head = kind;
    config.flow_transforms = 3;
    config.flow_hidden = 16;
    config.flow_bins = 6;
    config.components = 3;
    auto head = make_density_head(config, dimension, 3);
    torch::NoGradGuard no_grad;
    for (auto& p : head->parameters()) p.add_(0.15 * torch::randn_like(p));
    return head;
}

// The trapezoid rule on [-L, L]^dimension with `n` points per axis of exp(log_prob).
double integral(DensityHead& head, int dimension, const torch::Tensor& context, double half_width, int n) {
    torch::NoGradGuard no_grad;
    const torch::Tensor axis = torch::linspace(-half_width, half_width, n, torch::kDouble);
    const double step = 2.0 * half_width / (n - 1);
    torch::Tensor weights = torch::full({n}, step, torch::kDouble);
    weights[0] = weights[n - 1] = step / 2;
    torch::Tensor points, w;
    if (dimension == 1) {
        points = axis.unsqueeze(1);
        w = weights;
    } else {
        const auto grid = torch::meshgrid({axis, axis}, "ij");
        points = torch::stack({grid[0].flatten(), grid[1].flatten()}, 1);
        w = torch::outer(weights, weights).flatten();
    }
    const torch::Tensor h = context.expand({points.size(0), context.size(1)});
    const torch::Tensor log_density = head.log_prob(points.to(torch::kFloat), h).to(torch::kDouble);
    // Far from a standard normal, or the test would prove little.
    const torch::Tensor normal = -0.5 * (points.pow(2).sum(1) + dimension * std::log(2 * M_PI));
    const torch::Tensor central = std::get<0>(points.abs().max(1)) < 2.0;
    CHECK((log_density - normal).abs().masked_select(central).max().item<double>() > 0.3);
    return (log_density.exp() * w).sum().item<double>();
}

}  // namespace

TEST_CASE("the spline inverts exactly and its log-derivative is the derivative's log", "[density]") {
    torch::manual_seed(3);
    const int bins = 6;
    const torch::Tensor knots = 2.0 * torch::randn({1000, 1, 3 * bins - 1}, torch::kDouble);
    // Mostly inside the spline's interval [-5, 5], some in the identity tails.
    const torch::Tensor wide = 14.0 * torch::rand({1000, 1}, torch::kDouble) - 7.0;
    const auto [y, log_det] = rational_quadratic_spline(wide, knots, false);
    const auto [back, inverse_log_det] = rational_quadratic_spline(y, knots, true);
    CHECK(torch::allclose(back, wide, 1e-9, 1e-9));
    CHECK(torch::allclose(inverse_log_det, -log_det, 1e-9, 1e-9));
    // The derivative by central differences.
    const double e = 1e-6;
    const torch::Tensor up = rational_quadratic_spline(wide + e, knots, false).first;
    const torch::Tensor down = rational_quadratic_spline(wide - e, knots, false).first;
    const torch::Tensor numeric = ((up - down) / (2 * e)).log();
    const torch::Tensor away = (wide.abs() - kTailBound).abs() > 1e-3;  // not across the tail seam
    CHECK(torch::allclose(numeric.masked_select(away), log_det.masked_select(away), 1e-5, 1e-5));
    // One spline (the first row's knots) is increasing across the whole line.
    const torch::Tensor line = torch::linspace(-7, 7, 2001, torch::kDouble).unsqueeze(1);
    const torch::Tensor one =
        rational_quadratic_spline(line, knots.slice(0, 0, 1).expand({2001, 1, 3 * bins - 1}), false).first;
    CHECK((one.squeeze(1).diff() > 0).all().item<bool>());
}

TEST_CASE("the fused spline computes what the reference computes, forward, inverse and backward", "[density]") {
    // In double, where rounding cannot hide a difference in the arithmetic: 3 dimensions,
    // inputs mostly inside [-5, 5], some in the tails, and knots spread enough that bins
    // differ in width by orders of magnitude. Then in float, as training runs, on knots
    // of a trained flow's spread, to float's precision.
    torch::manual_seed(5);
    for (const auto type : {torch::kDouble, torch::kFloat}) {
        const bool exact = type == torch::kDouble;
        const double tolerance = exact ? 1e-9 : 2e-4;
        for (int bins : {2, 8, 13}) {
            INFO(bins << " bins, " << (exact ? "double" : "float"));
            const torch::Tensor x0 = 12.0 * torch::rand({700, 3}, type) - 6.0;
            const torch::Tensor k0 = (exact ? 2.5 : 1.0) * torch::randn({700, 3, 3 * bins - 1}, type);
            for (bool inverse : {false, true}) {
                torch::NoGradGuard no_grad;
                const auto [y, l] = rational_quadratic_spline(x0, k0, inverse);
                const auto [fy, fl] = fused_rational_quadratic_spline(x0, k0, inverse);
                INFO("inverse " << inverse << ": largest differences " << (fy - y).abs().max().item<double>() << ", "
                                << (fl - l).abs().max().item<double>());
                CHECK(torch::allclose(fy, y, tolerance, tolerance));
                CHECK(torch::allclose(fl, l, tolerance, tolerance));
            }
            // Gradients of a loss that uses both outputs, against autograd through the reference.
            const torch::Tensor weights = torch::randn({700, 3}, type);
            const auto gradients = [&](bool fused) {
                const torch::Tensor x = x0.clone().requires_grad_(true), k = k0.clone().requires_grad_(true);
                const auto [y, l] =
                    fused ? fused_rational_quadratic_spline(x, k, false) : rational_quadratic_spline(x, k, false);
                ((y * weights).sum() + (l * weights.flip({0})).sum()).backward();
                return std::make_pair(x.grad(), k.grad());
            };
            const auto [gx, gk] = gradients(false);
            const auto [fgx, fgk] = gradients(true);
            INFO("largest gradient differences " << (fgx - gx).abs().max().item<double>() << ", "
                                                 << (fgk - gk).abs().max().item<double>());
            CHECK(torch::allclose(fgx, gx, tolerance, tolerance));
            CHECK(torch::allclose(fgk, gk, tolerance, tolerance));
        }
    }
}

TEST_CASE("the fused spline's hand-written gradients match finite differences (double)", "[density]") {
    torch::manual_seed(6);
    const int bins = 5, rows = 40;
    const torch::Tensor x0 = 10.4 * torch::rand({rows, 2}, torch::kDouble) - 5.2;
    const torch::Tensor k0 = 2.0 * torch::randn({rows, 2, 3 * bins - 1}, torch::kDouble);
    const torch::Tensor wy = torch::randn({rows, 2}, torch::kDouble), wl = torch::randn({rows, 2}, torch::kDouble);
    const auto loss = [&](const torch::Tensor& x, const torch::Tensor& k) {
        const auto [y, l] = fused_rational_quadratic_spline(x, k, false);
        return ((y * wy).sum() + (l * wl).sum()).item<double>();
    };
    const torch::Tensor x = x0.clone().requires_grad_(true), k = k0.clone().requires_grad_(true);
    {
        const auto [y, l] = fused_rational_quadratic_spline(x, k, false);
        ((y * wy).sum() + (l * wl).sum()).backward();
    }
    torch::NoGradGuard no_grad;
    const double e = 1e-6;
    // Every input away from the tail seam and from a bin edge (where the spline's second
    // derivative jumps), and every knot of every row.
    for (std::int64_t i = 0; i < x0.numel(); ++i) {
        if (std::abs(std::abs(x0.view(-1)[i].item<double>()) - kTailBound) < 1e-3) continue;
        torch::Tensor up = x0.clone(), down = x0.clone();
        up.view(-1)[i] += e;
        down.view(-1)[i] -= e;
        const double numeric = (loss(up, k0) - loss(down, k0)) / (2 * e);
        CHECK(x.grad().view(-1)[i].item<double>() == Approx(numeric).epsilon(1e-5).margin(1e-6));
    }
    for (std::int64_t i = 0; i < k0.numel(); ++i) {
        torch::Tensor up = k0.clone(), down = k0.clone();
        up.view(-1)[i] += e;
        down.view(-1)[i] -= e;
        const double numeric = (loss(x0, up) - loss(x0, down)) / (2 * e);
        CHECK(k.grad().view(-1)[i].item<double>() == Approx(numeric).epsilon(1e-5).margin(1e-6));
    }
}

TEST_CASE("flow and mixture densities integrate to one in one and two dimensions", "[density]") {
    for (const char* kind : {"flow", "mixture"}) {
        for (int dimension : {1, 2}) {
            INFO(kind << ", " << dimension << " dimension(s)");
            auto head = random_head(kind, dimension, 11 + dimension);
            for (int c = 0; c < 2; ++c) {
                const torch::Tensor context = torch::randn({1, 3});
                // The flow is the identity beyond +-5 in every layer, so its mass beyond
                // +-12 is a standard normal tail's (< 1e-30); the mixture's components
                // sit near 0, some with sds of several units along a correlated axis.
                const bool flow = std::string(kind) == "flow";
                const double half_width = flow ? 12.0 : 40.0;
                const int points = dimension == 1 ? 24001 : flow ? 1201 : 2001;
                const double total = integral(*head, dimension, context, half_width, points);
                CHECK(total == Approx(1.0).margin(2e-3));
            }
        }
    }
}

TEST_CASE("draws follow the head's own density (chi-square over 20 equiprobable-ish bins)", "[density]") {
    for (const char* kind : {"flow", "mixture"}) {
        INFO(kind);
        auto head = random_head(kind, 1, 5);
        torch::NoGradGuard no_grad;
        const torch::Tensor context = torch::randn({1, 3});
        at::Generator generator = at::detail::createCPUGenerator(42);
        const std::int64_t n = 200000;
        const torch::Tensor draws = head->sample(context, n, generator).to(torch::kDouble).squeeze(1);
        // Bin edges at the draws' own quantiles would bias the test: take them from a
        // separate set of draws instead.
        const torch::Tensor pilot = head->sample(context, 20000, generator).to(torch::kDouble).squeeze(1);
        const torch::Tensor edges =
            std::get<0>(pilot.sort())
                .index_select(0, torch::arange(1000, 20000, 1000, torch::kLong));  // 19 inner edges, 20 bins
        // Expected mass per bin: the integral of the density between the edges.
        const torch::Tensor grid = torch::linspace(-15, 15, 300001, torch::kDouble);
        const torch::Tensor density =
            head->log_prob(grid.unsqueeze(1).to(torch::kFloat), context.expand({grid.size(0), 3}))
                .to(torch::kDouble)
                .exp();
        const torch::Tensor cdf = torch::cumsum(density, 0) * (30.0 / 300000);
        const torch::Tensor all_edges =
            torch::cat({torch::tensor({-15.0}, torch::kDouble), edges, torch::tensor({15.0}, torch::kDouble)});
        double chi_square = 0.0;
        for (int b = 0; b < 20; ++b) {
            const double lo = all_edges[b].item<double>(), hi = all_edges[b + 1].item<double>();
            const auto at = [&](double x) {
                const auto i = static_cast<std::int64_t>(std::llround((x + 15.0) / 30.0 * 300000));
                return cdf[std::clamp<std::int64_t>(i, 0, 300000)].item<double>();
            };
            const double expected = (at(hi) - at(lo)) * static_cast<double>(n);
            const double observed = ((draws > lo) & (draws <= hi)).sum().item<double>();
            chi_square += (observed - expected) * (observed - expected) / expected;
        }
        // 19 degrees of freedom: P(chi-square > 43.8) = 0.001.
        CHECK(chi_square < 43.8);
    }
}

TEST_CASE("every transform inverts, its Jacobian is the derivative's, and draws land inside the support",
          "[density][transforms]") {
    using Kind = TargetTransforms::Kind;
    const TargetTransforms transforms(
        {{Kind::identity, 0, 0}, {Kind::log, 0, 1e3}, {Kind::logit, 0.1, 2.0}, {Kind::log_logit, 1.5, 5.0}});
    torch::manual_seed(4);
    const torch::Tensor u = torch::rand({5000, 4}, torch::kDouble);
    const torch::Tensor x =
        torch::stack({10 * u.select(1, 0) - 5, (6 * u.select(1, 1) - 3).exp(), 0.1 + 1.9 * u.select(1, 2),
                      (std::log(1.5) + (std::log(5.0) - std::log(1.5)) * u.select(1, 3)).exp()},
                     1);
    CHECK(torch::allclose(transforms.inverse(transforms.forward(x)), x, 1e-9, 1e-12));
    CHECK(transforms.inside(x).all().item<bool>());
    // log |dz/dx| by central differences, one target at a time.
    const double e = 1e-7;
    torch::Tensor numeric = torch::zeros({x.size(0)}, torch::kDouble);
    for (int j = 0; j < 4; ++j) {
        torch::Tensor step = torch::zeros_like(x);
        step.select(1, j).fill_(e);
        const torch::Tensor d = (transforms.forward(x + step) - transforms.forward(x - step)).select(1, j) / (2 * e);
        numeric = numeric + d.abs().log();
    }
    CHECK(torch::allclose(transforms.log_abs_det_jacobian(x), numeric, 1e-5, 1e-5));
    // Any z, however extreme, maps inside the intervals; the log maps into (0, inf).
    const torch::Tensor z = 40.0 * torch::randn({5000, 4}, torch::kDouble);
    const torch::Tensor back = transforms.inverse(z);
    CHECK((back.select(1, 2) >= 0.1).all().item<bool>());
    CHECK((back.select(1, 2) <= 2.0).all().item<bool>());
    CHECK((back.select(1, 3) >= 1.5 * (1 - 1e-12)).all().item<bool>());
    CHECK((back.select(1, 3) <= 5.0 * (1 + 1e-12)).all().item<bool>());
    CHECK((back.select(1, 1) >= 0).all().item<bool>());
    // The text form round-trips every bound exactly.
    const TargetTransforms parsed = TargetTransforms::parse(transforms.describe(), "test");
    REQUIRE(parsed.size() == 4);
    for (std::size_t j = 0; j < 4; ++j) {
        CHECK(parsed[j].kind == transforms[j].kind);
        CHECK(parsed[j].lower == transforms[j].lower);
        CHECK(parsed[j].upper == transforms[j].upper);
    }
    CHECK_THROWS(TargetTransforms::parse("logit(2,1)", "test"));
    CHECK_THROWS(TargetTransforms::parse("spline", "test"));
}

TEST_CASE("a mixture head learns a known two-dimensional Gaussian posterior", "[density][mixture]") {
    // theta ~ N(0, I); x = A theta + N(0, s^2 I): the posterior of theta given x is
    // N(S A^T x / s^2, S), S = (I + A^T A / s^2)^-1, correlated. The head sees x itself
    // as its context (through one linear layer: the posterior mean is linear in x and
    // the covariance constant, so one component can be exact).
    torch::manual_seed(8);
    const torch::Tensor a = torch::tensor({{1.0, 0.8}, {0.0, 0.6}}, torch::kDouble);
    const double s = 0.5;
    const torch::Tensor precision = torch::eye(2, torch::kDouble) + a.t().matmul(a) / (s * s);
    const torch::Tensor covariance = torch::inverse(precision);
    ModelConfig config;
    config.head = "mixture";
    config.components = 2;
    auto head = make_density_head(config, 2, 2);
    torch::optim::Adam optimizer(head->parameters(), torch::optim::AdamOptions(3e-3));
    for (int step = 0; step < 3000; ++step) {
        const torch::Tensor theta = torch::randn({512, 2}, torch::kDouble);
        const torch::Tensor x = theta.matmul(a.t()) + s * torch::randn({512, 2}, torch::kDouble);
        optimizer.zero_grad();
        const torch::Tensor loss = -head->log_prob(theta.to(torch::kFloat), x.to(torch::kFloat)).mean();
        loss.backward();
        optimizer.step();
    }
    torch::NoGradGuard no_grad;
    at::Generator generator = at::detail::createCPUGenerator(1);
    const std::int64_t n = 40000;
    for (const auto& point : {std::vector<double>{0.0, 0.0}, std::vector<double>{1.0, -0.5}}) {
        const torch::Tensor x = torch::tensor(point, torch::kDouble).unsqueeze(0);
        const torch::Tensor exact_mean = covariance.matmul(a.t().matmul(x.t())).squeeze(1) / (s * s);
        const torch::Tensor draws = head->sample(x.to(torch::kFloat), n, generator).to(torch::kDouble);
        const torch::Tensor mean = draws.mean(0);
        const torch::Tensor centred = draws - mean;
        const torch::Tensor sample_covariance = centred.t().matmul(centred) / (n - 1);
        INFO("x = (" << point[0] << ", " << point[1] << "): mean " << mean << " vs " << exact_mean << ", covariance "
                     << sample_covariance << " vs " << covariance);
        // Posterior sds are 0.35-0.45: the fit is trusted to 0.05 sd in the mean and 5%
        // in the covariance, far beyond the sampling error of 40,000 draws (0.005 sd).
        const torch::Tensor sd = covariance.diagonal().sqrt();
        CHECK(((mean - exact_mean).abs() / sd).max().item<double>() < 0.05);
        CHECK(((sample_covariance - covariance).abs() / (sd.unsqueeze(1) * sd.unsqueeze(0))).max().item<double>() <
              0.05);
    }
}
