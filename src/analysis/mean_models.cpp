#include "sgnn/analysis/mean_models.hpp"

#include "mean_recursions.hpp"
#include "sgnn/error.hpp"

#include <cmath>

namespace sgnn::analysis {

void chain_binomial_mean(const EpidemicMeanParameters& p, int days, double* out) {
    detail::chain_binomial_mean(p.r0, p.infectious_period, p.latent_period, p.latent_period > 0.0, p.reporting_rate,
                                p.initial_infected, p.population, days, out);
}

void epidemic_ode_mean(const EpidemicMeanParameters& p, int days, double* out) {
    detail::epidemic_ode_mean(p.r0, p.infectious_period, p.latent_period, p.latent_period > 0.0, p.reporting_rate,
                              p.initial_infected, p.population, days, out);
}

GrowthLaw growth_law(const std::string& name) {
    if (name == "logistic") return GrowthLaw::logistic;
    if (name == "gompertz") return GrowthLaw::gompertz;
    throw ConfigError("growth law '" + name + "': choose logistic or gompertz");
}

void growth_mean(GrowthLaw law, double r, double k, double n0, int days, double* out) {
    detail::growth_mean(law == GrowthLaw::gompertz, r, k, n0, days, out);
}

}  // namespace sgnn::analysis
