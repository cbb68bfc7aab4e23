// The simulator extension point: parameters in, daily incidence out, RNG handed in.
//
// To add a model, implement Simulator and add one line to builtin_simulators() in
// src/sim/registry.cpp (docs/simulators.md walks through an example). Its parameters
// are looked up by name in the parameter catalog (sim/parameters.hpp), which gives
// each one its config key prior.NAME, default prior and allowed domain.
#pragma once

#include "sgnn/sim/random.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::sim {

class Simulator {
public:
    virtual ~Simulator() = default;
    virtual std::string description() const = 0;
    // Parameter names, in the order simulate() receives their values. Each must be in
    // the parameter catalog.
    virtual std::vector<std::string> parameters() const = 0;
    // Simulates `days` days; writes the daily count of new cases (the series the
    // observation model reports from). Throws std::invalid_argument naming the
    // parameter when a draw is impossible.
    virtual void simulate(const double* params, int days, SampleStream& rng, std::int64_t* incidence) const = 0;
    // Simulates `count` trajectories: parameters count x P (row j for trajectory j),
    // streams rngs[j], incidence count x days. ok[j] = 0 where simulate() would have
    // thrown. Each trajectory draws from its own stream in the same order as
    // simulate(), so results are identical; models override this only to be faster
    // (interleaving independent trajectories lets the CPU overlap their latencies).
    virtual void simulate_batch(const double* params, int count, int days, SampleStream* rngs,
                                std::int64_t* incidence, char* ok) const;
    // Quantities of a draw that can be learned besides the parameters themselves
    // (R0, beta, final size, ...), computed from the parameters and the true incidence.
    virtual std::vector<std::string> derived() const { return {}; }
    virtual void compute_derived(const double* /*params*/, const std::int64_t* /*incidence*/, int /*days*/,
                                 double* /*out*/) const {}
};

// Settings of a model that are not scalar parameters with priors (a contact matrix).
// Models that need none ignore them.
struct SimulatorOptions {
    // Contacts per day between groups (row: the group infected, column: the infector's
    // group) and the population share of each group; age_sir only.
    std::vector<std::vector<double>> contact_matrix{{3.0, 1.5, 0.5}, {1.5, 2.0, 0.7}, {0.5, 0.7, 1.0}};
    std::vector<double> group_shares{0.25, 0.55, 0.20};
};

using SimulatorFactory = std::function<std::unique_ptr<Simulator>(const SimulatorOptions&)>;

// Every registered simulator, by name.
const std::map<std::string, SimulatorFactory>& simulator_registry();
// Throws ConfigError naming sim.model (unknown name) or the bad option.
std::unique_ptr<Simulator> make_simulator(const std::string& name, const SimulatorOptions& options = {});

}  // namespace sgnn::sim
