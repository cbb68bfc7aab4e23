#include "sgnn/sim/ode_solver.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/petsc_runtime.hpp"
#include "sgnn/text.hpp"

#include <petscts.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>

namespace sgnn::sim {
namespace {

struct MethodInfo {
    const char* name;
    const char* rk_type;
    const char* help;
};

const MethodInfo kMethods[] = {
    {"rk5dp", TSRK5DP, "Dormand-Prince 5(4), adaptive (default)"},
    {"rk5f", TSRK5F, "Fehlberg 5(4), adaptive"},
    {"rk5bs", TSRK5BS, "Bogacki-Shampine 5(4), adaptive"},
    {"rk3bs", TSRK3BS, "Bogacki-Shampine 3(2), adaptive: cheaper steps, for loose tolerances"},
    {"rk8vr", TSRK8VR, "Verner 8(7), adaptive: for very tight tolerances"},
};

void check(PetscErrorCode code, const char* what) { petsc_check(code, what); }

const MethodInfo& method_info(const std::string& name) {
    for (const auto& m : kMethods) {
        if (name == m.name) return m;
    }
    std::string list;
    for (const auto& m : kMethods) list += (list.empty() ? "" : ", ") + std::string(m.name);
    throw ConfigError("ode.method = '" + name + "': unknown method; choose from " + list);
}

struct RhsContext {
    const OdeSystem* system;
    const double* coefficients;
    int n_coefficients;
    int count;
    int dimension;
};

PetscErrorCode rhs_function(TS, PetscReal t, Vec x, Vec f, void* raw) {
    const auto* c = static_cast<const RhsContext*>(raw);
    const PetscScalar* xs = nullptr;
    PetscScalar* fs = nullptr;
    PetscErrorCode code = VecGetArrayRead(x, &xs);
    if (code) return code;
    code = VecGetArray(f, &fs);
    if (code) return code;
    for (int j = 0; j < c->count; ++j) {
        const std::size_t offset = static_cast<std::size_t>(j) * static_cast<std::size_t>(c->dimension);
        c->system->rhs(t, xs + offset, c->coefficients + static_cast<std::size_t>(j) * c->n_coefficients, fs + offset);
    }
    code = VecRestoreArray(f, &fs);
    if (code) return code;
    return VecRestoreArrayRead(x, &xs);
}

// One TS with its own options database, so that two tasks in one process (or a unit
// test) can use different settings.
class TimeStepper {
public:
    TimeStepper(const OdeSettings& settings, int unknowns) {
        const MethodInfo& method = method_info(settings.method);
        check(PetscOptionsCreate(&options_), "PetscOptionsCreate");
        // Defaults first, so that settings.petsc_options can override them.
        check(PetscOptionsSetValue(options_, "-ts_adapt_wnormtype", "infinity"), "PetscOptionsSetValue");
        check(PetscOptionsInsertString(options_, settings.petsc_options.c_str()), "PetscOptionsInsertString");
        check(TSCreate(PETSC_COMM_SELF, &ts_), "TSCreate");
        check(PetscObjectSetOptions(reinterpret_cast<PetscObject>(ts_), options_), "PetscObjectSetOptions");
        check(TSSetProblemType(ts_, TS_NONLINEAR), "TSSetProblemType");
        check(TSSetType(ts_, TSRK), "TSSetType");
        check(TSRKSetType(ts_, method.rk_type), "TSRKSetType");
        check(TSSetTolerances(ts_, settings.atol, nullptr, settings.rtol, nullptr), "TSSetTolerances");
        check(TSSetExactFinalTime(ts_, TS_EXACTFINALTIME_MATCHSTEP), "TSSetExactFinalTime");
        check(TSSetMaxSteps(ts_, 10000000), "TSSetMaxSteps");
        check(TSSetFromOptions(ts_), "TSSetFromOptions");
        PetscInt unused = 0;
        check(PetscOptionsAllUsed(options_, &unused), "PetscOptionsAllUsed");
        if (unused > 0) {
            PetscInt n = 0;
            char **names = nullptr, **values = nullptr;
            check(PetscOptionsLeftGet(options_, &n, &names, &values), "PetscOptionsLeftGet");
            std::string list;
            for (PetscInt i = 0; i < n; ++i) list += (list.empty() ? "-" : ", -") + std::string(names[i]);
            PetscOptionsLeftRestore(options_, &n, &names, &values);
            throw ConfigError("ode.petsc_options = '" + settings.petsc_options + "': PETSc did not use " + list +
                              " (misspelt, or not an option of the TS method chosen)");
        }
        check(VecCreateSeq(PETSC_COMM_SELF, unknowns, &u_), "VecCreateSeq");
    }
    ~TimeStepper() {
        if (u_) VecDestroy(&u_);
        if (ts_) TSDestroy(&ts_);
        if (options_) PetscOptionsDestroy(&options_);
    }
    TimeStepper(const TimeStepper&) = delete;
    TimeStepper& operator=(const TimeStepper&) = delete;

    // Integrates from `initial` at t = 0 and hands the state at t = k * interval, k = 0,
    // 1, ..., days, to record(state, k). Returns false if PETSc gives up (steps rejected
    // too often).
    bool solve(RhsContext& context, const double* initial, int days, double interval,
               const std::function<void(const double*, int)>& record) {
        const PetscInt n = static_cast<PetscInt>(context.count) * context.dimension;
        check(TSSetRHSFunction(ts_, nullptr, rhs_function, &context), "TSSetRHSFunction");
        PetscScalar* u = nullptr;
        check(VecGetArray(u_, &u), "VecGetArray");
        std::copy(initial, initial + n, u);
        check(VecRestoreArray(u_, &u), "VecRestoreArray");
        check(TSSetTime(ts_, 0.0), "TSSetTime");
        check(TSSetStepNumber(ts_, 0), "TSSetStepNumber");
        check(TSSetTimeStep(ts_, 1e-3), "TSSetTimeStep");  // the controller grows it quickly
        record_state(record, 0);
        for (int day = 1; day <= days; ++day) {
            // The product, not a running sum: output times carry no accumulated rounding.
            const double until = day * interval;
            check(TSSetMaxTime(ts_, static_cast<PetscReal>(until)), "TSSetMaxTime");
            if (TSSolve(ts_, u_) != 0) return false;
            TSConvergedReason reason = TS_CONVERGED_ITERATING;
            check(TSGetConvergedReason(ts_, &reason), "TSGetConvergedReason");
            PetscReal reached = 0.0;
            check(TSGetTime(ts_, &reached), "TSGetTime");
            // Stopping early (-ts_max_steps) is a failure too, not a shorter series.
            if (reason < 0 || std::fabs(reached - until) > 1e-9 * until) return false;
            record_state(record, day);
        }
        return true;
    }

private:
    void record_state(const std::function<void(const double*, int)>& record, int day) {
        const PetscScalar* u = nullptr;
        check(VecGetArrayRead(u_, &u), "VecGetArrayRead");
        record(u, day);
        check(VecRestoreArrayRead(u_, &u), "VecRestoreArrayRead");
    }

    PetscOptions options_ = nullptr;
    TS ts_ = nullptr;
    Vec u_ = nullptr;
};

// Integrates count trajectories as one system; returns false if the block failed.
bool solve_block(const OdeSystem& system, const OdeSettings& settings, int count, int n_coefficients,
                 const double* coefficients, const double* initial, int days, double* states) {
    const int d = system.dimension();
    TimeStepper stepper(settings, count * d);
    const std::size_t record_size = static_cast<std::size_t>(days + 1) * static_cast<std::size_t>(d);
    const auto record = [&](const double* u, int day) {
        for (int j = 0; j < count; ++j) {
            std::copy(u + static_cast<std::size_t>(j) * d, u + static_cast<std::size_t>(j + 1) * d,
                      states + static_cast<std::size_t>(j) * record_size + static_cast<std::size_t>(day) * d);
        }
    };
    RhsContext context{&system, coefficients, n_coefficients, count, d};
    if (!stepper.solve(context, initial, days, settings.output_interval, record)) return false;
    return std::all_of(states, states + static_cast<std::size_t>(count) * record_size,
                       [](double v) { return std::isfinite(v); });
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& ode_methods() {
    static const std::vector<std::pair<std::string, std::string>> methods = [] {
        std::vector<std::pair<std::string, std::string>> m;
        for (const auto& info : kMethods) m.emplace_back(info.name, info.help);
        return m;
    }();
    return methods;
}

void validate_ode_settings(const OdeSettings& settings) {
    method_info(settings.method);
    if (!(settings.rtol > 0.0 && settings.rtol < 1.0)) {
        throw ConfigError("ode.rtol = " + format_number(settings.rtol) + ": must be in (0, 1)");
    }
    if (!(settings.atol > 0.0)) throw ConfigError("ode.atol = " + format_number(settings.atol) + ": must be > 0");
    if (!(settings.output_interval > 0.0) || !std::isfinite(settings.output_interval)) {
        throw ConfigError("ode.output_interval = " + format_number(settings.output_interval) + ": must be > 0");
    }
    // A trial solve of dy/dt = -y over one day: refuses options PETSc ignores, and
    // methods that cannot run without more set-up (an implicit -ts_type needs a Jacobian).
    struct Decay final : OdeSystem {
        int dimension() const override { return 1; }
        void rhs(double, const double* y, const double*, double* dydt) const override { dydt[0] = -y[0]; }
    } decay;
    const double one = 1.0;
    double states[2];
    std::lock_guard<std::mutex> lock(petsc_mutex());
    static std::set<std::string> checked;  // tasks are built more than once per process
    const std::string key = settings.method + "|" + format_number(settings.rtol) + "|" + format_number(settings.atol) +
                            "|" + settings.petsc_options;
    if (checked.count(key)) return;
    ensure_petsc();
    bool solved = false;
    try {
        OdeSettings one_day = settings;
        one_day.output_interval = 1.0;
        solved = solve_block(decay, one_day, 1, 0, nullptr, &one, 1, states);
    } catch (const ConfigError&) {
        throw;
    } catch (const std::exception& error) {
        throw ConfigError("ode.petsc_options = '" + settings.petsc_options + "': " + error.what());
    }
    if (!solved || std::fabs(states[1] - std::exp(-1.0)) > 1e-3) {
        throw ConfigError(
            "ode.method / ode.petsc_options: PETSc could not integrate the test equation dy/dt = -y "
            "with these settings ('" +
            settings.petsc_options + "')");
    }
    checked.insert(key);
}

void integrate_ode_block(const OdeSystem& system, const OdeSettings& settings, int count, int n_coefficients,
                         const double* coefficients, const double* initial, int days, double* states, char* ok) {
    if (count <= 0) return;
    std::lock_guard<std::mutex> lock(petsc_mutex());
    ensure_petsc();
    if (solve_block(system, settings, count, n_coefficients, coefficients, initial, days, states)) {
        std::fill(ok, ok + count, 1);
        return;
    }
    // Find the trajectories that fail: the others integrate fine on their own.
    const int d = system.dimension();
    const std::size_t record_size = static_cast<std::size_t>(days + 1) * static_cast<std::size_t>(d);
    for (int j = 0; j < count; ++j) {
        ok[j] = solve_block(system, settings, 1, n_coefficients,
                            coefficients + static_cast<std::size_t>(j) * n_coefficients,
                            initial + static_cast<std::size_t>(j) * d, days, states + j * record_size)
                    ? 1
                    : 0;
    }
}

void simulate_ode_block(const OdeSystem& system, const OdeSettings& settings, int n_coefficients, int count, int days,
                        const std::function<void(int, double*, double*)>& prepare,
                        const std::function<void(int, const double*)>& emit, char* ok) {
    const std::size_t d = static_cast<std::size_t>(system.dimension());
    const std::size_t n_coef = static_cast<std::size_t>(n_coefficients);
    thread_local std::vector<double> coefficients, initial, states;
    thread_local std::vector<int> live;
    coefficients.resize(static_cast<std::size_t>(count) * n_coef);
    initial.resize(static_cast<std::size_t>(count) * d);
    live.clear();
    // Only valid parameter sets enter the system, packed at the front.
    for (int j = 0; j < count; ++j) {
        const std::size_t k = live.size();
        try {
            prepare(j, coefficients.data() + k * n_coef, initial.data() + k * d);
            live.push_back(j);
        } catch (const std::invalid_argument&) {
            ok[j] = 0;
        }
    }
    const int n_live = static_cast<int>(live.size());
    const std::size_t record_size = static_cast<std::size_t>(days + 1) * d;
    states.resize(static_cast<std::size_t>(n_live) * record_size);
    std::vector<char> solved(static_cast<std::size_t>(n_live), 0);
    integrate_ode_block(system, settings, n_live, n_coefficients, coefficients.data(), initial.data(), days,
                        states.data(), solved.data());
    for (int k = 0; k < n_live; ++k) {
        const int j = live[static_cast<std::size_t>(k)];
        ok[j] = solved[static_cast<std::size_t>(k)];
        if (ok[j]) emit(j, states.data() + static_cast<std::size_t>(k) * record_size);
    }
}

void finalize_ode_runtime() { finalize_petsc(); }

}  // namespace sgnn::sim
