// Parameter vectors of a simulator drawn from its parameters' default priors in the
// catalog, row after row: what the simulator tests feed simulate_batch.
#pragma once

#include "sgnn/sim/parameters.hpp"
#include "sgnn/sim/simulator.hpp"

#include <cstdint>
#include <vector>

namespace sgnn::test {

// `count` rows; row j from the stream (seed, purpose, j).
inline std::vector<double> prior_draws(const sim::Simulator& simulator, int count, std::uint64_t seed,
                                       sim::Purpose purpose) {
    std::vector<double> draws;
    for (int j = 0; j < count; ++j) {
        sim::SampleStream rng(seed, purpose, static_cast<std::uint64_t>(j));
        for (const auto& name : simulator.parameters()) {
            const sim::ParameterSpec& spec = sim::parameter_spec(name);
            draws.push_back(sim::ParameterPrior::parse(name, spec.default_prior, spec.domain).draw(rng));
        }
    }
    return draws;
}

}  // namespace sgnn::test
