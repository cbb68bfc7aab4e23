#include "sgnn/sim/epidemic_models.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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
    std::int64_t population = 0;
    std::int64_t initial_infected = 0;
};

double probability(double rate) { return -std::expm1(-rate); }

// Early exponential growth rate of the continuous-time model: gamma (R0 - 1) without a
// latent class, else the positive root of (1 + r/sigma)(1 + r/gamma) = R0.
double growth_rate(const Rates& r, double r0) {
    if (r.sigma <= 0.0) return r.gamma * (r0 - 1.0);
    const double s = r.sigma, g = r.gamma;
    return 0.5 * (-(s + g) + std::sqrt((s - g) * (s - g) + 4.0 * s * g * r0));
}

class EpidemicModel : public Simulator {
public:
    // Parameter lists always start with R0 and infectious_period and end with
    // population and initial_infected; models insert theirs in between.
    explicit EpidemicModel(std::vector<std::string> own) {
        names_ = {"R0", "infectious_period"};
        names_.insert(names_.end(), own.begin(), own.end());
        names_.push_back("population");
        names_.push_back("initial_infected");
    }

    std::vector<std::string> parameters() const override { return names_; }

    std::vector<std::string> derived() const override {
        return {"beta", "gamma", "growth_rate", "doubling_time", "final_size", "peak_day"};
    }

    void compute_derived(const double* p, const std::int64_t* incidence, int days, double* out) const override {
        const Rates r = rates(p);
        const double growth = growth_rate(r, p[0]);
        double total = 0.0;
        int peak = 0;
        for (int d = 0; d < days; ++d) {
            total += static_cast<double>(incidence[d]);
            if (incidence[d] > incidence[peak]) peak = d;
        }
        out[0] = r.beta;
        out[1] = r.gamma;
        out[2] = growth;
        out[3] = std::log(2.0) / growth;  // infinite when R0 = 1; such samples are dropped
        out[4] = total / static_cast<double>(r.population);
        out[5] = static_cast<double>(peak + 1);
    }

protected:
    // Index of a parameter in names_.
    int index(const char* name) const {
        return static_cast<int>(std::find(names_.begin(), names_.end(), name) - names_.begin());
    }

    Rates rates(const double* p) const {
        Rates r;
        const double r0 = p[0], period = p[1];
        if (!(r0 > 0.0)) throw std::invalid_argument("R0 must be positive");
        if (!(period > 0.0)) throw std::invalid_argument("infectious_period must be positive");
        r.gamma = 1.0 / period;
        const int n = static_cast<int>(names_.size());
        r.population = static_cast<std::int64_t>(std::llround(p[n - 2]));
        r.initial_infected = std::min(r.population, static_cast<std::int64_t>(std::llround(p[n - 1])));
        if (r.population < 1) throw std::invalid_argument("population must be at least 1");
        const int latent = index("latent_period");
        if (latent < n) {
            if (!(p[latent] > 0.0)) throw std::invalid_argument("latent_period must be positive");
            r.sigma = 1.0 / p[latent];
        }
        const int immunity = index("immunity_period");
        if (immunity < n) {
            if (!(p[immunity] > 0.0)) throw std::invalid_argument("immunity_period must be positive");
            r.omega = 1.0 / p[immunity];
        }
        double infectiousness = 1.0;
        const int asym = index("asymptomatic_fraction");
        if (asym < n) {
            r.asymptomatic_fraction = p[asym];
            r.relative_infectiousness = p[index("relative_infectiousness")];
            if (r.asymptomatic_fraction < 0.0 || r.asymptomatic_fraction >= 1.0) {
                throw std::invalid_argument("asymptomatic_fraction must be in [0, 1)");
            }
            infectiousness = 1.0 - r.asymptomatic_fraction + r.asymptomatic_fraction * r.relative_infectiousness;
        }
        r.beta = r0 * r.gamma / infectiousness;
        return r;
    }

private:
    std::vector<std::string> names_;
};

class ChainBinomialSir final : public EpidemicModel {
public:
    ChainBinomialSir() : EpidemicModel({}) {}
    std::string description() const override { return "daily chain-binomial SIR"; }
    void simulate(const double* p, int days, SampleStream& rng, std::int64_t* incidence) const override {
        const Rates r = rates(p);
        simulate_chain_binomial_sir({r.beta, r.gamma, r.population, r.initial_infected}, days, rng, incidence);
    }
};

class ChainBinomialSeir final : public EpidemicModel {
public:
    ChainBinomialSeir() : EpidemicModel({"latent_period"}) {}
    std::string description() const override { return "daily chain-binomial SEIR (incidence = new infectious)"; }
    void simulate(const double* p, int days, SampleStream& rng, std::int64_t* incidence) const override {
        const Rates r = rates(p);
        const double n = static_cast<double>(r.population);
        const double p_onset = probability(r.sigma), p_recover = probability(r.gamma);
        std::int64_t s = r.population - r.initial_infected, e = 0, i = r.initial_infected;
        for (int day = 0; day < days; ++day) {
            const std::int64_t exposed = binomial(rng, s, probability(r.beta * static_cast<double>(i) / n));
            const std::int64_t onset = binomial(rng, e, p_onset);
            const std::int64_t recovered = binomial(rng, i, p_recover);
            s -= exposed;
            e += exposed - onset;
            i += onset - recovered;
            incidence[day] = onset;
        }
    }
};

class ChainBinomialSeair final : public EpidemicModel {
public:
    ChainBinomialSeair() : EpidemicModel({"latent_period", "asymptomatic_fraction", "relative_infectiousness"}) {}
    std::string description() const override {
        return "daily chain-binomial SEAIR: a share of infections stays asymptomatic and unreported";
    }
    void simulate(const double* p, int days, SampleStream& rng, std::int64_t* incidence) const override {
        const Rates r = rates(p);
        const double n = static_cast<double>(r.population);
        const double p_onset = probability(r.sigma), p_recover = probability(r.gamma);
        std::int64_t s = r.population - r.initial_infected, e = 0, a = 0, i = r.initial_infected;
        for (int day = 0; day < days; ++day) {
            const double pressure = static_cast<double>(i) + r.relative_infectiousness * static_cast<double>(a);
            const std::int64_t exposed = binomial(rng, s, probability(r.beta * pressure / n));
            const std::int64_t leaving = binomial(rng, e, p_onset);
            const std::int64_t asymptomatic = binomial(rng, leaving, r.asymptomatic_fraction);
            const std::int64_t symptomatic = leaving - asymptomatic;
            const std::int64_t recovered_i = binomial(rng, i, p_recover);
            const std::int64_t recovered_a = binomial(rng, a, p_recover);
            s -= exposed;
            e += exposed - leaving;
            a += asymptomatic - recovered_a;
            i += symptomatic - recovered_i;
            incidence[day] = symptomatic;
        }
    }
};

class ChainBinomialSirs final : public EpidemicModel {
public:
    ChainBinomialSirs() : EpidemicModel({"immunity_period"}) {}
    std::string description() const override { return "daily chain-binomial SIRS with waning immunity"; }
    void simulate(const double* p, int days, SampleStream& rng, std::int64_t* incidence) const override {
        const Rates r = rates(p);
        const double n = static_cast<double>(r.population);
        const double p_recover = probability(r.gamma), p_wane = probability(r.omega);
        std::int64_t s = r.population - r.initial_infected, i = r.initial_infected, rec = 0;
        for (int day = 0; day < days; ++day) {
            const std::int64_t infected = binomial(rng, s, probability(r.beta * static_cast<double>(i) / n));
            const std::int64_t recovered = binomial(rng, i, p_recover);
            const std::int64_t waned = binomial(rng, rec, p_wane);
            s += waned - infected;
            i += infected - recovered;
            rec += recovered - waned;
            incidence[day] = infected;
        }
    }
};

// Exact stochastic simulation (Gillespie's direct method), counted per day. The cost
// grows with the number of events, about 2-3 per infection: use moderate populations.
class GillespieModel final : public EpidemicModel {
public:
    explicit GillespieModel(bool latent) : EpidemicModel(latent ? std::vector<std::string>{"latent_period"}
                                                                : std::vector<std::string>{}),
                                           latent_(latent) {}
    std::string description() const override {
        return latent_ ? "exact continuous-time SEIR (Gillespie SSA), daily counts of new infectious"
                       : "exact continuous-time SIR (Gillespie SSA), daily counts of new infections";
    }
    void simulate(const double* p, int days, SampleStream& rng, std::int64_t* incidence) const override {
        const Rates r = rates(p);
        const double n = static_cast<double>(r.population);
        std::int64_t s = r.population - r.initial_infected, e = 0, i = r.initial_infected;
        double t = 0.0;
        std::fill(incidence, incidence + days, 0);
        for (;;) {
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
                    ++incidence[day];
                }
            } else if (pick < infection + onset) {
                --e;
                ++i;
                ++incidence[day];
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
    explicit TauLeapModel(bool latent) : EpidemicModel(latent ? std::vector<std::string>{"latent_period"}
                                                              : std::vector<std::string>{}),
                                         latent_(latent) {}
    std::string description() const override {
        return latent_ ? "tau-leaping SEIR (Poisson steps of 1/4 day)" : "tau-leaping SIR (Poisson steps of 1/4 day)";
    }
    void simulate(const double* p, int days, SampleStream& rng, std::int64_t* incidence) const override {
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
                const std::int64_t onset = latent_ ? std::min(e, poisson(rng, r.sigma * static_cast<double>(e) * tau)) : 0;
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
            incidence[day] = count;
        }
    }

private:
    bool latent_;
};

}  // namespace

void simulate_chain_binomial_sir(const SirParameters& params, int days, SampleStream& rng, std::int64_t* incidence) {
    const double beta_over_n = params.beta / static_cast<double>(params.population);
    std::int64_t susceptible = params.population - params.initial_infected;
    std::int64_t infectious = params.initial_infected;
    for (int day = 0; day < days; ++day) {
        const std::int64_t infected =
            binomial_with_rate(rng, susceptible, beta_over_n * static_cast<double>(infectious));
        const std::int64_t recovered = binomial_with_rate(rng, infectious, params.gamma);
        susceptible -= infected;
        infectious += infected - recovered;
        incidence[day] = infected;
    }
}

void register_epidemic_models(std::map<std::string, SimulatorFactory>& registry) {
    registry["sir"] = [] { return std::make_unique<ChainBinomialSir>(); };
    registry["seir"] = [] { return std::make_unique<ChainBinomialSeir>(); };
    registry["seair"] = [] { return std::make_unique<ChainBinomialSeair>(); };
    registry["sirs"] = [] { return std::make_unique<ChainBinomialSirs>(); };
    registry["sir_gillespie"] = [] { return std::make_unique<GillespieModel>(false); };
    registry["seir_gillespie"] = [] { return std::make_unique<GillespieModel>(true); };
    registry["sir_tauleap"] = [] { return std::make_unique<TauLeapModel>(false); };
    registry["seir_tauleap"] = [] { return std::make_unique<TauLeapModel>(true); };
}

}  // namespace sgnn::sim
