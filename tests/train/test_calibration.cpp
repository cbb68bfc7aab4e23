// Simulation-based calibration (train/calibration.hpp) on a conjugate Gaussian toy whose
// exact posterior is known: exact posterior draws give uniform ranks and nominal
// coverage; overconfident or biased ones are caught.
#include "calibration.hpp"

#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

using namespace sgnn::train;

namespace {

// theta ~ N(0, 1) per target, x = theta + N(0, s^2): the posterior is
// N(x / (1 + s^2), s^2 / (1 + s^2)). Draws from it with its sd scaled by `sd_factor`
// and its mean shifted by `shift` posterior sds (1 and 0: exact). Returns the PIT
// histograms, targets x kBins.
torch::Tensor sbc_histogram(double sd_factor, double shift, std::uint64_t seed) {
    const std::int64_t rows = 2048, draws = 100, targets = 2;
    const double s = 0.5;
    at::Generator generator = at::detail::createCPUGenerator(seed);
    const torch::Tensor theta = torch::randn({rows, targets}, generator, torch::kDouble);
    const torch::Tensor x = theta + s * torch::randn({rows, targets}, generator, torch::kDouble);
    const double posterior_sd = std::sqrt(s * s / (1 + s * s));
    const torch::Tensor mean = x / (1 + s * s) + shift * posterior_sd;
    const torch::Tensor sample =
        mean.unsqueeze(1) + sd_factor * posterior_sd * torch::randn({rows, draws, targets}, generator, torch::kDouble);
    return calibration::histogram(calibration::pit(sample, theta, generator));
}

}  // namespace

TEST_CASE("exact posterior draws have uniform ranks and nominal coverage", "[calibration]") {
    const torch::Tensor counts = sbc_histogram(1.0, 0.0, 3).contiguous();
    for (int j = 0; j < 2; ++j) {
        const calibration::Summary s = calibration::summarize(counts.data_ptr<double>() + j * calibration::kBins);
        INFO("target " << j << ": chi-square " << s.chi_square << ", p " << s.p_value);
        CHECK(s.count == 2048);
        // A correctly specified posterior passes the uniformity test at the 1% level.
        CHECK(s.p_value >= 0.01);
        for (std::size_t l = 0; l < calibration::kLevels.size(); ++l) {
            const double a = calibration::kLevels[l];
            // Within 4 binomial standard errors of the nominal level.
            CHECK(std::fabs(s.coverage[l] - a) <= 4 * std::sqrt(a * (1 - a) / s.count));
        }
    }
}

TEST_CASE("overconfident and biased posteriors fail the test and miss the coverage", "[calibration]") {
    const torch::Tensor narrow = sbc_histogram(0.5, 0.0, 4).contiguous();
    const calibration::Summary n = calibration::summarize(narrow.data_ptr<double>());
    CHECK(n.p_value < 1e-6);
    // A central interval half as wide as it should be: the 90% interval covers about
    // P(|z| < 0.82) = 59%.
    CHECK(n.coverage[2] < 0.7);
    const torch::Tensor biased = sbc_histogram(1.0, 0.5, 5).contiguous();
    const calibration::Summary b = calibration::summarize(biased.data_ptr<double>());
    CHECK(b.p_value < 1e-6);
    // Too wide: the coverage exceeds every level.
    const torch::Tensor wide = sbc_histogram(2.0, 0.0, 6).contiguous();
    const calibration::Summary w = calibration::summarize(wide.data_ptr<double>());
    CHECK(w.p_value < 1e-6);
    CHECK(w.coverage[0] > 0.6);
}

TEST_CASE("the coverage of a level counts the PIT values in its central bins, exactly", "[calibration]") {
    // All mass in the two central bins: every level covers it; in the outermost bins: none.
    double counts[calibration::kBins] = {};
    counts[calibration::kBins / 2 - 1] = counts[calibration::kBins / 2] = 50;
    const calibration::Summary centre = calibration::summarize(counts);
    for (double c : centre.coverage) CHECK(c == 1.0);
    double tails[calibration::kBins] = {};
    tails[0] = tails[calibration::kBins - 1] = 50;
    const calibration::Summary edge = calibration::summarize(tails);
    for (double c : edge.coverage) CHECK(c == 0.0);
    // A flat histogram covers each level exactly and is perfectly uniform.
    double flat[calibration::kBins];
    for (double& c : flat) c = 10;
    const calibration::Summary uniform = calibration::summarize(flat);
    for (std::size_t l = 0; l < calibration::kLevels.size(); ++l)
        CHECK(uniform.coverage[l] == Approx(calibration::kLevels[l]));
    CHECK(uniform.p_value == Approx(1.0));
}
