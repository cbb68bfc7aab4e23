#include "sgnn/train/predictor.hpp"

#include "models.hpp"
#include "normalization.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/text.hpp"
#include "target_transforms.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <map>
#include <stdexcept>

namespace sgnn::train {
struct Predictor::Impl {
    std::shared_ptr<Network> network;
    int n_inputs = 0;
    std::vector<std::string> targets, classes;
    Normalization norm;  // with the targets' transforms of a density head
    std::string path, head = "mean";

    void require_density() const {
        if (!network->density()) {
            throw std::runtime_error(path +
                                     " was trained with model.head = mean: it gives posterior means only, no draws or "
                                     "densities; train it again with model.head = flow or mixture");
        }
    }
    // Draws whose targets lie inside the support; a draw outside (possible only in the
    // far tails of a log transform) is drawn again.
    torch::Tensor draw(const torch::Tensor& embedding, std::int64_t n, at::Generator& generator) const {
        const auto n_t = static_cast<std::int64_t>(targets.size());
        torch::Tensor x = norm.targets_from_standardized(network->density()->sample(embedding, n, generator));
        for (int round = 0; round < 100; ++round) {
            const torch::Tensor outside = (~norm.transforms.inside(x)).nonzero().squeeze(1);
            if (outside.numel() == 0) return x;
            const torch::Tensor rows = outside.div(n, "floor");
            const torch::Tensor again = norm.targets_from_standardized(
                network->density()->sample(embedding.index_select(0, rows), 1, generator));
            x.index_copy_(0, outside, again.view({-1, n_t}));
        }
        throw std::runtime_error(path + ": posterior draws keep falling outside the priors' support");
    }

    torch::Tensor standardized(const float* inputs, std::int64_t rows) const {
        return norm.standardize_inputs(inputs, rows, n_inputs, torch::kCPU);
    }
};

Predictor::Predictor(const std::string& model_path) : impl_(std::make_unique<Impl>()) {
    const io::ModelFile file = io::read_model_file(model_path);
    const auto attribute = [&](const std::string& name) {
        const auto it = file.attributes.find(name);
        if (it == file.attributes.end()) throw std::runtime_error(model_path + ": not an sgnn model (no " + name + ")");
        return it->second;
    };
    // The same ranges as the model.* options: a file cannot make the network huge.
    const auto whole = [&](const std::string& name, double min, double max) {
        return static_cast<int>(parse_whole_number(attribute(name), model_path + ": attribute " + name, min, max));
    };
    ModelConfig config;
    config.type = attribute("model");
    if (config.type != "mlp" && config.type != "cnn") {
        throw std::runtime_error(model_path + ": attribute model = '" + printable(config.type) + "' is not mlp or cnn");
    }
    config.hidden = whole("hidden", 1, 65536);
    config.blocks = whole("blocks", 0, 64);
    config.channels = whole("channels", 1, 4096);
    config.kernel = whole("kernel", 1, 63);
    config.input_channels = whole("input_channels", 1, 1024);
    impl_->n_inputs = whole("n_inputs", 1, 1 << 24);
    impl_->targets = split_list(attribute("targets"));
    impl_->classes = split_list(attribute("classes"));
    impl_->path = model_path;
    // Files written before density heads have no head attribute: they are mean heads.
    const auto optional = [&](const std::string& name, const std::string& fallback) {
        const auto it = file.attributes.find(name);
        return it == file.attributes.end() ? fallback : it->second;
    };
    impl_->head = optional("head", "mean");
    config.head = impl_->head;
    const bool density = impl_->head != "mean";
    TargetTransforms transforms;
    if (density) {
        if (impl_->head != "flow" && impl_->head != "mixture") {
            throw std::runtime_error(model_path + ": attribute head = '" + printable(impl_->head) +
                                     "' is not mean, flow or mixture");
        }
        config.flow_transforms = whole("flow_transforms", 1, 32);
        config.flow_hidden = whole("flow_hidden", 2, 4096);
        config.flow_bins = whole("flow_bins", 2, 64);
        config.components = whole("components", 1, 64);
        transforms = TargetTransforms::parse(attribute("target_transforms"), model_path + ": target_transforms");
        if (transforms.size() != impl_->targets.size() || impl_->targets.empty()) {
            throw std::runtime_error(model_path + ": target_transforms does not list one transform per target");
        }
    }
    const int n_t = static_cast<int>(impl_->targets.size()), n_c = static_cast<int>(impl_->classes.size());
    impl_->network = make_network(config, impl_->n_inputs, density ? n_c : n_t + n_c, density ? n_t : 0);
    std::map<std::string, const io::NamedArray*> stored;
    for (const io::NamedArray& array : file.parameters) stored[array.name] = &array;
    torch::NoGradGuard no_grad;
    for (auto& item : impl_->network->named_parameters()) {
        const auto it = stored.find(item.key());
        if (it == stored.end() ||
            it->second->shape != std::vector<std::uint64_t>(item.value().sizes().begin(), item.value().sizes().end())) {
            throw std::runtime_error(model_path + ": parameter " + item.key() + " is missing or has another shape");
        }
        item.value().copy_(
            torch::from_blob(const_cast<float*>(it->second->values.data()), item.value().sizes(), torch::kFloat));
    }
    impl_->network->eval();
    impl_->norm =
        Normalization::from_model_file(file.normalization, impl_->targets.size(), std::move(transforms), model_path);
}

Predictor::~Predictor() = default;

int Predictor::n_inputs() const { return impl_->n_inputs; }
const std::vector<std::string>& Predictor::target_names() const { return impl_->targets; }
const std::vector<std::string>& Predictor::class_names() const { return impl_->classes; }

const std::string& Predictor::head() const { return impl_->head; }
bool Predictor::has_density() const { return impl_->network->density() != nullptr; }

std::vector<double> Predictor::predict(const float* inputs, std::int64_t rows) const {
    torch::NoGradGuard no_grad;
    const auto n_t = static_cast<std::int64_t>(impl_->targets.size());
    const auto n_c = static_cast<std::int64_t>(impl_->classes.size());
    if (has_density()) {
        const torch::Tensor embedding = impl_->network->embed(impl_->standardized(inputs, rows));
        const torch::Tensor logits = impl_->network->outputs(embedding).to(torch::kDouble);
        at::Generator generator = at::detail::createCPUGenerator(0);
        const torch::Tensor means = impl_->draw(embedding, kMeanDraws, generator).view({rows, kMeanDraws, n_t}).mean(1);
        const torch::Tensor result = torch::cat({means, torch::softmax(logits, 1)}, 1).contiguous();
        return std::vector<double>(result.data_ptr<double>(), result.data_ptr<double>() + result.numel());
    }
    const torch::Tensor outputs = impl_->network->forward(impl_->standardized(inputs, rows)).to(torch::kDouble);
    torch::Tensor result = outputs.clone();
    if (n_t > 0) result.slice(1, 0, n_t).copy_(impl_->norm.targets_from_standardized(outputs.slice(1, 0, n_t)));
    if (n_c > 0) result.slice(1, n_t, n_t + n_c).copy_(torch::softmax(outputs.slice(1, n_t, n_t + n_c), 1));
    result = result.contiguous();
    return std::vector<double>(result.data_ptr<double>(), result.data_ptr<double>() + result.numel());
}

std::vector<double> Predictor::sample(const float* inputs, std::int64_t rows, std::int64_t n,
                                      std::uint64_t seed) const {
    impl_->require_density();
    torch::NoGradGuard no_grad;
    at::Generator generator = at::detail::createCPUGenerator(seed);
    const torch::Tensor embedding = impl_->network->embed(impl_->standardized(inputs, rows));
    const torch::Tensor x = impl_->draw(embedding, n, generator).contiguous();
    return std::vector<double>(x.data_ptr<double>(), x.data_ptr<double>() + x.numel());
}

std::vector<double> Predictor::log_density(const float* inputs, const double* targets, std::int64_t rows) const {
    impl_->require_density();
    torch::NoGradGuard no_grad;
    const auto n_t = static_cast<std::int64_t>(impl_->targets.size());
    const torch::Tensor x = torch::from_blob(const_cast<double*>(targets), {rows, n_t}, torch::kDouble);
    const torch::Tensor u = impl_->norm.standardize_targets(x, torch::kCPU).to(torch::kFloat);
    const torch::Tensor embedding = impl_->network->embed(impl_->standardized(inputs, rows));
    torch::Tensor result =
        impl_->network->density()->log_prob(u, embedding).to(torch::kDouble) + impl_->norm.log_abs_det_jacobian(x);
    // Outside the support the density is 0.
    result = torch::where(impl_->norm.transforms.inside(x), result, torch::full_like(result, -INFINITY)).contiguous();
    return std::vector<double>(result.data_ptr<double>(), result.data_ptr<double>() + result.numel());
}

std::vector<float> Predictor::embed(const float* inputs, std::int64_t rows) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor e = impl_->network->embed(impl_->standardized(inputs, rows)).contiguous();
    return std::vector<float>(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
}

}  // namespace sgnn::train
