// Observation models: how a simulated series becomes what the network sees.
// A model is a pipeline of steps, applied in the order given by `obs.steps`:
//
//   report    binomial thinning: each case is reported with probability reporting_rate
//   delay     reporting delay: counts spread over later days by a discretized gamma
//             distribution (mean delay_mean, sd delay_sd days), by convolution
//   delay_pmf reporting delay with a given distribution: obs.delay_pmf lists
//             P(delay = 0, 1, 2, ... days) (normalized), by convolution
//   negbin    negative-binomial noise around the current value (variance m + m^2/k,
//             k = dispersion)
//   weekend   weekend effect: Saturday and Sunday report weekend_factor of their
//             counts; the shortfall is reported on Monday. Day 0 is weekday
//             first_weekday (0 Monday ... 6 Sunday)
//   weekly    weekly totals instead of daily counts (the series gets days/7 entries)
//   missing   each entry is missing with probability missing_rate
//   gaussian  additive Gaussian measurement noise, sd noise_sd (in the series' units)
//   lognormal multiplicative log-normal noise: x exp(noise_sdlog z), z standard normal
//   survey    a prevalence survey: a share p (clamped to [0, 1]) becomes the number of
//             positives among survey_size people, Binomial(survey_size, p)
//   clamp     each value clamped to [clamp_min, clamp_max] (the SBI benchmark clamps
//             Lotka-Volterra populations to [1e-10, 1e4] before its log-normal noise)
//   truncate  a series that ends early: only the first observed_days entries are
//             seen, the rest are missing (fed as -1), so that one network reads series
//             of any length up to sim.days (the last step; weeks after weekly)
//
// Then a transform (obs.transform): log1p, log(1 + x) (the default, for counts; a
// negative value drops the sample), or identity. A missing entry is fed as -1, which
// needs log1p (real values are then >= 0). Each step draws its parameters from the
// priors prior.NAME (see sim/parameters.hpp). A model with several series (channels,
// e.g. prey and predators) has each observed by the same steps and parameters, one
// channel after the other; the network sees the channels one after the other.
#pragma once

#include "sgnn/sim/random.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::sim {

class ObservationModel {
public:
    enum class Transform { log1p, identity };

    // Throws ConfigError naming obs.steps for an unknown step or an impossible order.
    // `delay_pmf` is used by the delay_pmf step only.
    ObservationModel(const std::vector<std::string>& steps, int days, std::vector<double> delay_pmf = {},
                     int channels = 1, Transform transform = Transform::log1p);

    // Parameter names, in the order observe() receives their values.
    const std::vector<std::string>& parameters() const { return parameters_; }
    int channel_length() const { return channel_length_; }             // entries per channel
    int output_length() const { return channel_length_ * channels_; }  // all channels
    // `series` holds channels x days values. Returns false if the result is unusable
    // (non-finite, or negative where counts or log1p need >= 0).
    bool observe(const double* series, const double* params, SampleStream& rng, float* out) const;

    static const std::vector<std::string>& step_names();
    static std::vector<std::string> parameters_of(const std::string& step);
    static Transform parse_transform(const std::string& name);  // throws ConfigError naming obs.transform

private:
    enum class Step {
        report,
        delay,
        negbin,
        weekend,
        weekly,
        missing,
        delay_pmf,
        gaussian,
        lognormal,
        survey,
        clamp,
        truncate
    };
    bool observe_channel(const double* series, const double* params, SampleStream& rng, float* out) const;

    std::vector<Step> steps_;
    std::vector<std::string> parameters_;
    std::vector<double> delay_pmf_;
    int days_;
    int channels_;
    Transform transform_;
    int channel_length_;
};

}  // namespace sgnn::sim
