#include "sgnn/sim/ode_models.hpp"

#include "sgnn/sim/ode_solver.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace sgnn::sim {
namespace {

double positive(const double* p, int index, const char* name) {
    if (!(p[index] > 0.0) || !std::isfinite(p[index]))
        throw std::invalid_argument(std::string(name) + " must be positive");
    return p[index];
}

// Single-species growth: one unknown N, coefficients (r, K, v).
class GrowthModel final : public OdeModel<Simulator> {
public:
    enum class Law { logistic, gompertz, richards };
    GrowthModel(Law law, OdeSettings settings) : OdeModel(std::move(settings)), law_(law) {}

    std::string description() const override {
        switch (law_) {
            case Law::logistic:
                return "logistic growth dN/dt = r N (1 - N/K), PETSc TS";
            case Law::gompertz:
                return "Gompertz growth dN/dt = r N log(K/N), PETSc TS";
            case Law::richards:
                return "Richards growth dN/dt = r N (1 - (N/K)^v), PETSc TS";
        }
        return {};
    }
    std::vector<std::string> parameters() const override {
        std::vector<std::string> names{"intrinsic_growth_rate", "carrying_capacity", "initial_size"};
        if (law_ == Law::richards) names.push_back("richards_shape");
        return names;
    }
    std::vector<std::string> channels() const override { return {"size"}; }

    void simulate_batch(const double* params, int count, int days, SampleStream*, double* series,
                        char* ok) const override {
        const std::size_t n_params = parameters().size();
        simulate_ode_block(
            *this, settings(), 3, count, days,
            [&](int j, double* c, double* y0) {
                const double* p = params + static_cast<std::size_t>(j) * n_params;
                c[0] = positive(p, 0, "intrinsic_growth_rate");
                c[1] = positive(p, 1, "carrying_capacity");
                c[2] = law_ == Law::richards ? positive(p, 3, "richards_shape") : 1.0;
                y0[0] = positive(p, 2, "initial_size");
            },
            [&](int j, const double* states) {
                std::copy(states, states + days, series + static_cast<std::size_t>(j) * static_cast<std::size_t>(days));
            },
            ok);
    }

    std::vector<std::string> derived() const override { return {"time_to_half_capacity"}; }
    void compute_derived(const double* p, const double*, int, double* out) const override {
        const double r = p[0], k = p[1], n0 = p[2];
        switch (law_) {
            case Law::logistic:
                out[0] = std::log(k / n0 - 1.0) / r;
                break;
            case Law::gompertz:
                out[0] = std::log(std::log(k / n0) / std::log(2.0)) / r;
                break;
            case Law::richards: {
                const double v = p[3];
                out[0] = std::log((std::pow(k / n0, v) - 1.0) / (std::pow(2.0, v) - 1.0)) / (r * v);
                break;
            }
        }
    }

private:
    int dimension() const override { return 1; }
    void rhs(double, const double* y, const double* c, double* dydt) const override {
        const double n = y[0], r = c[0], k = c[1];
        switch (law_) {
            case Law::logistic:
                dydt[0] = r * n * (1.0 - n / k);
                break;
            case Law::gompertz:
                dydt[0] = n > 0.0 ? r * n * std::log(k / n) : 0.0;
                break;
            case Law::richards:
                dydt[0] = n > 0.0 ? r * n * (1.0 - std::pow(n / k, c[2])) : 0.0;
                break;
        }
    }

    Law law_;
};

// Lotka-Volterra predator-prey: unknowns (x, y), coefficients (a, b, c, d).
class LotkaVolterra final : public OdeModel<Simulator> {
public:
    explicit LotkaVolterra(OdeSettings settings) : OdeModel(std::move(settings)) {}

    std::string description() const override {
        return "Lotka-Volterra predator-prey dx/dt = a x - b x y, dy/dt = d x y - c y, PETSc TS";
    }
    std::vector<std::string> parameters() const override {
        return {"prey_growth_rate",    "predation_rate", "predator_death_rate",
                "predator_conversion", "initial_prey",   "initial_predators"};
    }
    std::vector<std::string> channels() const override { return {"prey", "predators"}; }

    void simulate_batch(const double* params, int count, int days, SampleStream*, double* series,
                        char* ok) const override {
        const std::size_t n_params = parameters().size(), d = static_cast<std::size_t>(days);
        simulate_ode_block(
            *this, settings(), 4, count, days,
            [&](int j, double* c, double* y0) {
                const double* p = params + static_cast<std::size_t>(j) * n_params;
                c[0] = positive(p, 0, "prey_growth_rate");
                c[1] = positive(p, 1, "predation_rate");
                c[2] = positive(p, 2, "predator_death_rate");
                c[3] = positive(p, 3, "predator_conversion");
                y0[0] = positive(p, 4, "initial_prey");
                y0[1] = positive(p, 5, "initial_predators");
            },
            [&](int j, const double* states) {
                double* prey = series + static_cast<std::size_t>(j) * 2 * d;
                double* predators = prey + d;
                for (std::size_t t = 0; t < d; ++t) {
                    prey[t] = states[2 * t];
                    predators[t] = states[2 * t + 1];
                }
            },
            ok);
    }

    std::vector<std::string> derived() const override {
        return {"prey_equilibrium", "predator_equilibrium", "cycle_period"};
    }
    void compute_derived(const double* p, const double*, int, double* out) const override {
        out[0] = p[2] / p[3];                                            // x* = c / d
        out[1] = p[0] / p[1];                                            // y* = a / b
        out[2] = 2.0 * 3.14159265358979323846 / std::sqrt(p[0] * p[2]);  // small-orbit period
    }

private:
    int dimension() const override { return 2; }
    void rhs(double, const double* y, const double* c, double* dydt) const override {
        dydt[0] = c[0] * y[0] - c[1] * y[0] * y[1];
        dydt[1] = c[3] * y[0] * y[1] - c[2] * y[1];
    }
};

}  // namespace

double logistic_solution(double r, double k, double n0, double t) {
    return k / (1.0 + (k / n0 - 1.0) * std::exp(-r * t));
}

double gompertz_solution(double r, double k, double n0, double t) {
    return k * std::exp(std::log(n0 / k) * std::exp(-r * t));
}

double richards_solution(double r, double k, double n0, double shape, double t) {
    // u = (N/K)^v follows a logistic law with rate r v.
    return k / std::pow(1.0 + (std::pow(k / n0, shape) - 1.0) * std::exp(-r * shape * t), 1.0 / shape);
}

double lotka_volterra_invariant(double a, double b, double c, double d, double x, double y) {
    return d * x - c * std::log(x) + b * y - a * std::log(y);
}

void register_ode_models(std::map<std::string, SimulatorFactory>& registry) {
    using Law = GrowthModel::Law;
    registry["logistic"] = [](const SimulatorOptions& o) {
        return std::make_unique<GrowthModel>(Law::logistic, o.ode);
    };
    registry["gompertz"] = [](const SimulatorOptions& o) {
        return std::make_unique<GrowthModel>(Law::gompertz, o.ode);
    };
    registry["richards"] = [](const SimulatorOptions& o) {
        return std::make_unique<GrowthModel>(Law::richards, o.ode);
    };
    registry["lotka_volterra"] = [](const SimulatorOptions& o) { return std::make_unique<LotkaVolterra>(o.ode); };
}

}  // namespace sgnn::sim
