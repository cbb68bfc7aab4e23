// Priors over simulator parameters, written in configs as short specs:
//   fixed(V)             the value V
//   uniform(A, B)        uniform on [A, B]
//   loguniform(A, B)     log-uniform on [A, B], A > 0
//   uniform_int(A, B)    integers A..B, equally likely
//   normal(M, S)         normal, mean M, sd S (only for parameters without bounds)
//   lognormal(M, S)      exp of a normal with mean M and sd S (positive parameters;
//                        the SBI benchmark's priors), truncated at the parameter's
//                        upper bound, which must lie 6 S or more above the median
//   truncnormal(M, S, A, B)  normal restricted to [A, B]
//   categorical(V1, V2, ...) or categorical(V1:W1, V2:W2, ...)  listed values, with weights
// A curriculum narrows each prior by a width factor in (0, 1]: ranges shrink around
// their centre (in log space for loguniform), standard deviations scale (of the
// logarithm for lognormal, around its median); fixed and
// categorical priors are unchanged. Width 1 is the full prior.
#pragma once

#include "sgnn/sim/random.hpp"

#include <string>
#include <vector>

namespace sgnn::sim {

// What values a parameter may take at all; a prior spec must stay inside it.
struct ParameterDomain {
    double min;
    double max;
    bool min_inclusive = true;
    bool integer = false;
    std::string describe() const;
};

class ParameterPrior {
public:
    enum class Kind { fixed, uniform, loguniform, uniform_int, normal, lognormal, truncnormal, categorical };

    // Parses a spec such as "loguniform(1.5, 5)". `key` names the config key in errors.
    static ParameterPrior parse(const std::string& key, const std::string& spec, const ParameterDomain& domain);

    double draw(SampleStream& rng, double width = 1.0) const;
    // A central value: the midpoint, geometric midpoint, mean or most likely value.
    double centre() const;
    // The smallest and largest values a draw can take (minus or plus infinity for an
    // unbounded normal; 0 for a lognormal, whose draws are positive).
    double lower_bound() const;
    double upper_bound() const;
    // Whether draws take a finite set of values (fixed, uniform_int, categorical).
    bool discrete() const;
    std::string spec() const;
    Kind kind() const { return kind_; }
    const std::vector<double>& arguments() const { return args_; }  // as written

private:
    Kind kind_ = Kind::fixed;
    std::vector<double> args_;        // as written: (V), (A, B), (M, S), (M, S, A, B)
    std::vector<double> values_;      // categorical values
    std::vector<double> cumulative_;  // categorical cumulative weights, normalized
};

}  // namespace sgnn::sim
