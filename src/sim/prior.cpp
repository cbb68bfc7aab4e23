#include "sgnn/sim/prior.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace sgnn::sim {
namespace {

std::string trim(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t");
    if (begin == std::string::npos) return {};
    const auto end = s.find_last_not_of(" \t");
    return s.substr(begin, end - begin + 1);
}

double standard_normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Normal(mean, sd) restricted to [lo, hi]. Rejection from the normal while the
// interval holds at least 5% of the mass; otherwise inversion of the CDF by bisection
// (60 halvings: exact to double precision in standardized units).
double truncated_normal(SampleStream& rng, double mean, double sd, double lo, double hi) {
    const double a = (lo - mean) / sd, b = (hi - mean) / sd;
    const double fa = standard_normal_cdf(a), fb = standard_normal_cdf(b);
    if (fb - fa >= 0.05) {
        for (;;) {
            const double z = rng.normal();
            if (z >= a && z <= b) return mean + sd * z;
        }
    }
    const double target = fa + rng.uniform() * (fb - fa);
    double left = a, right = b;
    for (int i = 0; i < 60; ++i) {
        const double mid = 0.5 * (left + right);
        (standard_normal_cdf(mid) < target ? left : right) = mid;
    }
    return mean + sd * 0.5 * (left + right);
}

const char* kUsage =
    "; write fixed(V), uniform(A, B), loguniform(A, B), uniform_int(A, B), normal(M, S), lognormal(M, S), "
    "truncnormal(M, S, A, B) or categorical(V1, V2, ...)";

}  // namespace

std::string ParameterDomain::describe() const {
    std::string lo = std::isinf(min) ? "(-inf" : (min_inclusive ? "[" : "(") + format_number(min);
    std::string hi = std::isinf(max) ? "inf)" : format_number(max) + "]";
    return std::string(integer ? "an integer in " : "a number in ") + lo + ", " + hi;
}

ParameterPrior ParameterPrior::parse(const std::string& key, const std::string& spec, const ParameterDomain& domain) {
    const std::string text = trim(spec);
    const auto open = text.find('(');
    if (open == std::string::npos || text.back() != ')') {
        throw ConfigError(key + " = '" + printable(spec) + "': not a prior" + kUsage);
    }
    const std::string name = trim(text.substr(0, open));
    auto fail = [&](const std::string& problem) {
        return ConfigError(key + " = '" + printable(spec) + "': " + problem);
    };
    auto number = [&](const std::string& item) {
        const std::string t = trim(item);
        double v = 0.0;
        if (!parse_decimal(t, v))
            throw fail("'" + printable(t) + "' is not a finite number (a decimal, such as 2.5 or 1e6)");
        return v;
    };

    ParameterPrior prior;
    std::vector<double> weights;
    std::stringstream inner(text.substr(open + 1, text.size() - open - 2));
    std::string item;
    while (std::getline(inner, item, ',')) {
        const auto colon = item.find(':');
        if (name == "categorical") {
            prior.values_.push_back(number(item.substr(0, colon)));
            weights.push_back(colon == std::string::npos ? 1.0 : number(item.substr(colon + 1)));
        } else {
            prior.args_.push_back(number(item));
        }
    }

    static const std::vector<std::pair<std::string, Kind>> kinds = {{"fixed", Kind::fixed},
                                                                    {"uniform", Kind::uniform},
                                                                    {"loguniform", Kind::loguniform},
                                                                    {"uniform_int", Kind::uniform_int},
                                                                    {"normal", Kind::normal},
                                                                    {"lognormal", Kind::lognormal},
                                                                    {"truncnormal", Kind::truncnormal},
                                                                    {"categorical", Kind::categorical}};
    const auto found = std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == name; });
    if (found == kinds.end()) throw fail("unknown distribution '" + name + "'" + kUsage);
    prior.kind_ = found->second;

    const std::vector<double>& a = prior.args_;
    auto expect = [&](std::size_t count, const char* what) {
        if (a.size() != count) throw fail(name + " takes " + what);
    };
    // The interval of values the prior can produce, to check against the domain.
    double lowest = 0.0, highest = 0.0;
    switch (prior.kind_) {
        case Kind::fixed:
            expect(1, "1 value");
            lowest = highest = a[0];
            break;
        case Kind::uniform:
        case Kind::loguniform:
        case Kind::uniform_int:
            expect(2, "2 values (low, high)");
            if (!(a[0] < a[1])) throw fail("empty range; need low < high");
            if (prior.kind_ == Kind::loguniform && a[0] <= 0.0) throw fail("loguniform needs low > 0");
            if (prior.kind_ == Kind::uniform_int && (std::floor(a[0]) != a[0] || std::floor(a[1]) != a[1])) {
                throw fail("uniform_int needs integer bounds");
            }
            lowest = a[0];
            highest = a[1];
            break;
        case Kind::normal:
            expect(2, "2 values (mean, sd)");
            if (!(a[1] > 0.0)) throw fail("the standard deviation must be positive");
            if (!std::isinf(domain.min) || !std::isinf(domain.max)) {
                throw fail("a normal prior can leave " + domain.describe() +
                           "; use truncnormal(M, S, A, B) with bounds inside it");
            }
            lowest = -INFINITY;
            highest = INFINITY;
            break;
        case Kind::lognormal: {
            expect(2, "2 values (M, S: the mean and sd of the logarithm)");
            if (!(a[1] > 0.0)) throw fail("the standard deviation S of the logarithm must be positive");
            if (domain.min < 0.0) throw fail("lognormal draws positive values only; this parameter can be negative");
            // Every parameter has an upper bound (R0 <= 100, ...). The prior is the
            // lognormal truncated there, accepted only where the bound lies 6 S or more
            // above the median, so that the truncation moves less than 1e-9 of the mass.
            const double room = std::isinf(domain.max) ? INFINITY : (std::log(domain.max) - a[0]) / a[1];
            if (room < 6.0) {
                char mass[32];
                std::snprintf(mass, sizeof mass, "%.2g", 0.5 * std::erfc(room / std::sqrt(2.0)));
                throw fail("lognormal(" + format_number(a[0]) + ", " + format_number(a[1]) + ") puts " + mass +
                           " of its mass above " + format_number(domain.max) +
                           ", the largest value this parameter takes; values must be " + domain.describe());
            }
            prior.args_.push_back(domain.max);  // a[2]: where draws are truncated
            // The smallest normal double, not denorm_min: a process whose trainer flushed
            // denormals to zero (train/learner.cpp) would read denorm_min as 0.
            lowest = std::numeric_limits<double>::min();
            highest = domain.max;
            break;
        }
        case Kind::truncnormal:
            expect(4, "4 values (mean, sd, low, high)");
            if (!(a[1] > 0.0)) throw fail("the standard deviation must be positive");
            if (!(a[2] < a[3])) throw fail("empty range; need low < high");
            lowest = a[2];
            highest = a[3];
            break;
        case Kind::categorical: {
            if (prior.values_.empty()) throw fail("categorical needs at least one value");
            double total = 0.0;
            for (double w : weights) {
                if (!(w > 0.0)) throw fail("categorical weights must be positive");
                total += w;
            }
            double running = 0.0;
            for (double w : weights) prior.cumulative_.push_back((running += w) / total);
            lowest = *std::min_element(prior.values_.begin(), prior.values_.end());
            highest = *std::max_element(prior.values_.begin(), prior.values_.end());
            break;
        }
    }
    const bool low_ok = domain.min_inclusive ? lowest >= domain.min : lowest > domain.min;
    if (!low_ok || highest > domain.max) throw fail("values must be " + domain.describe());
    if (domain.integer) {
        const bool integral =
            prior.kind_ == Kind::uniform_int || (prior.kind_ == Kind::fixed && std::floor(a[0]) == a[0]) ||
            (prior.kind_ == Kind::categorical &&
             std::all_of(prior.values_.begin(), prior.values_.end(), [](double v) { return std::floor(v) == v; }));
        if (!integral) throw fail("this parameter is an integer; use uniform_int(A, B), fixed(N) or categorical");
    }
    return prior;
}

double ParameterPrior::draw(SampleStream& rng, double width) const {
    const std::vector<double>& a = args_;
    switch (kind_) {
        case Kind::fixed:
            return a[0];
        case Kind::uniform: {
            const double centre = 0.5 * (a[0] + a[1]);
            const double half = 0.5 * (a[1] - a[0]) * width;
            return centre - half + 2.0 * half * rng.uniform();
        }
        case Kind::loguniform: {
            const double lo = std::log(a[0]), hi = std::log(a[1]);
            const double centre = 0.5 * (lo + hi);
            const double half = 0.5 * (hi - lo) * width;
            return std::exp(centre - half + 2.0 * half * rng.uniform());
        }
        case Kind::uniform_int: {
            const double centre = 0.5 * (a[0] + a[1]);
            const double half = 0.5 * (a[1] - a[0]) * width;
            double lo = std::ceil(centre - half), hi = std::floor(centre + half);
            if (hi < lo) lo = hi = std::round(centre);  // narrowed below one integer
            return lo + std::floor(rng.uniform() * (hi - lo + 1.0));
        }
        case Kind::normal:
            return a[0] + a[1] * width * rng.normal();
        case Kind::lognormal:
            for (;;) {  // truncated at the parameter's bound, which parse() put 6 S away
                const double x = std::exp(a[0] + a[1] * width * rng.normal());
                if (x <= a[2]) return x;
            }
        case Kind::truncnormal:
            return truncated_normal(rng, a[0], a[1] * width, a[2], a[3]);
        case Kind::categorical: {
            const double u = rng.uniform();
            const auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
            return values_[static_cast<std::size_t>(
                std::min<std::ptrdiff_t>(it - cumulative_.begin(), static_cast<std::ptrdiff_t>(values_.size()) - 1))];
        }
    }
    return a[0];
}

double ParameterPrior::upper_bound() const {
    switch (kind_) {
        case Kind::fixed:
            return args_[0];
        case Kind::uniform:
        case Kind::loguniform:
        case Kind::uniform_int:
            return args_[1];
        case Kind::truncnormal:
            return args_[3];
        case Kind::lognormal:
            return args_[2];  // the truncation at the parameter's bound
        case Kind::normal:
            return std::numeric_limits<double>::infinity();
        case Kind::categorical:
            return *std::max_element(values_.begin(), values_.end());
    }
    return std::numeric_limits<double>::infinity();
}

double ParameterPrior::lower_bound() const {
    switch (kind_) {
        case Kind::fixed:
        case Kind::uniform:
        case Kind::loguniform:
        case Kind::uniform_int:
            return args_[0];
        case Kind::truncnormal:
            return args_[2];
        case Kind::lognormal:
            return 0.0;
        case Kind::normal:
            return -std::numeric_limits<double>::infinity();
        case Kind::categorical:
            return *std::min_element(values_.begin(), values_.end());
    }
    return -std::numeric_limits<double>::infinity();
}

bool ParameterPrior::discrete() const {
    return kind_ == Kind::fixed || kind_ == Kind::uniform_int || kind_ == Kind::categorical;
}

double ParameterPrior::centre() const {
    const std::vector<double>& a = args_;
    switch (kind_) {
        case Kind::fixed:
        case Kind::normal:
            return a[0];
        case Kind::uniform:
            return 0.5 * (a[0] + a[1]);
        case Kind::uniform_int:
            return std::round(0.5 * (a[0] + a[1]));
        case Kind::loguniform:
            return std::sqrt(a[0] * a[1]);
        case Kind::lognormal:
            return std::exp(a[0]);  // the median
        case Kind::truncnormal:
            return std::clamp(a[0], a[2], a[3]);
        case Kind::categorical: {
            std::size_t best = 0;
            double best_weight = 0.0, previous = 0.0;
            for (std::size_t i = 0; i < values_.size(); ++i) {
                if (cumulative_[i] - previous > best_weight) {
                    best_weight = cumulative_[i] - previous;
                    best = i;
                }
                previous = cumulative_[i];
            }
            return values_[best];
        }
    }
    return a[0];
}

std::string ParameterPrior::spec() const {
    // One name per Kind, in its order.
    static const char* names[] = {"fixed",  "uniform",   "loguniform",  "uniform_int",
                                  "normal", "lognormal", "truncnormal", "categorical"};
    std::string text = std::string(names[static_cast<int>(kind_)]) + "(";
    if (kind_ == Kind::categorical) {
        double previous = 0.0;
        for (std::size_t i = 0; i < values_.size(); ++i) {
            text += (i ? ", " : "") + format_number(values_[i]) + ":" + format_number(cumulative_[i] - previous);
            previous = cumulative_[i];
        }
    } else {
        for (std::size_t i = 0; i < args_.size(); ++i) text += (i ? ", " : "") + format_number(args_[i]);
    }
    return text + ")";
}

}  // namespace sgnn::sim
