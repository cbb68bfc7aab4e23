// Does an observed series look like the simulations the network learned from? A
// network answers for any input, also one far outside its training prior, and there
// its answer is an extrapolation. The check places the series among simulations in
// the network's own embedding (its penultimate layer): the distance from the series to
// its k-th nearest of kReference simulations, as a percentile of the same distance for
// kHeldOut other simulations. Both sets are drawn from the run's task and prior with
// the series' own length (a truncating network's simulations are cut to it), so a
// series from the prior lands beyond the 99th percentile 1% of the time.
#pragma once

#include "sgnn/predict/inputs.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/train/predictor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::predict {

struct OutOfDistribution {
    double distance = 0.0;    // to the k-th nearest reference simulation, in the embedding
    double percentile = 0.0;  // of `distance` among held-out simulations', 0-100
    bool warn = false;        // beyond kWarnPercentile
    std::string advice;       // when warn: what to change (priors, population, length)
};

class SimulationReference {
public:
    static constexpr int kReference = 2000;
    static constexpr int kHeldOut = 1000;
    static constexpr int kNeighbours = 10;
    static constexpr double kWarnPercentile = 99.0;

    // Simulations from `task` (stream `seed`, purpose test, indices from 2^44 on: no
    // other set uses them) observed for `length` entries, embedded by `network`.
    // Throws std::runtime_error if the prior rarely reaches that length.
    SimulationReference(const sim::Task& task, const train::Predictor& network, const InputShape& shape,
                        std::uint64_t seed, int length, int threads);

    // The score of one series: its embedding, and its total count (NaN when the
    // series is not counts) for the advice.
    OutOfDistribution score(const std::vector<float>& embedding, double total) const;

    // The targets of the simulations (rows x targets, NaN where a mechanism lacks
    // one): draws of each target's prior, for plots of posterior against prior.
    const std::vector<float>& prior_targets() const { return prior_targets_; }

private:
    double kth_distance(const float* embedding) const;

    int width_ = 0;
    std::vector<float> reference_;  // kReference x width_
    std::vector<double> held_out_;  // kHeldOut distances, sorted
    std::vector<double> totals_;    // every simulation's total count, sorted (log1p inputs)
    std::vector<float> prior_targets_;
    int length_;
    std::string unit_;
};

}  // namespace sgnn::predict
