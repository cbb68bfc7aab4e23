#include "sgnn/predict/predictive_check.hpp"

#include "sgnn/analysis/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sgnn::predict {

PredictiveChecker::PredictiveChecker(const sim::Task& task, const std::vector<std::string>& targets,
                                     const InputShape& shape)
    : task_(task), shape_(shape), n_targets_(static_cast<int>(targets.size())) {
    if (task.layout().n_classes() > 0) {
        unavailable_ = "a mixture's mechanism is not a parameter the check can simulate from";
        return;
    }
    priors_ = task.parameter_priors();
    const auto& names = task.parameter_names();
    weekday_ = static_cast<int>(std::find(names.begin(), names.end(), "first_weekday") - names.begin());
    if (weekday_ == static_cast<int>(names.size())) weekday_ = -1;
    if (priors_.size() != names.size()) {
        unavailable_ = "the task does not say its priors";
        return;
    }
    for (std::size_t p = 0; p < names.size(); ++p) {
        const auto at = [&](const std::string& name) {
            return static_cast<int>(std::find(targets.begin(), targets.end(), name) - targets.begin());
        };
        if (const int t = at(names[p]); t < n_targets_) {
            sources_.push_back({Source::Kind::target, t, 0.0});
        } else if (const int l = at("log_" + names[p]); l < n_targets_) {
            sources_.push_back({Source::Kind::log_target, l, 0.0});
        } else if (names[p] == "observed_days") {
            sources_.push_back({Source::Kind::length, 0, 0.0});
        } else if (priors_[p].kind() == sim::ParameterPrior::Kind::fixed) {
            sources_.push_back({Source::Kind::fixed, 0, priors_[p].centre()});
        } else {
            sources_.push_back({Source::Kind::prior, static_cast<int>(p), 0.0});
            if (names[p] != "first_weekday") from_prior_ += (from_prior_.empty() ? "" : ", ") + names[p];
        }
    }
}

PredictiveCheck PredictiveChecker::check(const io::ObservedSeries& series, const std::vector<double>& draws,
                                         std::int64_t n, std::uint64_t seed, std::uint64_t index) const {
    PredictiveCheck result;
    const int length = series.length, channels = shape_.channels, entries = shape_.entries;
    const std::size_t width = static_cast<std::size_t>(length) * static_cast<std::size_t>(channels);
    result.length = length;
    const auto wanted = static_cast<int>(std::min<std::int64_t>(n, kReplicates));
    std::vector<double> parameters(sources_.size());
    std::vector<float> inputs(static_cast<std::size_t>(task_.layout().n_inputs));
    std::vector<std::vector<double>> replicates;  // each: channels x length counts, NaN missing
    for (int k = 0; k < wanted; ++k) {
        const double* draw = draws.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(n_targets_);
        // Replicate streams: test purpose, from 2^45 on, 2^20 per series; the prior
        // draws of uncovered parameters come first.
        sim::SampleStream rng(seed, sim::Purpose::test, (1ull << 45) + (index << 20) + static_cast<std::uint64_t>(k));
        for (std::size_t p = 0; p < sources_.size(); ++p) {
            const Source& s = sources_[p];
            parameters[p] = s.kind == Source::Kind::target       ? draw[s.index]
                            : s.kind == Source::Kind::log_target ? std::exp(draw[s.index])
                            : s.kind == Source::Kind::length     ? static_cast<double>(length)
                            : s.kind == Source::Kind::prior      ? priors_[static_cast<std::size_t>(s.index)].draw(rng)
                                                                 : s.value;
        }
        // A dated series starts on a known weekday (1970-01-01, day 0, was a Thursday).
        if (weekday_ >= 0 && series.first_day) {
            parameters[static_cast<std::size_t>(weekday_)] = static_cast<double>(((*series.first_day + 3) % 7 + 7) % 7);
        }
        if (!task_.simulate_from(parameters.data(), rng, inputs.data())) continue;
        std::vector<double> counts(width);
        for (int c = 0; c < channels; ++c) {
            for (int d = 0; d < length; ++d) {
                const float x = inputs[static_cast<std::size_t>(c * entries + d)];
                counts[static_cast<std::size_t>(c * length + d)] = !shape_.log1p ? x
                                                                   : x < 0.0f ? std::numeric_limits<double>::quiet_NaN()
                                                                              : std::expm1(x);
            }
        }
        replicates.push_back(std::move(counts));
    }
    result.replicates = static_cast<int>(replicates.size());
    if (replicates.size() < 10) return result;  // too few to say anything: p_value stays 0, band empty
    std::vector<double> mean(width, 0.0), variance(width, 0.0);
    result.band.assign(5 * width, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t e = 0; e < width; ++e) {
        std::vector<double> values;
        for (const auto& r : replicates) {
            if (!std::isnan(r[e])) values.push_back(r[e]);
        }
        if (values.size() < 2) continue;
        std::sort(values.begin(), values.end());
        for (int q = 0; q < 5; ++q)
            result.band[static_cast<std::size_t>(q) * width + e] = analysis::quantile_of_sorted(values, kBandLevels[q]);
        double sum = 0.0;
        for (double v : values) sum += v;
        mean[e] = sum / static_cast<double>(values.size());
        for (double v : values) variance[e] += (v - mean[e]) * (v - mean[e]);
        variance[e] /= static_cast<double>(values.size() - 1);
        const double y = series.values[e];
        if (!std::isnan(y) && (y < result.band[e] || y > result.band[4 * width + e])) ++result.outside_95;
    }
    const auto discrepancy = [&](const std::vector<double>& y) {
        double t = 0.0;
        for (std::size_t e = 0; e < width; ++e) {
            if (!std::isnan(y[e]) && !std::isnan(result.band[2 * width + e]))
                t += (y[e] - mean[e]) * (y[e] - mean[e]) / (variance[e] + 1.0);
        }
        return t;
    };
    const double observed = discrepancy(series.values);
    int as_extreme = 0;
    for (const auto& r : replicates) as_extreme += discrepancy(r) >= observed;
    result.p_value = (1.0 + as_extreme) / (1.0 + static_cast<double>(replicates.size()));
    return result;
}

}  // namespace sgnn::predict
