#include "sgnn/analysis/tao_fit.hpp"

#include "sgnn/sim/petsc_runtime.hpp"

#include <petsctao.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sgnn::analysis {
namespace {

struct Problem {
    const Objective* f;
    const FitSettings* settings;
    std::vector<double> lower, upper;
    std::vector<double> point;  // scratch
    int evaluations = 0;
};

// f, or a large finite value where f is not finite: TAO's line search backs off from
// it instead of stopping with DIVERGED_NAN.
constexpr double kUndefined = 1e300;

double evaluate(Problem& p, const double* x) {
    ++p.evaluations;
    const double value = p.f->value(x);
    return std::isfinite(value) ? value : kUndefined;
}

PetscErrorCode objective_and_gradient(Tao, Vec x, PetscReal* value, Vec gradient, void* raw) {
    auto& p = *static_cast<Problem*>(raw);
    const PetscScalar* xs = nullptr;
    PetscScalar* g = nullptr;
    PetscCall(VecGetArrayRead(x, &xs));
    PetscCall(VecGetArray(gradient, &g));
    const std::size_t n = p.lower.size();
    p.point.assign(xs, xs + n);
    if (p.f->value_and_gradient) {
        ++p.evaluations;
        const double f = p.f->value_and_gradient(p.point.data(), g);
        bool finite = std::isfinite(f);
        for (std::size_t i = 0; i < n; ++i) finite &= std::isfinite(g[i]);
        *value = finite ? f : kUndefined;
        if (!finite) std::fill(g, g + n, 0.0);
        PetscCall(VecRestoreArray(gradient, &g));
        PetscCall(VecRestoreArrayRead(x, &xs));
        return 0;
    }
    *value = evaluate(p, p.point.data());
    for (std::size_t i = 0; i < n; ++i) {
        // Central where the box allows, one-sided at a bound.
        const double h = p.settings->difference_step;
        const double up = std::min(xs[i] + h, p.upper[i]), down = std::max(xs[i] - h, p.lower[i]);
        p.point[i] = up;
        const double f_up = evaluate(p, p.point.data());
        p.point[i] = down;
        const double f_down = evaluate(p, p.point.data());
        p.point[i] = xs[i];
        g[i] = up > down ? (f_up - f_down) / (up - down) : 0.0;
    }
    PetscCall(VecRestoreArray(gradient, &g));
    PetscCall(VecRestoreArrayRead(x, &xs));
    return 0;
}

// Owns the PETSc objects of one solve.
struct TaoObjects {
    Tao tao = nullptr;
    Vec x = nullptr, lower = nullptr, upper = nullptr;
    ~TaoObjects() {
        if (tao) TaoDestroy(&tao);
        if (x) VecDestroy(&x);
        if (lower) VecDestroy(&lower);
        if (upper) VecDestroy(&upper);
    }
};

void set_values(Vec v, const std::vector<double>& values) {
    PetscScalar* a = nullptr;
    sim::petsc_check(VecGetArray(v, &a), "VecGetArray");
    std::copy(values.begin(), values.end(), a);
    sim::petsc_check(VecRestoreArray(v, &a), "VecRestoreArray");
}

}  // namespace

FitResult minimize_in_box(const Objective& f, const std::vector<double>& lower, const std::vector<double>& upper,
                          const std::vector<double>& start, const FitSettings& settings) {
    const std::size_t n = lower.size();
    Problem problem{&f, &settings, lower, upper, {}, 0};
    std::vector<double> x0(n);
    for (std::size_t i = 0; i < n; ++i) x0[i] = std::clamp(start[i], lower[i], upper[i]);

    std::lock_guard<std::mutex> lock(sim::petsc_mutex());
    sim::ensure_petsc();
    using sim::petsc_check;
    TaoObjects o;
    const PetscInt size = static_cast<PetscInt>(n);
    petsc_check(VecCreateSeq(PETSC_COMM_SELF, size, &o.x), "VecCreateSeq");
    petsc_check(VecDuplicate(o.x, &o.lower), "VecDuplicate");
    petsc_check(VecDuplicate(o.x, &o.upper), "VecDuplicate");
    set_values(o.x, x0);
    set_values(o.lower, lower);
    set_values(o.upper, upper);
    petsc_check(TaoCreate(PETSC_COMM_SELF, &o.tao), "TaoCreate");
    petsc_check(TaoSetType(o.tao, TAOBLMVM), "TaoSetType");
    petsc_check(TaoSetSolution(o.tao, o.x), "TaoSetSolution");
    petsc_check(TaoSetVariableBounds(o.tao, o.lower, o.upper), "TaoSetVariableBounds");
    petsc_check(TaoSetObjectiveAndGradient(o.tao, nullptr, objective_and_gradient, &problem),
                "TaoSetObjectiveAndGradient");
    petsc_check(TaoSetTolerances(o.tao, settings.gradient_tolerance, 0.0, 0.0), "TaoSetTolerances");
    petsc_check(TaoSetMaximumIterations(o.tao, settings.max_iterations), "TaoSetMaximumIterations");
    petsc_check(TaoSolve(o.tao), "TaoSolve");

    FitResult result;
    TaoConvergedReason reason;
    PetscInt iterations = 0;
    PetscReal value = 0, gnorm = 0, cnorm = 0, xdiff = 0;
    petsc_check(TaoGetSolutionStatus(o.tao, &iterations, &value, &gnorm, &cnorm, &xdiff, &reason),
                "TaoGetSolutionStatus");
    result.reason = TaoConvergedReasons[reason];
    result.iterations = static_cast<int>(iterations);
    const PetscScalar* xs = nullptr;
    petsc_check(VecGetArrayRead(o.x, &xs), "VecGetArrayRead");
    result.x.assign(xs, xs + n);
    petsc_check(VecRestoreArrayRead(o.x, &xs), "VecRestoreArrayRead");
    // The value at the returned point, as f gives it (not TAO's last line-search value).
    const double at_solution = f.value(result.x.data());
    result.value = std::isfinite(at_solution) ? at_solution : std::numeric_limits<double>::infinity();
    result.evaluations = problem.evaluations + 1;
    return result;
}

FitResult minimize_from_starts(const Objective& f, const std::vector<double>& lower, const std::vector<double>& upper,
                               const std::vector<std::vector<double>>& starts, const FitSettings& settings) {
    FitResult best;
    best.value = std::numeric_limits<double>::infinity();
    int evaluations = 0;
    for (const auto& start : starts) {
        FitResult fit = minimize_in_box(f, lower, upper, start, settings);
        evaluations += fit.evaluations;
        if (fit.value < best.value || best.x.empty()) best = std::move(fit);
    }
    best.evaluations = evaluations;
    return best;
}

}  // namespace sgnn::analysis
