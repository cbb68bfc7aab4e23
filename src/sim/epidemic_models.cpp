#include "sgnn/sim/epidemic_models.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgnn::sim {
namespace {

// Rates of one parameter draw, shared by every model of the family.
struct Rates {
    double beta = 0.0;
    double gamma = 0.0;
    double sigma = 0.0;  // 1 / latent period; 0 for models without a latent class
    double omega = 0.0;  // 1 / immunity period; 0 without waning
    double asymptomatic_fraction = 0.0;
    double relative_infectiousness = 0.0;
    double r0 = 0.0;
    std::int64_t population = 0;
    std::int64_t initial_infected = 0;
};

// Early exponential growth rate of the continuous-time model: gamma (R0 - 1) without a
// latent class, else the positive root of (1 + r/sigma)(1 + r/gamma) = R0.
double growth_rate(const Rates& r, double r0) {
    if (r.sigma <= 0.0) return r.gamma * (r0 - 1.0);
    const double s = r.sigma, g = r.gamma;
    return 0.5 * (-(s + g) + std::sqrt((s - g) * (s - g) + 4.0 * s * g * r0));
}

// The inverse: R0 = 1 + r / gamma, or (1 + r/sigma)(1 + r/gamma) with a latent class.
double reproduction_number(const Rates& r, double growth) {
    const double infectious = 1.0 + growth / r.gamma;
    return r.sigma <= 0.0 ? infectious : infectious * (1.0 + growth / r.sigma);
}

class EpidemicModel : public Simulator {
public:
    // What the first two parameters are (sim.parameterize_by): R0 and the infectious
    // period; the early growth rate and the infectious period; or the rates beta and
    // gamma themselves.
    enum class Parameterization { R0, growth_rate, rates };

    // Parameter lists always start with two parameters that set beta and gamma and end
    // with population and initial_infected; models insert theirs in between.
    explicit EpidemicModel(std::vector<std::string> own) {
        names_ = {"R0", "infectious_period"};
        names_.insert(names_.end(), own.begin(), own.end());
        names_.push_back("population");
        names_.push_back("initial_infected");
        latent_ = index("latent_period");
        immunity_ = index("immunity_period");
        asymptomatic_ = index("asymptomatic_fraction");
        relative_ = index("relative_infectiousness");
    }

    std::vector<std::string> parameters() const override { return names_; }

    // growth_rate: the first parameter is the early growth rate r instead of R0, and R0
    // follows from r, gamma and sigma. Classes drawn with the same prior on r then grow
    // alike early on, so speed alone does not tell them apart.
    // rates: beta and gamma are drawn (the SBI benchmark's SIR task); R0 and the
    // infectious period become derived quantities.
    void parameterize_by(Parameterization by) {
        by_ = by;
        if (by == Parameterization::growth_rate) names_[0] = "growth_rate";
        if (by == Parameterization::rates) {
            names_[0] = "beta";
            names_[1] = "gamma";
        }
    }

    // The last, reproduction_number, is what renewal-equation methods (EpiEstim)
    // estimate: the expected infections one case causes in a susceptible population.
    // In continuous time it is R0; a chain-binomial case is infectious for E[J] = 1/p
    // steps of force beta/k, p = 1 - exp(-gamma/k), so R = R0 (gamma/k) / p
    // (docs/simulators.md).
    std::vector<std::string> derived() const override {
        switch (by_) {
            case Parameterization::growth_rate:
                return {"beta", "gamma", "R0", "doubling_time", "final_size", "peak_day", "reproduction_number"};
            case Parameterization::rates:
                return {"R0",         "infectious_period", "growth_rate",        "doubling_time",
                        "final_size", "peak_day",          "reproduction_number"};
            case Parameterization::R0:
                break;
        }
        return {"beta", "gamma", "growth_rate", "doubling_time", "final_size", "peak_day", "reproduction_number"};
    }

    void compute_derived(const double* p, const double* incidence, int days, double* out) const override {
        const Rates r = rates(p);
        const double growth = by_ == Parameterization::growth_rate ? p[0] : growth_rate(r, r.r0);
        double total = 0.0;
        int peak = 0;
        for (int d = 0; d < days; ++d) {
            total += incidence[d];
            if (incidence[d] > incidence[peak]) peak = d;
        }
        out[0] = by_ == Parameterization::rates ? r.r0 : r.beta;
        out[1] = by_ == Parameterization::rates ? 1.0 / r.gamma : r.gamma;
        out[2] = by_ == Parameterization::growth_rate ? r.r0 : growth;
        out[3] = std::log(2.0) / growth;  // infinite when R0 = 1; such samples are dropped
        out[4] = total / static_cast<double>(r.population);
        out[5] = static_cast<double>(peak + 1);
        const double per_step = r.gamma / std::max(1, steps_per_day_);
        out[6] = steps_per_day_ > 0 ? r.r0 * per_step / -std::expm1(-per_step) : r.r0;
    }

protected:
    // Chain-binomial models: their steps per day (0: continuous time), for
    // reproduction_number.
    void set_steps_per_day(int steps) { steps_per_day_ = steps; }

    // Index of a parameter in names_ (names_.size() if the model has none by that name).
    int index(const char* name) const {
        return static_cast<int>(std::find(names_.begin(), names_.end(), name) - names_.begin());
    }

    Rates rates(const double* p) const {
        Rates r;
        if (!(p[0] > 0.0)) throw std::invalid_argument(names_[0] + " must be positive");
        if (!(p[1] > 0.0)) throw std::invalid_argument(names_[1] + " must be positive");
        r.gamma = by_ == Parameterization::rates ? p[1] : 1.0 / p[1];
        const int n = static_cast<int>(names_.size());
        r.population = static_cast<std::int64_t>(std::llround(p[n - 2]));
        r.initial_infected = std::min(r.population, static_cast<std::int64_t>(std::llround(p[n - 1])));
        if (r.population < 1) throw std::invalid_argument("population must be at least 1");
        if (latent_ < n) {
            if (!(p[latent_] > 0.0)) throw std::invalid_argument("latent_period must be positive");
            r.sigma = 1.0 / p[latent_];
        }
        if (immunity_ < n) {
            if (!(p[immunity_] > 0.0)) throw std::invalid_argument("immunity_period must be positive");
            r.omega = 1.0 / p[immunity_];
        }
        double infectiousness = 1.0;
        if (asymptomatic_ < n) {
            r.asymptomatic_fraction = p[asymptomatic_];
            r.relative_infectiousness = p[relative_];
            if (r.asymptomatic_fraction < 0.0 || r.asymptomatic_fraction >= 1.0) {
                throw std::invalid_argument("asymptomatic_fraction must be in [0, 1)");
            }
            infectiousness = 1.0 - r.asymptomatic_fraction + r.asymptomatic_fraction * r.relative_infectiousness;
        }
        switch (by_) {
            case Parameterization::rates:
                r.beta = p[0];
                r.r0 = r.beta * infectiousness / r.gamma;
                break;
            case Parameterization::growth_rate:
                r.r0 = reproduction_number(r, p[0]);
                r.beta = r.r0 * r.gamma / infectiousness;
                break;
            case Parameterization::R0:
                r.r0 = p[0];
                r.beta = r.r0 * r.gamma / infectiousness;
                break;
        }
        return r;
    }

private:
    std::vector<std::string> names_;
    Parameterization by_ = Parameterization::R0;
    int steps_per_day_ = 0;
    // Positions of the optional parameters, found once (rates() runs per trajectory).
    int latent_, immunity_, asymptomatic_, relative_;
};

// A chain-binomial model is its step: a few binomial draws, then a state update.
// Model supplies
//   struct State;  State start(const Rates&) const;
//   int draws() const;                                   (binomial draws per step)
//   BinomialRequest request(int t, State&, const Rates&, const std::int64_t* earlier,
//                           SampleStream&) const;        (draw t, given draws 0..t-1)
//   std::int64_t apply(State&, const std::int64_t* draws) const;  (returns new cases)
// and this template runs it for one trajectory, or for a block one draw of every
// trajectory at a time (draw_binomials: the block's draws run together). Each stream
// sees its draws in the same order either way, so a trajectory has the same bits in
// a block as alone. With sim.steps_per_day = k, each day is k steps with every rate
// divided by k.
template <class Model>
class DailyModel : public EpidemicModel {
public:
    DailyModel(std::vector<std::string> own, int steps_per_day)
        : EpidemicModel(std::move(own)), steps_per_day_(std::max(1, steps_per_day)) {
        set_steps_per_day(steps_per_day_);
    }

    void simulate(const double* p, int days, SampleStream& rng, double* incidence) const override {
        const StepRates r = step_rates(p);
        typename Model::State state = model().start(r);
        std::vector<std::int64_t> draws(static_cast<std::size_t>(model().draws()));
        for (int day = 0; day < days; ++day) {
            std::int64_t cases = 0;
            for (int step = 0; step < steps_per_day_; ++step) {
                for (int t = 0; t < model().draws(); ++t) {
                    draws[static_cast<std::size_t>(t)] = draw_binomial(model().request(t, state, r, draws.data(), rng));
                }
                cases += model().apply(state, draws.data());
            }
            incidence[day] = static_cast<double>(cases);
        }
    }

    void simulate_batch(const double* params, int count, int days, SampleStream* rngs, double* incidence,
                        char* ok) const override {
        const std::size_t n_params = parameters().size(), n_draws = static_cast<std::size_t>(model().draws());
        std::vector<StepRates> rates_of;
        std::vector<typename Model::State> states;
        std::vector<int> live;
        for (int j = 0; j < count; ++j) {
            try {
                rates_of.push_back(step_rates(params + static_cast<std::size_t>(j) * n_params));
                states.push_back(model().start(rates_of.back()));
                live.push_back(j);
                ok[j] = 1;
            } catch (const std::exception&) {
                if (rates_of.size() > states.size()) rates_of.pop_back();
                ok[j] = 0;
            }
        }
        const std::size_t n = live.size();
        std::vector<BinomialRequest> requests(n);
        std::vector<std::int64_t> drawn(n), draws(n * n_draws), cases(n);
        for (int day = 0; day < days; ++day) {
            std::fill(cases.begin(), cases.end(), 0);
            for (int step = 0; step < steps_per_day_; ++step) {
                for (std::size_t t = 0; t < n_draws; ++t) {
                    for (std::size_t k = 0; k < n; ++k) {
                        requests[k] = model().request(static_cast<int>(t), states[k], rates_of[k],
                                                      draws.data() + k * n_draws, rngs[live[k]]);
                    }
                    draw_binomials(requests.data(), static_cast<int>(n), drawn.data());
                    for (std::size_t k = 0; k < n; ++k) draws[k * n_draws + t] = drawn[k];
                }
                for (std::size_t k = 0; k < n; ++k) cases[k] += model().apply(states[k], draws.data() + k * n_draws);
            }
            for (std::size_t k = 0; k < n; ++k) {
                incidence[static_cast<std::size_t>(live[k]) * static_cast<std::size_t>(days) +
                          static_cast<std::size_t>(day)] = static_cast<double>(cases[k]);
            }
        }
    }

protected:
    // The rates of one step (a day divided by steps_per_day_), and the constant
    // probabilities 1 - exp(-rate) of the transitions whose rate does not change.
    struct StepRates : Rates {
        double p_gamma = 0.0, p_sigma = 0.0, p_omega = 0.0;
    };

    StepRates step_rates(const double* p) const {
        StepRates r;
        static_cast<Rates&>(r) = rates(p);
        const double h = 1.0 / steps_per_day_;
        r.beta *= h;
        r.gamma *= h;
        r.sigma *= h;
        r.omega *= h;
        r.p_gamma = probability_of_rate(r.gamma);
        r.p_sigma = probability_of_rate(r.sigma);
        r.p_omega = probability_of_rate(r.omega);
        return r;
    }

private:
    const Model& model() const { return static_cast<const Model&>(*this); }

    int steps_per_day_;
};

// Requests for the common transitions.
BinomialRequest leave_at(SampleStream& rng, std::int64_t n, double rate, double probability) {
    return {&rng, n, rate, probability};
}

class ChainBinomialSir final : public DailyModel<ChainBinomialSir> {
public:
    explicit ChainBinomialSir(int steps_per_day = 1) : DailyModel({}, steps_per_day) {}
    std::string description() const override { return "daily chain-binomial SIR"; }
    struct State {
        std::int64_t s, i;
    };
    State start(const Rates& r) const { return {r.population - r.initial_infected, r.initial_infected}; }
    int draws() const { return 2; }  // infections, recoveries
    BinomialRequest request(int t, State& x, const StepRates& r, const std::int64_t*, SampleStream& rng) const {
        if (t == 0) return {&rng, x.s, r.beta / static_cast<double>(r.population) * static_cast<double>(x.i)};
        return leave_at(rng, x.i, r.gamma, r.p_gamma);
    }
    std::int64_t apply(State& x, const std::int64_t* d) const {
        x.s -= d[0];
        x.i += d[0] - d[1];
        return d[0];
    }
};

class ChainBinomialSeir final : public DailyModel<ChainBinomialSeir> {
public:
    explicit ChainBinomialSeir(int steps_per_day) : DailyModel({"latent_period"}, steps_per_day) {}
    std::string description() const override { return "daily chain-binomial SEIR (incidence = new infectious)"; }
    struct State {
        std::int64_t s, e, i;
    };
    State start(const Rates& r) const { return {r.population - r.initial_infected, 0, r.initial_infected}; }
    int draws() const { return 3; }  // exposures, onsets, recoveries
    BinomialRequest request(int t, State& x, const StepRates& r, const std::int64_t*, SampleStream& rng) const {
        if (t == 0) return {&rng, x.s, r.beta * static_cast<double>(x.i) / static_cast<double>(r.population)};
        if (t == 1) return leave_at(rng, x.e, r.sigma, r.p_sigma);
        return leave_at(rng, x.i, r.gamma, r.p_gamma);
    }
    std::int64_t apply(State& x, const std::int64_t* d) const {
        x.s -= d[0];
        x.e += d[0] - d[1];
        x.i += d[1] - d[2];
        return d[1];
    }
};

class ChainBinomialSeair final : public DailyModel<ChainBinomialSeair> {
public:
    explicit ChainBinomialSeair(int steps_per_day)
        : DailyModel({"latent_period", "asymptomatic_fraction", "relative_infectiousness"}, steps_per_day) {}
    std::string description() const override {
        return "daily chain-binomial SEAIR: a share of infections stays asymptomatic and unreported";
    }
    struct State {
        std::int64_t s, e, a, i;
        double asymptomatic_rate;  // -log(1 - f): the split of E leavers as a rate
    };
    State start(const Rates& r) const {
        return {r.population - r.initial_infected, 0, 0, r.initial_infected, -std::log1p(-r.asymptomatic_fraction)};
    }
    int draws() const { return 5; }  // exposures, E leavers, of them asymptomatic, I and A recoveries
    BinomialRequest request(int t, State& x, const StepRates& r, const std::int64_t* d, SampleStream& rng) const {
        switch (t) {
            case 0: {
                const double pressure = static_cast<double>(x.i) + r.relative_infectiousness * static_cast<double>(x.a);
                return {&rng, x.s, r.beta * pressure / static_cast<double>(r.population)};
            }
            case 1:
                return leave_at(rng, x.e, r.sigma, r.p_sigma);
            case 2:
                return leave_at(rng, d[1], x.asymptomatic_rate, r.asymptomatic_fraction);
            case 3:
                return leave_at(rng, x.i, r.gamma, r.p_gamma);
            default:
                return leave_at(rng, x.a, r.gamma, r.p_gamma);
        }
    }
    std::int64_t apply(State& x, const std::int64_t* d) const {
        const std::int64_t symptomatic = d[1] - d[2];
        x.s -= d[0];
        x.e += d[0] - d[1];
        x.a += d[2] - d[4];
        x.i += symptomatic - d[3];
        return symptomatic;
    }
};

class ChainBinomialSirs final : public DailyModel<ChainBinomialSirs> {
public:
    explicit ChainBinomialSirs(int steps_per_day) : DailyModel({"immunity_period"}, steps_per_day) {}
    std::string description() const override { return "daily chain-binomial SIRS with waning immunity"; }
    struct State {
        std::int64_t s, i, r;
    };
    State start(const Rates& r) const { return {r.population - r.initial_infected, r.initial_infected, 0}; }
    int draws() const { return 3; }  // infections, recoveries, waning
    BinomialRequest request(int t, State& x, const StepRates& r, const std::int64_t*, SampleStream& rng) const {
        if (t == 0) return {&rng, x.s, r.beta * static_cast<double>(x.i) / static_cast<double>(r.population)};
        if (t == 1) return leave_at(rng, x.i, r.gamma, r.p_gamma);
        return leave_at(rng, x.r, r.omega, r.p_omega);
    }
    std::int64_t apply(State& x, const std::int64_t* d) const {
        x.s += d[2] - d[0];
        x.i += d[0] - d[1];
        x.r += d[1] - d[2];
        return d[0];
    }
};

// SIR in groups (ages) mixing by a contact matrix C: group g's force of infection is
// beta * sum_h C[g][h] I_h / N_h. Its next-generation matrix is
// K = (beta / gamma) * C[g][h] N_g / N_h, and beta is set so that R0 is K's spectral
// radius. Incidence is summed over groups.
class AgeStructuredSir final : public DailyModel<AgeStructuredSir> {
public:
    explicit AgeStructuredSir(const SimulatorOptions& options)
        : DailyModel({}, options.steps_per_day), contacts_(options.contact_matrix), shares_(options.group_shares) {
        const std::size_t n = contacts_.size();
        if (n == 0)
            throw ConfigError(
                "sim.contact_matrix (simulator age_sir): empty; write a square matrix of contact rates, rows separated "
                "by ';'");
        for (const auto& row : contacts_) {
            if (row.size() != n) {
                throw ConfigError("sim.contact_matrix (simulator age_sir): not square; a row has " +
                                  std::to_string(row.size()) + " entries, not " + std::to_string(n));
            }
            for (double c : row) {
                if (!(c >= 0.0) || !std::isfinite(c))
                    throw ConfigError("sim.contact_matrix (simulator age_sir): entries must be >= 0");
            }
        }
        if (shares_.size() != n) {
            throw ConfigError("sim.group_shares (simulator age_sir): " + std::to_string(shares_.size()) +
                              " shares for " + std::to_string(n) + " groups of sim.contact_matrix");
        }
        double total = 0.0;
        for (double s : shares_) {
            if (!(s > 0.0)) throw ConfigError("sim.group_shares (simulator age_sir): every share must be > 0");
            total += s;
        }
        for (double& s : shares_) s /= total;
        std::vector<std::vector<double>> ngm(n, std::vector<double>(n));
        for (std::size_t g = 0; g < n; ++g) {
            for (std::size_t h = 0; h < n; ++h) ngm[g][h] = contacts_[g][h] * shares_[g] / shares_[h];
        }
        radius_ = spectral_radius(ngm);
        if (!(radius_ > 0.0))
            throw ConfigError("sim.contact_matrix (simulator age_sir): no contacts at all (spectral radius 0)");
    }

    std::string description() const override {
        return "daily chain-binomial SIR in " + std::to_string(contacts_.size()) +
               " groups mixing by sim.contact_matrix; R0 = spectral radius of the next-generation matrix";
    }

    struct State {
        double beta = 0.0;  // R0 = beta / gamma * spectral radius
        std::vector<std::int64_t> size, s, i;
        std::vector<double> pressure;  // force of infection per group, set by the step's first draw
    };

    State start(const Rates& r) const {
        const std::size_t n = contacts_.size();
        State x;
        x.beta = r.beta / radius_;  // rates() gives R0 * gamma
        x.size.resize(n);
        x.s.resize(n);
        x.i.resize(n);
        x.pressure.resize(n);
        std::int64_t assigned = 0;
        for (std::size_t g = 0; g < n; ++g) {
            x.size[g] = std::max<std::int64_t>(1, std::llround(shares_[g] * static_cast<double>(r.population)));
            x.i[g] = std::min(x.size[g], static_cast<std::int64_t>(std::llround(shares_[g] * r.initial_infected)));
            assigned += x.i[g];
        }
        if (assigned == 0)
            x.i[static_cast<std::size_t>(std::max_element(shares_.begin(), shares_.end()) - shares_.begin())] = 1;
        for (std::size_t g = 0; g < n; ++g) x.s[g] = x.size[g] - x.i[g];
        return x;
    }

    int draws() const { return 2 * static_cast<int>(contacts_.size()); }  // per group: infections, recoveries

    BinomialRequest request(int t, State& x, const StepRates& r, const std::int64_t*, SampleStream& rng) const {
        const std::size_t n = contacts_.size(), g = static_cast<std::size_t>(t / 2);
        if (t == 0) {  // every group's pressure from the step's starting state
            for (std::size_t a = 0; a < n; ++a) {
                double sum = 0.0;
                for (std::size_t h = 0; h < n; ++h) {
                    sum += contacts_[a][h] * static_cast<double>(x.i[h]) / static_cast<double>(x.size[h]);
                }
                x.pressure[a] = x.beta * sum;
            }
        }
        if (t % 2 == 0) return {&rng, x.s[g], x.pressure[g]};
        return leave_at(rng, x.i[g], r.gamma, r.p_gamma);
    }

    std::int64_t apply(State& x, const std::int64_t* d) const {
        std::int64_t total = 0;
        for (std::size_t g = 0; g < contacts_.size(); ++g) {
            x.s[g] -= d[2 * g];
            x.i[g] += d[2 * g] - d[2 * g + 1];
            total += d[2 * g];
        }
        return total;
    }

    void compute_derived(const double* p, const double* incidence, int days, double* out) const override {
        EpidemicModel::compute_derived(p, incidence, days, out);
        out[0] = p[0] * out[1] / radius_;  // beta of the contact-weighted force of infection
    }

private:
    std::vector<std::vector<double>> contacts_;
    std::vector<double> shares_;
    double radius_ = 0.0;
};

// Exact stochastic simulation (Gillespie's direct method), counted per day. The cost
// grows with the number of events, about 2-3 per infection: use moderate populations.
class GillespieModel final : public EpidemicModel {
public:
    explicit GillespieModel(bool latent)
        : EpidemicModel(latent ? std::vector<std::string>{"latent_period"} : std::vector<std::string>{}),
          latent_(latent) {}
    double events_per_individual() const override { return latent_ ? 3.0 : 2.0; }
    std::string description() const override {
        return latent_ ? "exact continuous-time SEIR (Gillespie SSA), daily counts of new infectious"
                       : "exact continuous-time SIR (Gillespie SSA), daily counts of new infections";
    }
    void simulate(const double* p, int days, SampleStream& rng, double* incidence) const override {
        const Rates r = rates(p);
        const double n = static_cast<double>(r.population);
        std::int64_t s = r.population - r.initial_infected, e = 0, i = r.initial_infected;
        double t = 0.0;
        std::fill(incidence, incidence + days, 0.0);
        for (std::uint64_t events = 1;; ++events) {
            // A large population makes one sample take minutes: a stop must not wait for it.
            if ((events & 0xFFFF) == 0) throw_if_stopping("an exact SSA sample");
            const double infection = r.beta * static_cast<double>(s) * static_cast<double>(i) / n;
            const double onset = latent_ ? r.sigma * static_cast<double>(e) : 0.0;
            const double recovery = r.gamma * static_cast<double>(i);
            const double total = infection + onset + recovery;
            if (total <= 0.0) break;
            t += rng.exponential() / total;
            const int day = static_cast<int>(t);
            if (day >= days) break;
            const double pick = rng.uniform() * total;
            if (pick < infection) {
                --s;
                if (latent_) {
                    ++e;
                } else {
                    ++i;
                    incidence[day] += 1.0;
                }
            } else if (pick < infection + onset) {
                --e;
                ++i;
                incidence[day] += 1.0;
            } else {
                --i;
            }
        }
    }

private:
    bool latent_;
};

// Tau-leaping: Poisson numbers of each transition per step of 1/4 day, capped at the
// compartment sizes. Approximate; its bias shrinks with the step.
class TauLeapModel final : public EpidemicModel {
public:
    explicit TauLeapModel(bool latent)
        : EpidemicModel(latent ? std::vector<std::string>{"latent_period"} : std::vector<std::string>{}),
          latent_(latent) {}
    std::string description() const override {
        return latent_ ? "tau-leaping SEIR (Poisson steps of 1/4 day)" : "tau-leaping SIR (Poisson steps of 1/4 day)";
    }
    void simulate(const double* p, int days, SampleStream& rng, double* incidence) const override {
        constexpr int kStepsPerDay = 4;
        constexpr double tau = 1.0 / kStepsPerDay;
        const Rates r = rates(p);
        const double n = static_cast<double>(r.population);
        std::int64_t s = r.population - r.initial_infected, e = 0, i = r.initial_infected;
        for (int day = 0; day < days; ++day) {
            std::int64_t count = 0;
            for (int step = 0; step < kStepsPerDay; ++step) {
                const double si = static_cast<double>(s) * static_cast<double>(i);
                const std::int64_t infected = std::min(s, poisson(rng, r.beta * si / n * tau));
                const std::int64_t onset =
                    latent_ ? std::min(e, poisson(rng, r.sigma * static_cast<double>(e) * tau)) : 0;
                const std::int64_t recovered = std::min(i, poisson(rng, r.gamma * static_cast<double>(i) * tau));
                s -= infected;
                if (latent_) {
                    e += infected - onset;
                    i += onset - recovered;
                    count += onset;
                } else {
                    i += infected - recovered;
                    count += infected;
                }
            }
            incidence[day] = static_cast<double>(count);
        }
    }

private:
    bool latent_;
};

// The deterministic SIR or SEIR ODE, in population fractions s, (e,) i and c, the
// cumulative share that has become infectious. The series is either N (c(t + h) - c(t)),
// the expected incidence of the continuous-time model over each output interval h
// (a day by default), or i(t), the infectious share (sim.output = prevalence, as the
// SBI benchmark's SIR task observes it).
class EpidemicOde final : public OdeModel<EpidemicModel> {
public:
    EpidemicOde(bool latent, bool prevalence, OdeSettings settings)
        : OdeModel(std::move(settings),
                   latent ? std::vector<std::string>{"latent_period"} : std::vector<std::string>{}),
          latent_(latent),
          prevalence_(prevalence) {}

    std::string description() const override {
        return latent_ ? "deterministic SEIR ODE (PETSc TS), expected daily incidence of new infectious"
                       : "deterministic SIR ODE (PETSc TS), expected daily incidence of new infections";
    }
    std::vector<std::string> channels() const override { return {prevalence_ ? "prevalence" : "incidence"}; }

    // From a prevalence series the final size cannot be read (recoveries are not in it),
    // and the peak is the prevalence peak, at the entry's time.
    std::vector<std::string> derived() const override {
        std::vector<std::string> names = EpidemicModel::derived();
        if (prevalence_) names.erase(names.begin() + 4);  // final_size
        return names;
    }
    void compute_derived(const double* p, const double* series, int days, double* out) const override {
        double all[7];
        EpidemicModel::compute_derived(p, series, days, all);
        const double interval = settings().output_interval;
        if (!prevalence_) {
            std::copy(all, all + 7, out);
            out[5] = all[5] * interval;  // the end of the peak interval
            return;
        }
        std::copy(all, all + 4, out);
        out[4] = (all[5] - 1.0) * interval;  // the time of the largest entry
        out[5] = all[6];
    }

    void simulate_batch(const double* params, int count, int days, SampleStream*, double* series,
                        char* ok) const override {
        const std::size_t n_params = parameters().size(), d = static_cast<std::size_t>(dimension());
        simulate_ode_block(
            *this, settings(), 3, count, days,
            [&](int j, double* c, double* y0) {
                const Rates r = rates(params + static_cast<std::size_t>(j) * n_params);
                const double n = static_cast<double>(r.population);
                c[0] = r.beta;
                c[1] = r.gamma;
                c[2] = r.sigma;
                const double i0 = static_cast<double>(r.initial_infected) / n;
                std::fill(y0, y0 + d, 0.0);
                y0[0] = 1.0 - i0;
                y0[latent_ ? 2 : 1] = i0;
            },
            [&](int j, const double* states) {
                double* out = series + static_cast<std::size_t>(j) * static_cast<std::size_t>(days);
                if (prevalence_) {
                    const std::size_t i = latent_ ? 2 : 1;
                    for (std::size_t t = 0; t < static_cast<std::size_t>(days); ++t) out[t] = states[t * d + i];
                    return;
                }
                const double n = static_cast<double>(rates(params + static_cast<std::size_t>(j) * n_params).population);
                const std::size_t c = d - 1;  // the cumulative share is the last unknown
                for (std::size_t t = 0; t < static_cast<std::size_t>(days); ++t) {
                    out[t] = n * (states[(t + 1) * d + c] - states[t * d + c]);
                }
            },
            ok);
    }

private:
    int dimension() const override { return latent_ ? 4 : 3; }
    void rhs(double, const double* y, const double* c, double* dydt) const override {
        const double beta = c[0], gamma = c[1], sigma = c[2];
        if (latent_) {
            const double infection = beta * y[0] * y[2], onset = sigma * y[1];
            dydt[0] = -infection;
            dydt[1] = infection - onset;
            dydt[2] = onset - gamma * y[2];
            dydt[3] = onset;
        } else {
            const double infection = beta * y[0] * y[1];
            dydt[0] = -infection;
            dydt[1] = infection - gamma * y[1];
            dydt[2] = infection;
        }
    }

    bool latent_;
    bool prevalence_;
};

}  // namespace

void simulate_chain_binomial_sir(const SirParameters& params, int days, SampleStream& rng, std::int64_t* incidence) {
    const ChainBinomialSir model;
    // The model's own parameters: R0 = beta / gamma, infectious period 1 / gamma.
    const double p[] = {params.beta / params.gamma, 1.0 / params.gamma, static_cast<double>(params.population),
                        static_cast<double>(params.initial_infected)};
    std::vector<double> series(static_cast<std::size_t>(days));
    model.simulate(p, days, rng, series.data());
    for (int d = 0; d < days; ++d) incidence[d] = static_cast<std::int64_t>(series[static_cast<std::size_t>(d)]);
}

namespace {

void add_epidemic_models(std::map<std::string, SimulatorFactory>& registry) {
    registry["sir"] = [](const SimulatorOptions& o) { return std::make_unique<ChainBinomialSir>(o.steps_per_day); };
    registry["seir"] = [](const SimulatorOptions& o) { return std::make_unique<ChainBinomialSeir>(o.steps_per_day); };
    registry["seair"] = [](const SimulatorOptions& o) { return std::make_unique<ChainBinomialSeair>(o.steps_per_day); };
    registry["sirs"] = [](const SimulatorOptions& o) { return std::make_unique<ChainBinomialSirs>(o.steps_per_day); };
    registry["age_sir"] = [](const SimulatorOptions& o) { return std::make_unique<AgeStructuredSir>(o); };
    registry["sir_gillespie"] = [](const SimulatorOptions&) { return std::make_unique<GillespieModel>(false); };
    registry["seir_gillespie"] = [](const SimulatorOptions&) { return std::make_unique<GillespieModel>(true); };
    registry["sir_tauleap"] = [](const SimulatorOptions&) { return std::make_unique<TauLeapModel>(false); };
    registry["seir_tauleap"] = [](const SimulatorOptions&) { return std::make_unique<TauLeapModel>(true); };
    registry["sir_ode"] = [](const SimulatorOptions& o) {
        return std::make_unique<EpidemicOde>(false, o.output == "prevalence", o.ode);
    };
    registry["seir_ode"] = [](const SimulatorOptions& o) {
        return std::make_unique<EpidemicOde>(true, o.output == "prevalence", o.ode);
    };
}

}  // namespace

void register_epidemic_models(std::map<std::string, SimulatorFactory>& registry) {
    using Parameterization = EpidemicModel::Parameterization;
    std::map<std::string, SimulatorFactory> models;
    add_epidemic_models(models);
    for (auto& [name, make] : models) {
        registry[name] = [name = name, make = make](const SimulatorOptions& o) -> std::unique_ptr<Simulator> {
            if (o.output == "prevalence" && name != "sir_ode" && name != "seir_ode") {
                throw ConfigError("sim.output = prevalence: " + name +
                                  " reports incidence only; prevalence is reported by sir_ode and seir_ode");
            }
            std::unique_ptr<Simulator> model = make(o);
            if (o.parameterize_by != "R0" && name == "age_sir") {
                throw ConfigError("sim.parameterize_by = " + o.parameterize_by +
                                  ": age_sir sets R0 through its contact matrix and has only the R0 form; use R0");
            }
            auto& epidemic = static_cast<EpidemicModel&>(*model);
            if (o.parameterize_by == "growth_rate") epidemic.parameterize_by(Parameterization::growth_rate);
            if (o.parameterize_by == "rates") epidemic.parameterize_by(Parameterization::rates);
            return model;
        };
    }
}

namespace {

// Models whose transitions are daily (or sim.steps_per_day) binomial draws.
// Three significant digits, for ranges in messages.
std::string rounded(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", v);
    return text;
}

bool chain_binomial(const std::string& model) {
    return model == "sir" || model == "seir" || model == "seair" || model == "sirs" || model == "age_sir";
}

// The sd range of the generation interval a model with a latent class can have at this
// mean: from equal stage means up to a latent stage that takes one step (or no time).
std::pair<double, double> reachable_sd(double mean, int steps_per_day) {
    if (steps_per_day <= 0) return {mean / std::sqrt(2.0), mean};
    const double k = steps_per_day, a = k * mean;  // the mean in steps
    if (a <= 2.0) return {0.0, 0.0};
    return {std::sqrt(std::max(0.0, a * a / 2.0 - a)) / k, std::sqrt((a - 1.0) * (a - 2.0)) / k};
}

// The period (days) of a stage whose mean duration is `steps` steps (chain-binomial:
// Geometric(p) on {1, 2, ...} with p = 1 - exp(-1 / (period k))), or `steps` days.
double period_of_stage(double steps, int steps_per_day) {
    if (steps_per_day <= 0) return steps;
    return -1.0 / (steps_per_day * std::log1p(-1.0 / steps));
}

}  // namespace

GenerationInterval generation_interval(double infectious_period, double latent_period, int steps_per_day) {
    const double k = steps_per_day;
    double mean = 0.0, variance = 0.0;
    for (const double period : {infectious_period, latent_period}) {
        if (!(period > 0.0)) continue;
        if (steps_per_day <= 0) {  // an exponential stage
            mean += period;
            variance += period * period;
            continue;
        }
        const double p = -std::expm1(-1.0 / (period * k));  // leaving per step
        mean += 1.0 / (p * k);
        variance += (1.0 - p) / (p * p * k * k);
    }
    return {mean, std::sqrt(variance)};
}

std::vector<std::pair<std::string, double>> periods_for_generation_interval(const std::string& model,
                                                                            const SimulatorOptions& options) {
    const std::vector<double>& given = options.generation_interval;
    const std::string key = "sim.generation_interval";
    if (given.empty()) return {};
    if (given.size() > 2 || !(given[0] > 0.0) || (given.size() == 2 && !(given[1] > 0.0))) {
        throw ConfigError(key + ": give the mean and sd in days, e.g. 2.6, 1.5 (or the mean alone for SIR models)");
    }
    if (is_model_file(model)) {
        throw ConfigError(key + ": " + model +
                          " is a model file, whose generation interval follows from its own transitions; set its "
                          "periods through their priors (prior.NAME) instead");
    }
    const std::vector<std::string> names = make_simulator(model, options)->parameters();
    const auto has = [&](const char* name) { return std::find(names.begin(), names.end(), name) != names.end(); };
    if (!has("infectious_period")) {
        throw ConfigError(key + ": " + model +
                          " has no infectious period to set (with sim.parameterize_by = rates, gamma is drawn; use R0 "
                          "or growth_rate)");
    }
    const int k = chain_binomial(model) ? options.steps_per_day : 0;
    const double mean = given[0];
    const std::string model_text = model + (k > 0 ? " with sim.steps_per_day = " + std::to_string(k) : "");
    if (!has("latent_period")) {
        // One stage: the mean decides the period, and with it the sd.
        if (k > 0 && !(k * mean > 1.0)) {
            throw ConfigError(key + ": a mean of " + format_number(mean) +
                              " days is below the shortest generation "
                              "interval of " +
                              model_text + " (1/" + std::to_string(k) + " day)");
        }
        return {{"infectious_period", period_of_stage(k > 0 ? k * mean : mean, k)}};
    }
    if (given.size() < 2) {
        throw ConfigError(key + ": " + model +
                          " has a latent and an infectious period: give the generation interval's mean and sd, e.g. " +
                          format_number(mean) + ", " + format_number(0.6 * mean));
    }
    const double sd = given[1];
    const auto [low, high] = reachable_sd(mean, k);
    if (!(sd >= low && sd < high)) {
        std::string hint;
        for (int finer = k + 1; k > 0 && finer <= 1440; ++finer) {
            const auto [l, h] = reachable_sd(mean, finer);
            if (sd >= l && sd < h) {
                hint = "; sim.steps_per_day = " + std::to_string(finer) + " reaches it";
                break;
            }
        }
        if (hint.empty() && sd < mean / std::sqrt(2.0) && k == 0)
            hint = "; a chain-binomial model (seir) with few steps a day can have less spread";
        throw ConfigError(key + " = " + format_number(mean) + ", " + format_number(sd) + ": " + model_text +
                          " has generation intervals of mean " + format_number(mean) + " with sd from " + rounded(low) +
                          " to below " + rounded(high) + " days" + hint);
    }
    // Stage means a + b = mean and a^2 + b^2 = variance (+ mean, in steps): the roots of
    // x^2 - (a + b) x + ab; the longer stage is the infectious one.
    const double scale = k > 0 ? k : 1.0, a_plus_b = scale * mean;
    const double squares = scale * scale * sd * sd + (k > 0 ? a_plus_b : 0.0);
    const double root = std::sqrt(std::max(0.0, 2.0 * squares - a_plus_b * a_plus_b));
    const double infectious = (a_plus_b + root) / 2.0, latent = (a_plus_b - root) / 2.0;
    return {{"infectious_period", period_of_stage(infectious, k)}, {"latent_period", period_of_stage(latent, k)}};
}

double spectral_radius(const std::vector<std::vector<double>>& matrix) {
    // Power iteration: the Perron root of a nonnegative matrix. Converges for the
    // irreducible matrices contact structures give; 10,000 steps bound the rest.
    const std::size_t n = matrix.size();
    std::vector<double> x(n, 1.0), y(n);
    double radius = 0.0;
    for (int iteration = 0; iteration < 10000; ++iteration) {
        double norm = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            y[i] = 0.0;
            for (std::size_t j = 0; j < n; ++j) y[i] += matrix[i][j] * x[j];
            norm = std::max(norm, std::fabs(y[i]));
        }
        if (norm == 0.0) return 0.0;
        for (std::size_t i = 0; i < n; ++i) x[i] = y[i] / norm;
        if (std::fabs(norm - radius) <= 1e-15 * norm) return norm;
        radius = norm;
    }
    return radius;
}

}  // namespace sgnn::sim
