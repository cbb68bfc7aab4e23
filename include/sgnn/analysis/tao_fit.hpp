// Bounded minimization with PETSc TAO, for maximum-likelihood fits of the classical
// baselines: BLMVM (limited-memory quasi-Newton with bounds) from several starts,
// keeping the best. Parameters are fitted on scales where they are O(1) (logs).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sgnn::analysis {

// What is minimized: its value (+inf where undefined) and, where the objective can
// give it, its value with the exact gradient; without that, gradients are central
// differences of the value (2n + 1 evaluations each).
struct Objective {
    std::function<double(const double* x)> value;
    std::function<double(const double* x, double* gradient)> value_and_gradient;
};

struct FitSettings {
    int max_iterations = 400;
    double gradient_tolerance = 1e-5;  // TAO's gatol on the gradient's norm
    double difference_step = 1e-6;     // central-difference step, in fit coordinates (no exact gradient)
};

struct FitResult {
    std::vector<double> x;
    double value = 0.0;   // the objective at x
    int evaluations = 0;  // objective calls, differences included
    int iterations = 0;
    std::string reason;  // TAO's converged reason, e.g. CONVERGED_GATOL
};

// Minimizes f over the box [lower, upper] from one start (clamped into the box).
// Throws std::runtime_error if PETSc fails outright; a start where f is not finite
// gives value = +inf.
FitResult minimize_in_box(const Objective& f, const std::vector<double>& lower, const std::vector<double>& upper,
                          const std::vector<double>& start, const FitSettings& settings = {});

// The best of minimize_in_box from each start (ties: the earlier start).
FitResult minimize_from_starts(const Objective& f, const std::vector<double>& lower, const std::vector<double>& upper,
                               const std::vector<std::vector<double>>& starts, const FitSettings& settings = {});

}  // namespace sgnn::analysis
