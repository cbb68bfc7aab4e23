// Candidate models for classical model selection: a deterministic mean trajectory
// (analysis/mean_models.hpp) with a noise model, fitted by maximum likelihood with
// TAO from several starts (analysis/tao_fit.hpp), and scored by AIC and BIC.
//
// Epidemic candidates (series: reported daily incidence, counts):
//   mean: the daily chain-binomial mean field ("sir", "seir") or the ODE ("sir_ode",
//   "seir_ode"); noise: negative binomial with mean rho * mean incidence and
//   dispersion k. Parameters R0, infectious_period, (latent_period,) reporting_rate,
//   initial_infected, dispersion; the population is known. With an onset offset
//   (max_onset_offset > 0, for data simulated with sim.onset_offset = on) the mean runs
//   from the seeding and the series starts onset_offset days later, a real number in
//   [0, max_onset_offset] (between whole days the mean is interpolated linearly), so
//   the fit has the simulator's freedom of where the window starts.
// Growth candidates (series: population sizes):
//   mean: the closed-form logistic or Gompertz curve; noise: log-normal with sd
//   sdlog on the log scale. Parameters r, K, N0, sdlog.
// Every parameter but onset_offset is positive and fitted on the log scale within its
// bounds; onset_offset, which can be 0, is fitted on its own scale.
#pragma once

#include "sgnn/analysis/tao_fit.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::analysis {

template <int N>
struct Dual;
constexpr int kMaxFitParameters = 7;

class Candidate {
public:
    virtual ~Candidate() = default;
    virtual std::string name() const = 0;
    virtual const std::vector<std::string>& parameter_names() const = 0;
    // Bounds of the natural parameters (the fit searches their logs).
    const std::vector<double>& lower() const { return lower_; }
    const std::vector<double>& upper() const { return upper_; }
    // Whether the fit searches parameter i's log (else the value itself).
    bool fitted_in_logs(int i) const { return linear_.empty() || !linear_[static_cast<std::size_t>(i)]; }
    // Holds a parameter at a known value (both bounds); fits then leave it there and
    // AIC/BIC do not count it. Throws std::invalid_argument for an unknown name.
    void fix(const std::string& name, double value);
    int free_parameters() const;
    // The mean trajectory and the log-likelihood of a series under natural parameters.
    virtual void mean(const double* natural, int days, double* out) const = 0;
    virtual double log_likelihood(const double* natural, const double* series, int days) const = 0;
    // The same up to a constant that does not depend on the parameters, with its
    // gradient by the dual variables `natural` carries (dual.hpp): what fits maximize.
    virtual double log_likelihood_gradient(const Dual<kMaxFitParameters>* natural, const double* series, int days,
                                           double* gradient) const = 0;
    // A series drawn from the model (mean plus noise), for the optimizer check.
    virtual void sample(const double* natural, int days, std::uint64_t seed, std::uint64_t index,
                        double* out) const = 0;
    int size() const { return static_cast<int>(parameter_names().size()); }

protected:
    std::vector<double> lower_, upper_;
    std::vector<char> linear_;  // per parameter: fitted on its own scale (empty: none is)
};

// "sir", "seir", "sir_ode", "seir_ode" (population: the known N; max_onset_offset > 0
// adds the parameter onset_offset) or "logistic", "gompertz". Throws ConfigError for
// another name.
std::unique_ptr<Candidate> make_candidate(const std::string& name, double population = 1e5,
                                          double max_onset_offset = 0.0);

struct CandidateFit {
    std::vector<double> natural;  // maximum-likelihood parameters
    double log_likelihood = 0.0;
    double aic = 0.0;  // 2 p - 2 log L, p the free parameters
    double bic = 0.0;  // p log(days) - 2 log L
    int evaluations = 0;
    std::string reason;  // TAO's reason of the best start
};

struct RestartSettings {
    int random_starts = 5;  // uniform in the fit's coordinates within the bounds (log-uniform for most),
                            // from Philox (seed, baseline, series)
    FitSettings fit;
};

// Fits every candidate to one series: `random_starts` random starts each, then every
// candidate again from the best fit of each other candidate (cross-starts, mapped by
// parameter name; see candidates.cpp), so that no candidate loses for want of a start
// another one found. `series_index` seeds the random starts.
std::vector<CandidateFit> fit_candidates(const std::vector<const Candidate*>& candidates, const double* series,
                                         int days, std::uint64_t seed, std::uint64_t series_index,
                                         const RestartSettings& settings = {});

}  // namespace sgnn::analysis
