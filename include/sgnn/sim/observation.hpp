// Observation model for case counts: each true infection is reported with probability
// `reporting_rate` (binomial thinning), then the reported count gets negative-binomial
// overdispersion around its value (variance m + m^2 / dispersion).
#pragma once

#include "sgnn/sim/random.hpp"

#include <cstdint>

namespace sgnn::sim {

struct ReportingModel {
    double reporting_rate;
    double dispersion;
};

void observe_reported_cases(const std::int64_t* incidence, int days, const ReportingModel& model,
                            SampleStream& rng, std::int64_t* reported);

}  // namespace sgnn::sim
