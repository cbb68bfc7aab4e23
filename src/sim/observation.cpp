#include "sgnn/sim/observation.hpp"

#include "sgnn/error.hpp"

#include <algorithm>
#include <cmath>

namespace sgnn::sim {
namespace {

struct StepInfo {
    const char* name;
    std::vector<std::string> parameters;
};

const std::vector<StepInfo>& step_table() {
    static const std::vector<StepInfo> table = {
        {"report", {"reporting_rate"}},
        {"delay", {"delay_mean", "delay_sd"}},
        {"negbin", {"dispersion"}},
        {"weekend", {"weekend_factor", "first_weekday"}},
        {"weekly", {}},
        {"missing", {"missing_rate"}},
        {"delay_pmf", {}},
        {"gaussian", {"noise_sd"}},
        {"lognormal", {"noise_sdlog"}},
        {"survey", {"survey_size"}},
        {"clamp", {"clamp_min", "clamp_max"}},
        {"truncate", {"observed_days"}},
    };
    return table;
}

// P(delay = d days), d = 0..max, from a gamma distribution with the given mean and sd,
// discretized by integrating over [d, d+1) (regularized incomplete gamma via series).
std::vector<double> gamma_delay_pmf(double mean, double sd, int max_days) {
    const double shape = (mean * mean) / (sd * sd), scale = sd * sd / mean;
    auto cdf = [&](double x) {
        if (x <= 0) return 0.0;
        // P(shape, x/scale) by its power series; converges for all x, terms shrink fast.
        const double t = x / scale;
        double term = 1.0 / shape, sum = term;
        for (int k = 1; k < 1000 && term > sum * 1e-16; ++k) {
            term *= t / (shape + k);
            sum += term;
        }
        return std::min(1.0, sum * std::exp(-t + shape * std::log(t) - std::lgamma(shape)));
    };
    std::vector<double> pmf(static_cast<std::size_t>(max_days) + 1);
    double previous = 0.0;
    for (int d = 0; d <= max_days; ++d) {
        const double c = cdf(d + 1.0);
        pmf[static_cast<std::size_t>(d)] = c - previous;
        previous = c;
    }
    pmf.back() += 1.0 - previous;  // the far tail arrives on the last day considered: nothing is lost
    return pmf;
}

}  // namespace

const std::vector<std::string>& ObservationModel::step_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto& s : step_table()) n.push_back(s.name);
        return n;
    }();
    return names;
}

std::vector<std::string> ObservationModel::parameters_of(const std::string& step) {
    for (const auto& s : step_table()) {
        if (step == s.name) return s.parameters;
    }
    return {};
}

// Spreads series[d] over days d, d+1, ... with weights pmf; what would arrive after the
// last day is not reported yet (right truncation).
static void convolve(std::vector<double>& series, std::vector<double>& next, int length,
                     const std::vector<double>& pmf) {
    next.assign(static_cast<std::size_t>(length), 0.0);
    for (int d = 0; d < length; ++d) {
        for (std::size_t lag = 0; lag < pmf.size() && d + static_cast<int>(lag) < length; ++lag) {
            next[static_cast<std::size_t>(d) + lag] += series[static_cast<std::size_t>(d)] * pmf[lag];
        }
    }
    series.swap(next);
}

ObservationModel::Transform ObservationModel::parse_transform(const std::string& name) {
    if (name == "log1p") return Transform::log1p;
    if (name == "identity") return Transform::identity;
    throw ConfigError("obs.transform = '" + name + "': must be log1p or identity");
}

ObservationModel::ObservationModel(const std::vector<std::string>& steps, int days, std::vector<double> delay_pmf,
                                   int channels, Transform transform)
    : delay_pmf_(std::move(delay_pmf)), days_(days), channels_(channels), transform_(transform), channel_length_(days) {
    std::string list;
    for (const auto& n : step_names()) list += (list.empty() ? "" : ", ") + n;
    bool weekly = false;
    for (const auto& name : steps) {
        const auto& table = step_table();
        const auto it = std::find_if(table.begin(), table.end(), [&](const StepInfo& s) { return name == s.name; });
        if (it == table.end()) throw ConfigError("obs.steps: unknown step '" + name + "'; steps are " + list);
        const Step step = static_cast<Step>(it - table.begin());
        if (std::find(steps_.begin(), steps_.end(), step) != steps_.end()) {
            throw ConfigError("obs.steps: '" + name + "' is listed twice");
        }
        if (weekly && step == Step::weekend) throw ConfigError("obs.steps: 'weekend' must come before 'weekly'");
        if (!steps_.empty() && steps_.back() == Step::truncate) {
            throw ConfigError("obs.steps: 'truncate' must be the last step (it cuts the finished series short)");
        }
        weekly |= step == Step::weekly;
        steps_.push_back(step);
        parameters_.insert(parameters_.end(), it->parameters.begin(), it->parameters.end());
    }
    if (std::find(steps_.begin(), steps_.end(), Step::delay_pmf) != steps_.end()) {
        double total = 0.0;
        for (double w : delay_pmf_) {
            if (!(w >= 0.0) || !std::isfinite(w)) throw ConfigError("obs.delay_pmf: weights must be >= 0");
            total += w;
        }
        if (!(total > 0.0)) {
            throw ConfigError(
                "obs.delay_pmf: the delay_pmf step needs weights, e.g. 0.2,0.5,0.3 for delays of 0-2 days");
        }
        for (double& w : delay_pmf_) w /= total;
    }
    if (weekly) {
        if (days < 7) throw ConfigError("obs.steps: 'weekly' needs sim.days >= 7");
        channel_length_ = days / 7;
    }
    for (const Step marks : {Step::missing, Step::truncate}) {
        if (transform_ == Transform::identity && std::find(steps_.begin(), steps_.end(), marks) != steps_.end()) {
            throw ConfigError(std::string("obs.steps: '") + step_table()[static_cast<std::size_t>(marks)].name +
                              "' feeds missing entries as -1, which needs obs.transform = log1p "
                              "(with identity, -1 could be a real value)");
        }
    }
}

bool ObservationModel::observe(const double* series, const double* params, SampleStream& rng, float* out) const {
    for (int c = 0; c < channels_; ++c) {
        if (!observe_channel(series + static_cast<std::size_t>(c) * static_cast<std::size_t>(days_), params, rng,
                             out + static_cast<std::size_t>(c) * static_cast<std::size_t>(channel_length_))) {
            return false;
        }
    }
    return true;
}

bool ObservationModel::observe_channel(const double* values, const double* params, SampleStream& rng,
                                       float* out) const {
    thread_local std::vector<double> series, next;
    series.assign(values, values + days_);
    std::vector<bool> missing;
    int length = days_;
    const double* p = params;
    for (const Step step : steps_) {
        // Count steps draw from binomial and negative-binomial laws: they need counts.
        const bool counts = step == Step::report || step == Step::negbin || step == Step::weekend;
        if (counts && std::any_of(series.begin(), series.begin() + length,
                                  [](double v) { return !(v >= 0.0) || !std::isfinite(v); })) {
            return false;
        }
        switch (step) {
            case Step::report: {
                const double rate = *p++;
                for (int d = 0; d < length; ++d) {
                    series[d] = static_cast<double>(binomial(rng, std::llround(series[d]), rate));
                }
                break;
            }
            case Step::delay: {
                const double mean = *p++, sd = *p++;
                // Cases whose delay runs past the end of the series are not reported yet
                // (right truncation, as in real-time data).
                const int horizon = std::min(length - 1, static_cast<int>(std::ceil(mean + 8.0 * sd)));
                convolve(series, next, length, gamma_delay_pmf(mean, sd, horizon));
                break;
            }
            case Step::delay_pmf:
                convolve(series, next, length, delay_pmf_);
                break;
            case Step::negbin: {
                const double k = *p++;
                for (int d = 0; d < length; ++d) {
                    series[d] = static_cast<double>(negative_binomial(rng, series[d], k));
                }
                break;
            }
            case Step::weekend: {
                // Day d is weekday (first_weekday + d) mod 7, Monday 0: 5 and 6 are
                // the weekend.
                const double factor = *p++;
                const auto first = static_cast<int>(std::llround(*p++)) % 7;
                double backlog = 0.0;
                for (int d = 0; d < length; ++d) {
                    const int weekday = (first + d) % 7;
                    if (weekday >= 5) {
                        const double kept = binomial(rng, std::llround(series[d]), factor);
                        backlog += series[d] - kept;
                        series[d] = kept;
                    } else if (weekday == 0) {
                        series[d] += backlog;
                        backlog = 0.0;
                    }
                }
                break;
            }
            case Step::weekly: {
                const int weeks = length / 7;
                for (int w = 0; w < weeks; ++w) {
                    double total = 0.0;
                    for (int d = 0; d < 7; ++d)
                        total += series[7 * static_cast<std::size_t>(w) + static_cast<std::size_t>(d)];
                    series[static_cast<std::size_t>(w)] = total;
                }
                length = weeks;
                break;
            }
            case Step::missing: {
                const double rate = *p++;
                missing.assign(static_cast<std::size_t>(length), false);
                for (int d = 0; d < length; ++d) missing[static_cast<std::size_t>(d)] = rng.uniform() < rate;
                break;
            }
            case Step::gaussian: {
                const double sd = *p++;
                for (int d = 0; d < length; ++d) series[d] += sd * rng.normal();
                break;
            }
            case Step::lognormal: {
                const double sdlog = *p++;
                for (int d = 0; d < length; ++d) series[d] *= std::exp(sdlog * rng.normal());
                break;
            }
            case Step::survey: {
                // A prevalence survey of `size` people: the count of positives. The share
                // is clamped to [0, 1], as the SBI benchmark does for ODE round-off.
                const std::int64_t size = std::llround(*p++);
                for (int d = 0; d < length; ++d) {
                    if (std::isnan(series[d])) return false;
                    series[d] = static_cast<double>(binomial(rng, size, std::clamp(series[d], 0.0, 1.0)));
                }
                break;
            }
            case Step::truncate: {
                // A series that ends early: the entries after the first observed_days
                // are missing, fed as the missing step feeds them. The steps before
                // ran on the whole series, which is exact for the day-by-day noise
                // steps and for delays (a day's count only gathers earlier cases).
                const auto kept = static_cast<int>(std::clamp<long long>(std::llround(*p++), 1, length));
                missing.resize(static_cast<std::size_t>(length), false);
                for (int d = kept; d < length; ++d) {
                    missing[static_cast<std::size_t>(d)] = true;
                    series[static_cast<std::size_t>(d)] = 0.0;
                }
                break;
            }
            case Step::clamp: {
                const double low = *p++, high = *p++;
                if (!(low <= high)) return false;  // bounds drawn the wrong way round: the sample is dropped
                for (int d = 0; d < length; ++d) {
                    if (!std::isnan(series[d])) series[d] = std::clamp(series[d], low, high);
                }
                break;
            }
        }
    }
    for (int d = 0; d < length; ++d) {
        const double v = series[static_cast<std::size_t>(d)];
        if (!std::isfinite(v)) return false;
        if (transform_ == Transform::identity) {
            out[d] = static_cast<float>(v);
            continue;
        }
        if (!(v >= 0.0)) return false;
        out[d] = !missing.empty() && missing[static_cast<std::size_t>(d)] ? -1.0f : static_cast<float>(std::log1p(v));
    }
    return true;
}

}  // namespace sgnn::sim
