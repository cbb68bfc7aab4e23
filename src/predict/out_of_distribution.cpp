#include "sgnn/predict/out_of_distribution.hpp"

#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sgnn::predict {

SimulationReference::SimulationReference(const sim::Task& task, const train::Predictor& network,
                                         const InputShape& shape, std::uint64_t seed, int length, int threads)
    : length_(length), unit_(shape.unit) {
    const auto& names = task.parameter_names();
    const auto observed = std::find(names.begin(), names.end(), "observed_days");
    const std::size_t n_params = names.size(), n_in = static_cast<std::size_t>(task.layout().n_inputs);
    const std::size_t entries = static_cast<std::size_t>(shape.entries);
    const int wanted = kReference + kHeldOut, chunk = 4096;
    std::vector<float> inputs;
    inputs.reserve(static_cast<std::size_t>(wanted) * n_in);
    int kept = 0;
    for (std::uint64_t first = 1ull << 44; kept < wanted; first += chunk) {
        if (first >= (1ull << 44) + 200ull * chunk) {
            throw std::runtime_error("the out-of-distribution check found too few simulations of " +
                                     std::to_string(length) + " " + unit_ + " in 819,200 draws of the prior (" +
                                     shape.observed_prior + ")");
        }
        const sim::IndexedSamples made =
            sim::generate_indexed_samples(task, seed, sim::Purpose::test, first, chunk, threads);
        for (int j = 0; j < chunk && kept < wanted; ++j) {
            if (!made.valid[static_cast<std::size_t>(j)]) continue;
            // A truncating task: only simulations observed at least this long, cut to it
            // (truncate is the last step and draws nothing, so the cut is exact).
            if (observed != names.end()) {
                const double days = made.parameters[static_cast<std::size_t>(j) * n_params +
                                                    static_cast<std::size_t>(observed - names.begin())];
                if (std::llround(days) < length) continue;
            }
            const float* x = made.inputs.data() + static_cast<std::size_t>(j) * n_in;
            const std::size_t start = inputs.size();
            inputs.insert(inputs.end(), x, x + n_in);
            double total = 0.0;
            for (std::size_t c = 0; c < static_cast<std::size_t>(shape.channels); ++c) {
                for (std::size_t d = 0; d < entries; ++d) {
                    float& v = inputs[start + c * entries + d];
                    if (d >= static_cast<std::size_t>(length)) v = -1.0f;
                    if (shape.log1p && v >= 0.0f) total += std::expm1(static_cast<double>(v));
                }
            }
            totals_.push_back(total);
            const std::size_t n_t = static_cast<std::size_t>(task.layout().n_targets());
            const float* t = made.targets.data() + static_cast<std::size_t>(j) * n_t;
            prior_targets_.insert(prior_targets_.end(), t, t + n_t);
            ++kept;
        }
    }
    std::sort(totals_.begin(), totals_.end());
    const std::vector<float> embedded = network.embed(inputs.data(), wanted);
    width_ = static_cast<int>(embedded.size() / static_cast<std::size_t>(wanted));
    reference_.assign(embedded.begin(), embedded.begin() + static_cast<long>(kReference) * width_);
    for (int j = 0; j < kHeldOut; ++j) {
        held_out_.push_back(kth_distance(embedded.data() + static_cast<std::size_t>(kReference + j) * width_));
    }
    std::sort(held_out_.begin(), held_out_.end());
}

double SimulationReference::kth_distance(const float* embedding) const {
    std::vector<double> squared(static_cast<std::size_t>(kReference));
    for (int r = 0; r < kReference; ++r) {
        const float* y = reference_.data() + static_cast<std::size_t>(r) * width_;
        double sum = 0.0;
        for (int k = 0; k < width_; ++k) {
            const double d = static_cast<double>(embedding[k]) - y[k];
            sum += d * d;
        }
        squared[static_cast<std::size_t>(r)] = sum;
    }
    std::nth_element(squared.begin(), squared.begin() + (kNeighbours - 1), squared.end());
    return std::sqrt(squared[kNeighbours - 1]);
}

OutOfDistribution SimulationReference::score(const std::vector<float>& embedding, double total) const {
    OutOfDistribution result;
    result.distance = kth_distance(embedding.data());
    const auto above = std::upper_bound(held_out_.begin(), held_out_.end(), result.distance) - held_out_.begin();
    result.percentile = 100.0 * static_cast<double>(above) / static_cast<double>(held_out_.size());
    result.warn = result.percentile > kWarnPercentile;
    if (!result.warn) return result;
    const std::string simulations = "simulations of " + std::to_string(length_) + " " + unit_;
    if (std::isfinite(total) && !totals_.empty()) {
        const double high = analysis::quantile_of_sorted(totals_, 0.99),
                     low = analysis::quantile_of_sorted(totals_, 0.01);
        if (total > high) {
            result.advice = "it has more cases (" + format_number(total) + ") than 99% of " + simulations +
                            " (99th percentile " + format_number(std::round(high)) +
                            "): raise the upper end of prior.population (or of prior.reporting_rate, "
                            "prior.initial_infected)";
            return result;
        }
        if (total < low) {
            result.advice = "it has fewer cases (" + format_number(total) + ") than 99% of " + simulations +
                            " (1st percentile " + format_number(std::round(low)) +
                            "): lower the bottom of prior.population or prior.reporting_rate, or give the series "
                            "from the start of the outbreak";
            return result;
        }
    }
    result.advice = "its shape is unlike the " + simulations +
                    ": check sim.model and obs.steps, widen the priors of the epidemic's speed (prior.R0 or "
                    "prior.growth_rate, the periods) and sim.onset_offset, and that the series covers the outbreak";
    return result;
}

}  // namespace sgnn::predict
