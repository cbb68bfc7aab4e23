#include "target_transforms.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace sgnn::train {
namespace {

const char* kind_name(TargetTransforms::Kind kind) {
    switch (kind) {
        case TargetTransforms::Kind::identity:
            return "identity";
        case TargetTransforms::Kind::log:
            return "log";
        case TargetTransforms::Kind::logit:
            return "logit";
        case TargetTransforms::Kind::log_logit:
            return "log_logit";
    }
    return "identity";
}

// The unit share u of x in [lower, upper] (on the log scale for log_logit), kept off
// the bounds by kUnitMargin.
torch::Tensor unit_share(const torch::Tensor& x, const TargetTransforms::Transform& t) {
    const double m = TargetTransforms::kUnitMargin;
    if (t.kind == TargetTransforms::Kind::log_logit) {
        const double a = std::log(t.lower), b = std::log(t.upper);
        return ((x.log() - a) / (b - a)).clamp(m, 1.0 - m);
    }
    return ((x - t.lower) / (t.upper - t.lower)).clamp(m, 1.0 - m);
}

// Every digit a double needs to read back the same: model.h5 carries the bounds.
std::string exact(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
}

}  // namespace

TargetTransforms target_transforms(const ModelConfig& model, const sim::SampleLayout& layout) {
    if (model.head == "mean") return {};
    if (layout.n_targets() == 0) {
        throw ConfigError("model.head = " + model.head +
                          ": there are no parameters to give a posterior of (sim.targets lists only 'mechanism'); "
                          "add parameters to sim.targets or use model.head = mean");
    }
    return TargetTransforms::for_supports(layout.target_names, layout.target_supports, model.head);
}

TargetTransforms TargetTransforms::for_supports(const std::vector<std::string>& names,
                                                const std::vector<sim::TargetSupport>& supports,
                                                const std::string& head) {
    using Support = sim::TargetSupport;
    std::vector<Transform> transforms;
    for (std::size_t j = 0; j < names.size(); ++j) {
        const Support& s = supports.at(j);
        if (!s.in_every_sample) {
            throw ConfigError("sim.targets: model.head = " + head + " describes the parameters every mechanism has; '" +
                              names[j] +
                              "' is missing in some mechanism of sim.mixture (drop it, or use model.head = mean)");
        }
        Transform t;
        switch (s.kind) {
            case Support::Kind::real:
                break;
            case Support::Kind::positive:
                t.kind = Kind::log;
                t.upper = s.upper;
                break;
            case Support::Kind::interval:
                if (!(s.upper > s.lower)) {
                    throw ConfigError("sim.targets: '" + names[j] + "' has a prior of no width (" + s.origin +
                                      "); a density head needs a target that varies");
                }
                t.kind = s.log_scale ? Kind::log_logit : Kind::logit;
                t.lower = s.lower;
                t.upper = s.upper;
                break;
            case Support::Kind::discrete:
                throw ConfigError("sim.targets: model.head = " + head + " needs continuous targets, and '" + names[j] +
                                  "' takes a finite set of values (" + s.origin +
                                  "); give it a continuous prior, drop it, or use model.head = mean");
        }
        transforms.push_back(t);
    }
    return TargetTransforms(std::move(transforms));
}

torch::Tensor TargetTransforms::forward(const torch::Tensor& x) const {
    return map_columns(x, [](const Transform& t, const torch::Tensor& c) {
        switch (t.kind) {
            case Kind::identity:
                return c;
            case Kind::log:
                return c.log();
            case Kind::logit:
            case Kind::log_logit:
                break;
        }
        const torch::Tensor u = unit_share(c, t);
        return u.log() - (1.0 - u).log();
    });
}

torch::Tensor TargetTransforms::inverse(const torch::Tensor& z) const {
    return map_columns(z, [](const Transform& t, const torch::Tensor& c) {
        switch (t.kind) {
            case Kind::identity:
                return c;
            case Kind::log:
                return c.exp();
            case Kind::logit:
                return t.lower + (t.upper - t.lower) * torch::sigmoid(c);
            case Kind::log_logit:
                break;
        }
        const double a = std::log(t.lower), b = std::log(t.upper);
        return (a + (b - a) * torch::sigmoid(c)).exp();
    });
}

torch::Tensor TargetTransforms::map_columns(
    const torch::Tensor& x, const std::function<torch::Tensor(const Transform&, const torch::Tensor&)>& f) const {
    std::vector<torch::Tensor> columns;
    for (std::size_t j = 0; j < transforms_.size(); ++j) {
        columns.push_back(f(transforms_[j], x.select(1, static_cast<std::int64_t>(j))));
    }
    return torch::stack(columns, 1);
}

torch::Tensor TargetTransforms::log_abs_det_jacobian(const torch::Tensor& x) const {
    torch::Tensor total = torch::zeros({x.size(0)}, x.options());
    for (std::size_t j = 0; j < transforms_.size(); ++j) {
        const Transform& t = transforms_[j];
        const torch::Tensor c = x.select(1, static_cast<std::int64_t>(j));
        switch (t.kind) {
            case Kind::identity:
                break;
            case Kind::log:  // dz/dx = 1/x
                total = total - c.log();
                break;
            case Kind::logit: {  // dz/dx = 1 / (u (1 - u) (b - a))
                const torch::Tensor u = unit_share(c, t);
                total = total - u.log() - (1.0 - u).log() - std::log(t.upper - t.lower);
                break;
            }
            case Kind::log_logit: {  // dz/dx = 1 / (u (1 - u) (log b - log a) x)
                const torch::Tensor u = unit_share(c, t);
                total = total - u.log() - (1.0 - u).log() - std::log(std::log(t.upper) - std::log(t.lower)) - c.log();
                break;
            }
        }
    }
    return total;
}

torch::Tensor TargetTransforms::inside(const torch::Tensor& x) const {
    torch::Tensor ok = torch::isfinite(x).all(1);
    for (std::size_t j = 0; j < transforms_.size(); ++j) {
        const Transform& t = transforms_[j];
        const torch::Tensor c = x.select(1, static_cast<std::int64_t>(j));
        switch (t.kind) {
            case Kind::identity:
                break;
            case Kind::log:
                ok = ok & (c > 0);
                if (std::isfinite(t.upper) && t.upper > 0) ok = ok & (c <= t.upper);
                break;
            case Kind::logit:
            case Kind::log_logit:
                ok = ok & (c >= t.lower) & (c <= t.upper);
                break;
        }
    }
    return ok;
}

std::string TargetTransforms::describe() const {
    std::string text;
    for (const Transform& t : transforms_) {
        if (!text.empty()) text += ";";
        text += kind_name(t.kind);
        if (t.kind == Kind::logit || t.kind == Kind::log_logit) {
            text += "(" + exact(t.lower) + "," + exact(t.upper) + ")";
        } else if (t.kind == Kind::log && std::isfinite(t.upper) && t.upper > 0) {
            text += "(" + exact(t.upper) + ")";
        }
    }
    return text;
}

TargetTransforms TargetTransforms::parse(const std::string& text, const std::string& origin) {
    std::vector<Transform> transforms;
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
        const std::size_t end = std::min(text.find(';', start), text.size());
        const std::string item = text.substr(start, end - start);
        const std::size_t open = item.find('(');
        const std::string name = item.substr(0, open);
        std::vector<double> args;
        if (open != std::string::npos) {
            if (item.back() != ')')
                throw std::runtime_error(origin + ": malformed transform '" + printable(item) + "'");
            for (const std::string& a : split_list(item.substr(open + 1, item.size() - open - 2))) {
                double value = 0.0;
                if (!parse_decimal(a, value)) {
                    throw std::runtime_error(origin + ": transform '" + printable(item) + "' has a bad number");
                }
                args.push_back(value);
            }
        }
        Transform t;
        if (name == "identity" && args.empty()) {
            t.kind = Kind::identity;
        } else if (name == "log" && args.size() <= 1) {
            t.kind = Kind::log;
            t.upper = args.empty() ? std::numeric_limits<double>::infinity() : args[0];
        } else if ((name == "logit" || name == "log_logit") && args.size() == 2 && args[1] > args[0] &&
                   (name == "logit" || args[0] > 0)) {
            t.kind = name == "logit" ? Kind::logit : Kind::log_logit;
            t.lower = args[0];
            t.upper = args[1];
        } else {
            throw std::runtime_error(origin + ": unknown or malformed transform '" + printable(item) + "'");
        }
        transforms.push_back(t);
        start = end + 1;
    }
    return TargetTransforms(std::move(transforms));
}

}  // namespace sgnn::train
