// The parameter catalog: every parameter any simulator or observation model uses,
// with its default prior, allowed domain and meaning. One entry per name, so a
// parameter means the same thing in every model and has one config key, prior.NAME.
#pragma once

#include "sgnn/sim/prior.hpp"

#include <string>
#include <vector>

namespace sgnn::sim {

struct ParameterSpec {
    std::string name;
    std::string default_prior;
    ParameterDomain domain;
    std::string help;
};

const std::vector<ParameterSpec>& parameter_catalog();
const ParameterSpec& parameter_spec(const std::string& name);  // throws std::logic_error if unknown
// The values a parameter may take: the catalog's domain, or any finite number for a
// name outside it (a model file's own parameter, sim/model_file.hpp).
ParameterDomain parameter_domain(const std::string& name);

}  // namespace sgnn::sim
