#include "model_export.hpp"

#include "sgnn/io/model_file.hpp"
#include "sgnn/text.hpp"

namespace sgnn::train {

void export_model(const std::string& path, const Learner& learner, const Normalization& norm,
                  const sim::SampleLayout& layout, const TrainConfig& config, std::int64_t steps,
                  const std::string& sha256) {
    io::ModelFile file;
    file.parameters = learner.parameter_arrays();
    file.normalization = norm.model_file_arrays();
    file.attributes = {
        {"format", "sgnn-model"},
        {"model", config.model.type},
        {"hidden", std::to_string(config.model.hidden)},
        {"blocks", std::to_string(config.model.blocks)},
        {"channels", std::to_string(config.model.channels)},
        {"kernel", std::to_string(config.model.kernel)},
        {"head", config.model.head},
        {"flow_transforms", std::to_string(config.model.flow_transforms)},
        {"flow_hidden", std::to_string(config.model.flow_hidden)},
        {"flow_bins", std::to_string(config.model.flow_bins)},
        {"components", std::to_string(config.model.components)},
        {"target_transforms", norm.transforms.describe()},
        {"n_inputs", std::to_string(layout.n_inputs)},
        {"input_channels", std::to_string(layout.n_channels)},
        {"targets", join_list(layout.target_names)},
        {"classes", join_list(layout.class_names)},  // the logits after the targets, in this order
        {"steps", std::to_string(steps)},
        {"seed", std::to_string(config.seed)},
        {"sha256", sha256},
        {"prediction",
         config.model.head == "mean"
             ? "target = output * normalization/target_std + normalization/target_mean for the first "
               "len(targets) outputs; the rest are logits of the classes (softmax: P(mechanism | data)); "
               "input = (x - input_mean) / input_std, x the observed series after obs.transform "
               "(log1p by default), channels one after the other"
             : "the density head (parameters density.*) gives p(u | embedding), u the standardized transformed "
               "targets: target = T^-1(u * normalization/target_std + normalization/target_mean), T per target "
               "from target_transforms; outputs of head.* are logits of the classes; input = (x - input_mean) / "
               "input_std, x the observed series after obs.transform (docs/file-formats.md)"},
    };
    io::write_model_file(path, file);
}

}  // namespace sgnn::train
