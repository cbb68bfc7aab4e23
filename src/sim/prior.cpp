#include "sgnn/sim/prior.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace sgnn::sim {
namespace {

std::string trim(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t");
    if (begin == std::string::npos) return {};
    const auto end = s.find_last_not_of(" \t");
    return s.substr(begin, end - begin + 1);
}

}  // namespace

std::string ParameterDomain::describe() const {
    std::string lo = std::isinf(min) ? "(-inf" : (min_inclusive ? "[" : "(") + format_number(min);
    std::string hi = std::isinf(max) ? "inf)" : format_number(max) + "]";
    return std::string(integer ? "an integer in " : "a number in ") + lo + ", " + hi;
}

ParameterPrior ParameterPrior::parse(const std::string& key, const std::string& spec,
                                     const ParameterDomain& domain) {
    const std::string usage = "; write fixed(V), uniform(A, B), loguniform(A, B) or uniform_int(A, B)";
    const std::string text = trim(spec);
    const auto open = text.find('(');
    if (open == std::string::npos || text.back() != ')') {
        throw ConfigError(key + " = '" + spec + "': not a prior" + usage);
    }
    const std::string name = trim(text.substr(0, open));
    std::vector<double> args;
    std::stringstream inner(text.substr(open + 1, text.size() - open - 2));
    std::string item;
    while (std::getline(inner, item, ',')) {
        const std::string t = trim(item);
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v)) {
            throw ConfigError(key + " = '" + spec + "': '" + t + "' is not a finite number");
        }
        args.push_back(v);
    }

    ParameterPrior prior;
    if (name == "fixed") {
        prior.kind_ = Kind::fixed;
    } else if (name == "uniform") {
        prior.kind_ = Kind::uniform;
    } else if (name == "loguniform") {
        prior.kind_ = Kind::loguniform;
    } else if (name == "uniform_int") {
        prior.kind_ = Kind::uniform_int;
    } else {
        throw ConfigError(key + " = '" + spec + "': unknown distribution '" + name + "'" + usage);
    }
    const std::size_t expected = prior.kind_ == Kind::fixed ? 1 : 2;
    if (args.size() != expected) {
        throw ConfigError(key + " = '" + spec + "': " + name + " takes " + std::to_string(expected) +
                          (expected == 1 ? " value" : " values (low, high)"));
    }
    prior.low_ = args[0];
    prior.high_ = expected == 2 ? args[1] : args[0];
    if (expected == 2 && !(prior.low_ < prior.high_)) {
        throw ConfigError(key + " = '" + spec + "': empty range; need low < high");
    }
    if (prior.kind_ == Kind::loguniform && prior.low_ <= 0.0) {
        throw ConfigError(key + " = '" + spec + "': loguniform needs low > 0");
    }
    if (prior.kind_ == Kind::uniform_int &&
        (std::floor(prior.low_) != prior.low_ || std::floor(prior.high_) != prior.high_)) {
        throw ConfigError(key + " = '" + spec + "': uniform_int needs integer bounds");
    }
    const bool low_ok = domain.min_inclusive ? prior.low_ >= domain.min : prior.low_ > domain.min;
    if (!low_ok || prior.high_ > domain.max) {
        throw ConfigError(key + " = '" + spec + "': values must be " + domain.describe());
    }
    if (domain.integer && prior.kind_ != Kind::uniform_int &&
        (prior.kind_ != Kind::fixed || std::floor(prior.low_) != prior.low_)) {
        throw ConfigError(key + " = '" + spec + "': this parameter is an integer; use uniform_int(A, B) or fixed(N)");
    }
    return prior;
}

double ParameterPrior::draw(SampleStream& rng, double width) const {
    switch (kind_) {
        case Kind::fixed:
            return low_;
        case Kind::uniform: {
            const double centre = 0.5 * (low_ + high_);
            const double half = 0.5 * (high_ - low_) * width;
            return centre - half + 2.0 * half * rng.uniform();
        }
        case Kind::loguniform: {
            const double lo = std::log(low_), hi = std::log(high_);
            const double centre = 0.5 * (lo + hi);
            const double half = 0.5 * (hi - lo) * width;
            return std::exp(centre - half + 2.0 * half * rng.uniform());
        }
        case Kind::uniform_int: {
            const double centre = 0.5 * (low_ + high_);
            const double half = 0.5 * (high_ - low_) * width;
            const double lo = std::ceil(centre - half), hi = std::floor(centre + half);
            const double count = hi - lo + 1.0;
            return lo + std::floor(rng.uniform() * count);
        }
    }
    return low_;
}

std::string ParameterPrior::spec() const {
    switch (kind_) {
        case Kind::fixed:
            return "fixed(" + format_number(low_) + ")";
        case Kind::uniform:
            return "uniform(" + format_number(low_) + ", " + format_number(high_) + ")";
        case Kind::loguniform:
            return "loguniform(" + format_number(low_) + ", " + format_number(high_) + ")";
        case Kind::uniform_int:
            return "uniform_int(" + format_number(low_) + ", " + format_number(high_) + ")";
    }
    return {};
}

}  // namespace sgnn::sim
