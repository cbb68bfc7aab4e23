// Priors over simulator parameters, written in configs as short specs:
//   fixed(V)  uniform(A, B)  loguniform(A, B)  uniform_int(A, B)
// A curriculum narrows each range around its centre by a width factor in (0, 1]
// (in log space for loguniform), so width 1 is the full prior.
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
    enum class Kind { fixed, uniform, loguniform, uniform_int };

    // Parses a spec such as "loguniform(1.5, 5)". `key` names the config key in errors.
    static ParameterPrior parse(const std::string& key, const std::string& spec, const ParameterDomain& domain);

    double draw(SampleStream& rng, double width = 1.0) const;
    double lower() const { return low_; }
    double upper() const { return high_; }
    Kind kind() const { return kind_; }
    std::string spec() const;

private:
    Kind kind_ = Kind::fixed;
    double low_ = 0.0;
    double high_ = 0.0;
};

}  // namespace sgnn::sim
