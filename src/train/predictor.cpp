#include "sgnn/train/predictor.hpp"

#include "models.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/text.hpp"

#include <map>
#include <stdexcept>

namespace sgnn::train {
struct Predictor::Impl {
    std::shared_ptr<Network> network;
    int n_inputs = 0;
    std::vector<std::string> targets, classes;
    float input_mean = 0.0f, input_std = 1.0f;
    std::vector<float> target_mean, target_std;

    torch::Tensor standardized(const float* inputs, std::int64_t rows) const {
        const torch::Tensor x = torch::from_blob(const_cast<float*>(inputs), {rows, n_inputs}, torch::kFloat);
        return (x - input_mean) / input_std;
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
    const int outputs = static_cast<int>(impl_->targets.size() + impl_->classes.size());
    impl_->network = make_network(config, impl_->n_inputs, outputs);
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
    bool input_mean = false, input_std = false;
    for (const io::NamedArray& array : file.normalization) {
        if (array.name == "input_mean" && array.values.size() == 1)
            impl_->input_mean = array.values[0], input_mean = true;
        if (array.name == "input_std" && array.values.size() == 1) impl_->input_std = array.values[0], input_std = true;
        if (array.name == "target_mean") impl_->target_mean = array.values;
        if (array.name == "target_std") impl_->target_std = array.values;
    }
    if (!input_mean || !input_std || impl_->target_mean.size() != impl_->targets.size() ||
        impl_->target_std.size() != impl_->targets.size()) {
        throw std::runtime_error(model_path + ": normalization does not match the targets");
    }
}

Predictor::~Predictor() = default;

int Predictor::n_inputs() const { return impl_->n_inputs; }
const std::vector<std::string>& Predictor::target_names() const { return impl_->targets; }
const std::vector<std::string>& Predictor::class_names() const { return impl_->classes; }

std::vector<double> Predictor::predict(const float* inputs, std::int64_t rows) const {
    torch::NoGradGuard no_grad;
    const auto n_t = static_cast<std::int64_t>(impl_->targets.size());
    const auto n_c = static_cast<std::int64_t>(impl_->classes.size());
    const torch::Tensor outputs = impl_->network->forward(impl_->standardized(inputs, rows)).to(torch::kDouble);
    torch::Tensor result = outputs.clone();
    if (n_t > 0) {
        const torch::Tensor mean = torch::tensor(impl_->target_mean).to(torch::kDouble);
        const torch::Tensor sd = torch::tensor(impl_->target_std).to(torch::kDouble);
        result.slice(1, 0, n_t).copy_(outputs.slice(1, 0, n_t) * sd + mean);
    }
    if (n_c > 0) result.slice(1, n_t, n_t + n_c).copy_(torch::softmax(outputs.slice(1, n_t, n_t + n_c), 1));
    result = result.contiguous();
    return std::vector<double>(result.data_ptr<double>(), result.data_ptr<double>() + result.numel());
}

std::vector<float> Predictor::embed(const float* inputs, std::int64_t rows) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor e = impl_->network->embed(impl_->standardized(inputs, rows)).contiguous();
    return std::vector<float>(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
}

}  // namespace sgnn::train
