// Integrates a block of ODE trajectories as one PETSc TS system.
//
// A block of B trajectories of a d-dimensional model is one Vec of B x d unknowns, so
// PETSc's per-solve overhead (set-up, adaptivity, options) is paid once per block,
// not once per trajectory. The step-size controller measures the error in the
// max-norm over all unknowns (-ts_adapt_wnormtype infinity), so the worst trajectory
// sets the step and every trajectory meets the tolerance it would meet alone.
//
// This is the only translation unit that includes PETSc. PETSc is initialized on
// first use on MPI_COMM_SELF (each rank integrates its own blocks) and is not thread
// safe here: solves are serialized within a process.
#pragma once

#include "sgnn/sim/simulator.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sgnn::sim {

// Trajectories per TS system when samples are generated: large enough that PETSc's
// per-solve cost is small next to the right-hand side, small enough that one stiff
// trajectory does not slow many others for long.
constexpr int kOdeBlock = 128;

// The right-hand side of one trajectory: dy/dt = f(t, y; c), with c the trajectory's
// coefficients (rates computed once from its parameters).
class OdeSystem {
public:
    virtual ~OdeSystem() = default;
    virtual int dimension() const = 0;
    virtual void rhs(double t, const double* y, const double* coefficients, double* dydt) const = 0;
};

// Names accepted by ode.method, with what they mean.
const std::vector<std::pair<std::string, std::string>>& ode_methods();

// Checks settings without integrating anything: method, tolerances, and that PETSc
// uses every option in settings.petsc_options (a misspelt option would otherwise be
// ignored silently). Throws ConfigError naming the ode.* key.
void validate_ode_settings(const OdeSettings& settings);

// Integrates `count` trajectories: coefficients count x n_coefficients, initial
// states count x dimension. Writes the state at t = k * settings.output_interval,
// k = 0, 1, ..., days, into states (count x (days + 1) x dimension). If the block fails (a trajectory blows up), each
// trajectory is retried alone and ok[j] = 0 for those that fail again.
void integrate_ode_block(const OdeSystem& system, const OdeSettings& settings, int count, int n_coefficients,
                         const double* coefficients, const double* initial, int days, double* states, char* ok);

// simulate_batch of an ODE model: prepare(j, coefficients, initial) fills trajectory
// j's coefficients and initial state from its parameters, throwing
// std::invalid_argument for an impossible set (ok[j] = 0); after the block is
// integrated, emit(j, states) turns j's record ((days + 1) x dimension states at
// t = k * settings.output_interval, k = 0, 1, ..., days) into its series.
void simulate_ode_block(const OdeSystem& system, const OdeSettings& settings, int n_coefficients, int count, int days,
                        const std::function<void(int, double*, double*)>& prepare,
                        const std::function<void(int, const double*)>& emit, char* ok);

// What every ODE model shares: simulate() is a block of one, blocks are kOdeBlock
// trajectories, and the settings are checked at start-up. Base is Simulator, or a
// model family's base class (the epidemic models').
template <class Base>
class OdeModel : public Base, protected OdeSystem {
public:
    template <class... BaseArgs>
    explicit OdeModel(OdeSettings settings, BaseArgs&&... base_args)
        : Base(std::forward<BaseArgs>(base_args)...), settings_(std::move(settings)) {}

    void simulate(const double* params, int days, SampleStream& rng, double* series) const override {
        simulate_as_batch(*this, params, days, rng, series);
    }
    int block_size() const override { return kOdeBlock; }
    void check_settings() const override { validate_ode_settings(settings_); }

protected:
    const OdeSettings& settings() const { return settings_; }

private:
    OdeSettings settings_;
};

// Finalizes PETSc if this process initialized it; call before MPI_Finalize.
void finalize_ode_runtime();

// Calls finalize_ode_runtime() when it goes out of scope. Declare it after the
// MpiSession, so that PETSc finalizes before MPI does.
struct OdeRuntimeScope {
    OdeRuntimeScope() = default;
    OdeRuntimeScope(const OdeRuntimeScope&) = delete;
    OdeRuntimeScope& operator=(const OdeRuntimeScope&) = delete;
    ~OdeRuntimeScope() { finalize_ode_runtime(); }
};

}  // namespace sgnn::sim
