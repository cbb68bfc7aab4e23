#include "sgnn/analysis/candidates.hpp"

#include "dual.hpp"
#include "mean_recursions.hpp"
#include "sgnn/analysis/mean_models.hpp"
#include "sgnn/error.hpp"
#include "sgnn/sim/random.hpp"

#include <boost/math/special_functions/digamma.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sgnn::analysis {
namespace {

constexpr double kHalfLogTwoPi = 0.91893853320467274178;
using std::log;  // with Dual's log, for the likelihood templates

// lgamma(y + k) - lgamma(k), and its derivative digamma(y + k) - digamma(k) for duals.
// Digamma in double precision: Boost's default promotes to long double, 5x slower.
double log_gamma_ratio(double y, double k) { return std::lgamma(y + k) - std::lgamma(k); }
Dual<kMaxFitParameters> log_gamma_ratio(double y, const Dual<kMaxFitParameters>& k) {
    if (y == 0.0) return Dual<kMaxFitParameters>(0.0);
    using namespace boost::math::policies;
    const auto in_double = make_policy(promote_double<false>());
    return k.apply(log_gamma_ratio(y, k.v),
                   boost::math::digamma(y + k.v, in_double) - boost::math::digamma(k.v, in_double));
}

// Bounds wide enough to hold every prior the experiments use with room to spare: a
// fit that ends on a bound has been cut short, not helped.
// What every candidate's gradient is: its likelihood template evaluated on duals.
template <class Model>
class DifferentiableCandidate : public Candidate {
public:
    double log_likelihood_gradient(const Dual<kMaxFitParameters>* x, const double* y, int days,
                                   double* gradient) const override {
        const Dual<kMaxFitParameters> ll = static_cast<const Model&>(*this).likelihood_of(x, y, days);
        std::copy(ll.d.begin(), ll.d.begin() + size(), gradient);
        return ll.v;
    }
};

class EpidemicCandidate final : public DifferentiableCandidate<EpidemicCandidate> {
    friend class DifferentiableCandidate<EpidemicCandidate>;

public:
    EpidemicCandidate(std::string name, bool latent, bool ode, double population, double max_offset)
        : name_(std::move(name)), latent_(latent), ode_(ode), population_(population), max_offset_(max_offset) {
        names_ = {"R0", "infectious_period"};
        lower_ = {1.01, 0.5};
        upper_ = {30.0, 30.0};
        if (latent) {
            names_.push_back("latent_period");
            lower_.push_back(0.05);
            upper_.push_back(30.0);
        }
        names_.insert(names_.end(), {"reporting_rate", "initial_infected", "dispersion"});
        lower_.insert(lower_.end(), {0.01, 0.5, 0.1});
        upper_.insert(upper_.end(), {1.0, 2000.0, 1e5});
        if (max_offset_ > 0.0) {
            names_.emplace_back("onset_offset");
            lower_.push_back(0.0);
            upper_.push_back(max_offset_);
            linear_.assign(names_.size(), 0);
            linear_.back() = 1;
        }
    }
    std::string name() const override { return name_; }
    const std::vector<std::string>& parameter_names() const override { return names_; }

    void mean(const double* x, int days, double* out) const override { mean_of(x, days, out); }

    double log_likelihood(const double* x, const double* y, int days) const override {
        double constant = 0.0;
        for (int d = 0; d < days; ++d) constant -= std::lgamma(y[d] + 1.0);
        return likelihood_of(x, y, days) + constant;
    }

    void sample(const double* x, int days, std::uint64_t seed, std::uint64_t index, double* out) const override {
        std::vector<double> mu(static_cast<std::size_t>(days));
        mean(x, days, mu.data());
        sim::SampleStream rng(seed, sim::Purpose::baseline, index);
        const double k = x[dispersion_index()];
        for (int d = 0; d < days; ++d) {
            out[d] = static_cast<double>(sim::negative_binomial(rng, mu[static_cast<std::size_t>(d)], k));
        }
    }

private:
    std::size_t dispersion_index() const { return latent_ ? 5 : 4; }

    template <class T>
    void mean_of(const T* x, int days, T* out) const {
        int i = 0;
        const T& r0 = x[i++];
        const T& period = x[i++];
        const T latent = latent_ ? x[i++] : T(0.0);
        const T& rho = x[i++];
        const T& i0 = x[i++];
        const auto from_seeding = [&](int length, T* series) {
            if (ode_) {
                detail::epidemic_ode_mean(r0, period, latent, latent_, rho, i0, population_, length, series);
            } else {
                detail::chain_binomial_mean(r0, period, latent, latent_, rho, i0, population_, length, series);
            }
        };
        if (max_offset_ <= 0.0) return from_seeding(days, out);
        // The window starts offset days after the seeding: between whole days the
        // mean is interpolated, so that the likelihood is continuous in the offset.
        const T& offset = x[dispersion_index() + 1];
        const int whole =
            std::clamp(static_cast<int>(std::floor(value_of(offset))), 0, static_cast<int>(std::ceil(max_offset_)));
        const T part = offset - static_cast<double>(whole);
        thread_local std::vector<T> full;
        full.resize(static_cast<std::size_t>(whole + days + 1));
        from_seeding(whole + days + 1, full.data());
        for (int d = 0; d < days; ++d) {
            const T& a = full[static_cast<std::size_t>(whole + d)];
            out[d] = a + part * (full[static_cast<std::size_t>(whole + d + 1)] - a);
        }
    }

    // Negative-binomial log-likelihood without the terms -lgamma(y + 1), which do not
    // depend on the parameters (log_likelihood adds them).
    template <class T>
    T likelihood_of(const T* x, const double* y, int days) const {
        thread_local std::vector<T> mu;
        mu.resize(static_cast<std::size_t>(days));
        mean_of(x, days, mu.data());
        const T& k = x[dispersion_index()];
        const T log_k = log(k);
        T total(0.0);
        for (int d = 0; d < days; ++d) {
            const T m = value_of(mu[static_cast<std::size_t>(d)]) > 1e-8 ? mu[static_cast<std::size_t>(d)] : T(1e-8);
            const T log_total = log(k + m);
            total += log_gamma_ratio(y[d], k) + k * (log_k - log_total);
            if (y[d] != 0.0) total += y[d] * (log(m) - log_total);
        }
        return total;
    }

    std::string name_;
    bool latent_, ode_;
    double population_;
    double max_offset_;  // 0: the series starts at the seeding
    std::vector<std::string> names_;
};

class GrowthCandidate final : public DifferentiableCandidate<GrowthCandidate> {
    friend class DifferentiableCandidate<GrowthCandidate>;

public:
    explicit GrowthCandidate(std::string name) : name_(std::move(name)), law_(growth_law(name_)) {
        lower_ = {1e-3, 1.0, 1e-2, 1e-3};
        upper_ = {5.0, 1e9, 1e7, 5.0};
    }
    std::string name() const override { return name_; }
    const std::vector<std::string>& parameter_names() const override { return names_; }

    void mean(const double* x, int days, double* out) const override {
        detail::growth_mean(law_ == GrowthLaw::gompertz, x[0], x[1], x[2], days, out);
    }

    double log_likelihood(const double* x, const double* y, int days) const override {
        return likelihood_of(x, y, days);
    }

    void sample(const double* x, int days, std::uint64_t seed, std::uint64_t index, double* out) const override {
        mean(x, days, out);
        sim::SampleStream rng(seed, sim::Purpose::baseline, index);
        for (int d = 0; d < days; ++d) out[d] *= std::exp(x[3] * rng.normal());
    }

private:
    template <class T>
    T likelihood_of(const T* x, const double* y, int days) const {
        thread_local std::vector<T> mu;
        mu.resize(static_cast<std::size_t>(days));
        detail::growth_mean(law_ == GrowthLaw::gompertz, x[0], x[1], x[2], days, mu.data());
        const T& sd = x[3];
        const T log_sd = log(sd);
        T total(0.0);
        for (int d = 0; d < days; ++d) {
            const T& m = mu[static_cast<std::size_t>(d)];
            if (!(value_of(m) > 0.0) || !(y[d] > 0.0)) return T(-std::numeric_limits<double>::infinity());
            const T z = (std::log(y[d]) - log(m)) / sd;
            total += -std::log(y[d]) - kHalfLogTwoPi - log_sd - 0.5 * (z * z);
        }
        return total;
    }

    std::string name_;
    GrowthLaw law_;
    std::vector<std::string> names_{"intrinsic_growth_rate", "carrying_capacity", "initial_size", "noise_sdlog"};
};

// A candidate's natural parameters in the fit's coordinates (logs, except parameters
// fitted on their own scale), and back.
std::vector<double> to_fit(const Candidate& c, const std::vector<double>& natural) {
    std::vector<double> out(natural.size());
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = c.fitted_in_logs(static_cast<int>(i)) ? std::log(natural[i]) : natural[i];
    return out;
}
std::vector<double> to_natural(const Candidate& c, const std::vector<double>& x) {
    std::vector<double> out(x.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = c.fitted_in_logs(static_cast<int>(i)) ? std::exp(x[i]) : x[i];
    return out;
}

double value_of(const Candidate& c, const std::vector<double>& natural, const std::string& name) {
    const auto& names = c.parameter_names();
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? std::numeric_limits<double>::quiet_NaN()
                             : natural[static_cast<std::size_t>(it - names.begin())];
}

// Starts for `to` from another candidate's best fit, in fit coordinates: parameters of
// the same name are copied, the others start at the 50%, 20% and 80% points of their
// bounds in fit coordinates. The second and third starts also move the copied values by a factor
// e^{+-0.25} (alternating signs), and a model without a latent class starts with an
// infectious period that also covers the other model's latent period.
std::vector<std::vector<double>> cross_starts(const Candidate& from, const std::vector<double>& best,
                                              const Candidate& to) {
    const double fill[] = {0.5, 0.2, 0.8};
    std::vector<std::vector<double>> starts;
    const std::size_t n = to.parameter_names().size();
    for (int variant = 0; variant < 3; ++variant) {
        std::vector<double> x(n);
        for (std::size_t i = 0; i < n; ++i) {
            const std::string& name = to.parameter_names()[i];
            const bool in_logs = to.fitted_in_logs(static_cast<int>(i));
            const double lo = in_logs ? std::log(to.lower()[i]) : to.lower()[i];
            const double hi = in_logs ? std::log(to.upper()[i]) : to.upper()[i];
            double v = value_of(from, best, name);
            if (name == "infectious_period" && variant == 1) {
                const double latent = value_of(from, best, "latent_period");
                if (std::isfinite(latent) &&
                    !std::isfinite(value_of(to, std::vector<double>(n, 1.0), "latent_period"))) {
                    v += latent;
                }
            }
            if (std::isfinite(v) && (v > 0.0 || !in_logs)) {
                const double shift = variant == 0 ? 0.0 : ((i % 2 == 0) == (variant == 1) ? 0.25 : -0.25);
                x[i] = std::clamp((in_logs ? std::log(v) : v) + shift, lo, hi);
            } else {
                x[i] = lo + fill[variant] * (hi - lo);
            }
        }
        starts.push_back(std::move(x));
    }
    return starts;
}

}  // namespace

void Candidate::fix(const std::string& name, double value) {
    const auto& names = parameter_names();
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) throw std::invalid_argument(this->name() + " has no parameter " + name);
    const std::size_t i = static_cast<std::size_t>(it - names.begin());
    lower_[i] = upper_[i] = value;
}

int Candidate::free_parameters() const {
    int free = 0;
    for (std::size_t i = 0; i < lower_.size(); ++i) free += lower_[i] < upper_[i];
    return free;
}

std::unique_ptr<Candidate> make_candidate(const std::string& name, double population, double max_onset_offset) {
    const double offset = max_onset_offset;
    if (name == "sir") return std::make_unique<EpidemicCandidate>(name, false, false, population, offset);
    if (name == "seir") return std::make_unique<EpidemicCandidate>(name, true, false, population, offset);
    if (name == "sir_ode") return std::make_unique<EpidemicCandidate>(name, false, true, population, offset);
    if (name == "seir_ode") return std::make_unique<EpidemicCandidate>(name, true, true, population, offset);
    if (name == "logistic" || name == "gompertz") return std::make_unique<GrowthCandidate>(name);
    throw ConfigError("likelihood candidate '" + name + "': choose sir, seir, sir_ode, seir_ode, logistic or gompertz");
}

std::vector<CandidateFit> fit_candidates(const std::vector<const Candidate*>& candidates, const double* series,
                                         int days, std::uint64_t seed, std::uint64_t series_index,
                                         const RestartSettings& settings) {
    const std::size_t m = candidates.size();
    std::vector<CandidateFit> fits(m);
    std::vector<FitResult> best(m);
    // Fit coordinates are mostly logs: natural = exp(x), seeded as dual variables so
    // that the gradient comes out with respect to the logs.
    const auto objective_of = [&](const Candidate& c) {
        Objective objective;
        objective.value = [&c, series, days](const double* x) {
            double natural[kMaxFitParameters];
            for (int i = 0; i < c.size(); ++i) natural[i] = c.fitted_in_logs(i) ? std::exp(x[i]) : x[i];
            return -c.log_likelihood(natural, series, days);
        };
        objective.value_and_gradient = [&c, series, days](const double* x, double* gradient) {
            Dual<kMaxFitParameters> natural[kMaxFitParameters];
            for (int i = 0; i < c.size(); ++i) {
                const auto variable = Dual<kMaxFitParameters>::variable(x[i], i);
                natural[i] = c.fitted_in_logs(i) ? exp(variable) : variable;
            }
            const double value = -c.log_likelihood_gradient(natural, series, days, gradient);
            for (int i = 0; i < c.size(); ++i) gradient[i] = -gradient[i];
            return value;
        };
        return objective;
    };
    for (std::size_t c = 0; c < m; ++c) {
        const Candidate& candidate = *candidates[c];
        const std::vector<double> lo = to_fit(candidate, candidate.lower()), hi = to_fit(candidate, candidate.upper());
        // Each candidate's starts have their own counter range in the series' stream.
        sim::SampleStream rng(seed, sim::Purpose::baseline, series_index * 16 + c);
        std::vector<std::vector<double>> starts;
        for (int s = 0; s < settings.random_starts; ++s) {
            std::vector<double> x(lo.size());
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = lo[i] + rng.uniform() * (hi[i] - lo[i]);
            starts.push_back(std::move(x));
        }
        best[c] = minimize_from_starts(objective_of(candidate), lo, hi, starts, settings.fit);
        fits[c].evaluations = best[c].evaluations;
    }
    for (std::size_t c = 0; c < m; ++c) {
        const Candidate& candidate = *candidates[c];
        const std::vector<double> lo = to_fit(candidate, candidate.lower()), hi = to_fit(candidate, candidate.upper());
        for (std::size_t other = 0; other < m; ++other) {
            if (other == c) continue;
            const auto starts =
                cross_starts(*candidates[other], to_natural(*candidates[other], best[other].x), candidate);
            FitResult again = minimize_from_starts(objective_of(candidate), lo, hi, starts, settings.fit);
            fits[c].evaluations += again.evaluations;
            if (again.value < best[c].value) best[c] = std::move(again);
        }
    }
    for (std::size_t c = 0; c < m; ++c) {
        const double p = candidates[c]->free_parameters();
        fits[c].natural = to_natural(*candidates[c], best[c].x);
        fits[c].log_likelihood = -best[c].value;
        fits[c].aic = 2.0 * p - 2.0 * fits[c].log_likelihood;
        fits[c].bic = p * std::log(static_cast<double>(days)) - 2.0 * fits[c].log_likelihood;
        fits[c].reason = best[c].reason;
    }
    return fits;
}

}  // namespace sgnn::analysis
