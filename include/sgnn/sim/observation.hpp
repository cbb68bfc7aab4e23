// Observation models: how true daily incidence becomes the series a network sees.
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
//             counts; the shortfall is reported on Monday
//   weekly    weekly totals instead of daily counts (the series gets days/7 entries)
//   missing   each entry is missing with probability missing_rate
//
// The output is log(1 + count) per entry, and -1 for a missing entry. Each step draws
// its parameters from the priors prior.NAME (see sim/parameters.hpp).
#pragma once

#include "sgnn/sim/random.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::sim {

class ObservationModel {
public:
    // Throws ConfigError naming obs.steps for an unknown step or an impossible order.
    // `delay_pmf` is used by the delay_pmf step only.
    ObservationModel(const std::vector<std::string>& steps, int days, std::vector<double> delay_pmf = {});

    // Parameter names, in the order observe() receives their values.
    const std::vector<std::string>& parameters() const { return parameters_; }
    int output_length() const { return output_length_; }
    // Returns false if the result is unusable (negative or non-finite counts).
    bool observe(const std::int64_t* incidence, const double* params, SampleStream& rng, float* out) const;

    static const std::vector<std::string>& step_names();
    static std::vector<std::string> parameters_of(const std::string& step);

private:
    enum class Step { report, delay, negbin, weekend, weekly, missing, delay_pmf };
    std::vector<Step> steps_;
    std::vector<std::string> parameters_;
    std::vector<double> delay_pmf_;
    int days_;
    int output_length_;
};

}  // namespace sgnn::sim
