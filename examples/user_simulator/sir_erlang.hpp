// A simulator written outside sgnn: a daily chain-binomial SIR whose infectious period
// has two stages (Erlang-2 distributed, less dispersed than the exponential of the
// classic SIR). main.cpp adds it to sgnn under the name sir_erlang.
#pragma once

#include <sgnn/sim/simulator.hpp>

namespace example {

class SirErlang final : public sgnn::sim::Simulator {
public:
    std::string description() const override { return "out-of-tree example: SIR with an Erlang-2 infectious period"; }
    // Names from sgnn's parameter catalog (sgnn list simulators), so that the options
    // prior.R0, prior.infectious_period, ... exist for it.
    std::vector<std::string> parameters() const override;
    void simulate(const double* params, int days, sgnn::sim::SampleStream& rng, double* incidence) const override;
    std::vector<std::string> derived() const override { return {"beta"}; }
    void compute_derived(const double* params, const double* incidence, int days, double* out) const override;
};

}  // namespace example
