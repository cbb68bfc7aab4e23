// The posterior predictive check: does the fitted model reproduce the observed series?
// Replicates are simulated from posterior draws through the run's own simulator and
// observation model (sim::Task::simulate_from), with the series' own length, and the
// observed series is placed among them: a per-day band of the replicates, the days
// outside its central 95%, and an overall p-value, P(T(replicate) >= T(observed)) for
// the discrepancy T(y) = sum over days of (y_d - m_d)^2 / (v_d + 1), m_d and v_d the
// replicates' mean and variance on day d (the +1 keeps days where every replicate is
// 0 from dominating). A small p-value says the model cannot produce series like this
// one, whatever its parameters.
#pragma once

#include "sgnn/io/observation_csv.hpp"
#include "sgnn/predict/inputs.hpp"
#include "sgnn/sim/task.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::predict {

struct PredictiveCheck {
    int replicates = 0;
    int length = 0;
    std::vector<double> band;  // 5 x length: the replicates' 2.5, 25, 50, 75, 97.5% per entry
    double p_value = 0.0;
    int outside_95 = 0;  // observed entries outside the 95% band
};

class PredictiveChecker {
public:
    static constexpr int kReplicates = 500;
    static constexpr double kBandLevels[5] = {0.025, 0.25, 0.5, 0.75, 0.975};

    // `targets`: the names of the posterior draws' columns. Each parameter of the task
    // comes from the posterior (as a target or its log_), from the series
    // (observed_days: its length; first_weekday: its first date's weekday), or else
    // from its prior: a nuisance parameter the
    // network was not asked about (a discrete one cannot be a density head's target)
    // is then averaged over its prior, which widens the band, so the check errs
    // towards passing.
    PredictiveChecker(const sim::Task& task, const std::vector<std::string>& targets, const InputShape& shape);

    // Empty if the check can run; else why not and what to change.
    const std::string& unavailable() const { return unavailable_; }
    // The parameters drawn from their priors (not fixed ones), comma-separated.
    const std::string& from_prior() const { return from_prior_; }

    // `draws`: n x targets posterior draws of the series (the first kReplicates are
    // used); `index` makes each series' replicate streams its own.
    PredictiveCheck check(const io::ObservedSeries& series, const std::vector<double>& draws, std::int64_t n,
                          std::uint64_t seed, std::uint64_t index) const;

private:
    struct Source {
        enum class Kind { target, log_target, fixed, length, prior } kind;
        int index = 0;
        double value = 0.0;
    };
    const sim::Task& task_;
    InputShape shape_;
    int n_targets_;
    std::vector<Source> sources_;
    std::vector<sim::ParameterPrior> priors_;
    int weekday_ = -1;  // first_weekday's place (the weekend step), set from a dated series' first day
    std::string unavailable_, from_prior_;
};

}  // namespace sgnn::predict
