#include "sgnn/sim/observation.hpp"

namespace sgnn::sim {

void observe_reported_cases(const std::int64_t* incidence, int days, const ReportingModel& model,
                            SampleStream& rng, std::int64_t* reported) {
    for (int day = 0; day < days; ++day) {
        const std::int64_t thinned = binomial(rng, incidence[day], model.reporting_rate);
        reported[day] = negative_binomial(rng, static_cast<double>(thinned), model.dispersion);
    }
}

}  // namespace sgnn::sim
