// Example of a user simulator: a daily chain-binomial SIS model (no immunity).
// docs/simulators.md walks through it line by line; copy it to start a new model.
#pragma once

#include "sgnn/sim/simulator.hpp"

namespace sgnn::sim::user {

class SisExample final : public Simulator {
public:
    std::string description() const override { return "example user model: daily chain-binomial SIS"; }
    std::vector<std::string> parameters() const override;
    void simulate(const double* params, int days, SampleStream& rng, double* incidence) const override;
    std::vector<std::string> derived() const override { return {"beta", "gamma"}; }
    void compute_derived(const double* params, const double* incidence, int days, double* out) const override;
};

}  // namespace sgnn::sim::user
