// The simulator extension point: parameters in, daily series out, RNG handed in.
//
// To add a model, implement Simulator and add one line to builtin_simulators() in
// src/sim/registry.cpp (docs/simulators.md walks through an example). Its parameters
// are looked up by name in the parameter catalog (sim/parameters.hpp), which gives
// each one its config key prior.NAME, default prior and allowed domain.
#pragma once

#include "sgnn/sim/parameters.hpp"
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
    // the parameter catalog, or declared by declared_parameters().
    virtual std::vector<std::string> parameters() const = 0;
    // The parameters the simulator declares itself, with their default priors (a model
    // file's [parameters]): their defaults replace the catalog's, and a name outside the
    // catalog is configured by the open key prior.NAME. Empty for built-in models.
    virtual std::vector<ParameterSpec> declared_parameters() const { return {}; }
    // Names of the series a trajectory produces, each `days` values long. Epidemic
    // models have one, the daily count of new cases; Lotka-Volterra has prey and
    // predators.
    virtual std::vector<std::string> channels() const { return {"incidence"}; }
    // True if every value is a count or size that cannot be negative (a negative one
    // marks a broken trajectory, which is dropped). Models of signed quantities say false.
    virtual bool nonnegative() const { return true; }
    // Simulates `days` days into `series` (channel after channel: channels() x days).
    // Throws std::invalid_argument naming the parameter when a draw is impossible.
    virtual void simulate(const double* params, int days, SampleStream& rng, double* series) const = 0;
    // Simulates `count` trajectories: parameters count x P (row j for trajectory j),
    // streams rngs[j], series count x channels x days. ok[j] = 0 where simulate()
    // would have thrown. Stochastic models draw from each trajectory's own stream in
    // the same order as simulate(), so results are identical; they override this only
    // to be faster (interleaving independent trajectories lets the CPU overlap their
    // latencies). ODE models integrate the block as one system (sim/ode_solver.hpp).
    virtual void simulate_batch(const double* params, int count, int days, SampleStream* rngs, double* series,
                                char* ok) const;
    // Checks settings that need a running library (PETSc options of ODE models); called
    // by make_task, after MPI is up. Throws ConfigError naming the key.
    virtual void check_settings() const {}
    // Trajectories per simulate_batch call when samples are generated (sim/task.cpp).
    // Blocks are the unit of OpenMP parallelism within a batch, and of vectorization:
    // the chain-binomial block sampler runs 20% faster over 128 trajectories than 32,
    // and an ODE model's TS solve per block amortizes PETSc's overhead.
    virtual int block_size() const { return 128; }
    // Exact stochastic simulators: the most events one individual can cause (infection,
    // onset, recovery), so that a sample of population N costs up to this times N
    // events. 0 for models whose cost does not grow with the population.
    virtual double events_per_individual() const { return 0.0; }
    // Quantities of a draw that can be learned besides the parameters themselves
    // (R0, beta, final size, ...), computed from the parameters and the true series.
    virtual std::vector<std::string> derived() const { return {}; }
    virtual void compute_derived(const double* /*params*/, const double* /*series*/, int /*days*/,
                                 double* /*out*/) const {}
};

// The spec of `simulator`'s parameter `name`: the one it declares (a model file's
// default prior and help), else the catalog's. Throws std::logic_error for neither.
ParameterSpec parameter_spec_of(const Simulator& simulator, const std::string& name);

// simulate() of a model that only simulates blocks (ODE models): a block of one.
// Throws std::invalid_argument if the trajectory fails.
void simulate_as_batch(const Simulator& simulator, const double* params, int days, SampleStream& rng, double* series);

// How ODE models are integrated (PETSc TS; sim/ode_solver.hpp).
struct OdeSettings {
    std::string method = "rk5dp";  // one of ode_methods()
    double rtol = 1e-8;            // relative and absolute tolerance of each step's error,
    double atol = 1e-10;           //   per unknown (the worst trajectory of a block decides)
    std::string petsc_options;     // PETSc options database text, e.g. "-ts_type rk -ts_rk_type 3bs"
    // Model time between consecutive entries of a series: entry k is the state at
    // t = k * output_interval (1: daily). The SBI benchmark's SIR observes every 17 days,
    // its Lotka-Volterra task every 2.1 time units.
    double output_interval = 1.0;
};

// Settings of a model that are not scalar parameters with priors (a contact matrix).
// Models that need none ignore them.
struct SimulatorOptions {
    // Contacts per day between groups (row: the group infected, column: the infector's
    // group) and the population share of each group; age_sir only.
    std::vector<std::vector<double>> contact_matrix{{3.0, 1.5, 0.5}, {1.5, 2.0, 0.7}, {0.5, 0.7, 1.0}};
    std::vector<double> group_shares{0.25, 0.55, 0.20};
    // Chain-binomial models: steps per day (each transition's rate scaled by 1/steps).
    // 1 is the classic daily model; more steps approach the continuous-time ODE.
    int steps_per_day = 1;
    // Model files (sim/compartmental_model.hpp): how they are simulated, one of
    // chain_binomial, tau_leap, gillespie or ode. Built-in models choose by name
    // instead (sir_gillespie, seir_tauleap, sir_ode).
    std::string method = "chain_binomial";
    // Epidemic models: "R0" draws R0 from its prior; "growth_rate" draws the early
    // growth rate r instead and derives R0 from r, gamma (and sigma).
    // "rates" draws the transmission and recovery rates beta and gamma themselves (the
    // SBI benchmark's parameters) and derives R0 and the infectious period.
    std::string parameterize_by = "R0";
    // Epidemic models: "incidence" reports new infections per day (per output interval
    // for the ODE models); "prevalence" (ODE models only) the infectious share I(t)/N.
    std::string output = "incidence";
    // Epidemics that start before the data (sim.onset_offset): every sample runs
    // onset_offset entries (prior.onset_offset, drawn per sample and learnable as a
    // target) from its seeding before its observed window of sim.days entries starts.
    // Off, the window starts at the seeding, which real surveillance never does: a
    // SEIR series seeded in I then always reports 0 on its first day (sim/task.cpp).
    bool onset_offset = false;
    // Epidemic models: the generation interval's mean and sd in days (sim.generation_interval,
    // as EpiEstim's mean_si and std_si), which then sets the infectious and latent periods
    // (sim/epidemic_models.hpp: periods_for_generation_interval). Empty: the periods'
    // priors apply.
    std::vector<double> generation_interval;
    OdeSettings ode;
};

using SimulatorFactory = std::function<std::unique_ptr<Simulator>(const SimulatorOptions&)>;

// Every registered simulator, by name.
const std::map<std::string, SimulatorFactory>& simulator_registry();

// Adds a simulator built outside sgnn (a program that links the installed sgnn
// libraries, examples/user_simulator): call it before anything asks for the registry,
// as the program's main does first thing. Its parameters must be names of the
// parameter catalog (sim/parameters.hpp), so that the prior.NAME options exist. Throws
// std::logic_error for a name already taken or a registry already in use.
void add_simulator(const std::string& name, SimulatorFactory factory);
// The simulator `name`: a registered one, or a model file (a name ending in .model,
// read from disk: sim/model_file.hpp). Throws ConfigError naming sim.model (unknown
// name), the model file's line and column, or the bad option.
std::unique_ptr<Simulator> make_simulator(const std::string& name, const SimulatorOptions& options = {});

}  // namespace sgnn::sim
