#include "evaluation.hpp"

#include "calibration.hpp"
#include "fixed_sets.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sgnn::train {

HeldOutEvaluation::HeldOutEvaluation(const sim::Task& task, const TrainConfig& config, int trainer_index, int trainers,
                                     const Normalization& norm, torch::Device device)
    : norm_(norm),
      draws_(config.calibration_draws),
      n_targets_(task.layout().n_targets()),
      n_classes_(task.layout().n_classes()),
      class_weight_(config.class_weight) {
    const auto total = static_cast<std::uint64_t>(config.eval_samples);
    const std::uint64_t lo = total * static_cast<std::uint64_t>(trainer_index) / static_cast<std::uint64_t>(trainers);
    const std::uint64_t hi =
        total * static_cast<std::uint64_t>(trainer_index + 1) / static_cast<std::uint64_t>(trainers);
    std::vector<float> inputs, targets, labels;
    generate_fixed_set(task, config.seed, sim::Purpose::eval, lo, static_cast<int>(hi - lo), 1, inputs, targets,
                       labels);
    seed_ = config.seed * 1000003u + lo;
    const auto rows = static_cast<std::int64_t>(labels.size());
    inputs_ = norm.standardize_inputs(inputs.data(), rows, task.layout().n_inputs, device).clone();
    if (norm.transforms.size() > 0) standardized_targets_ = norm.standardize_targets(targets.data(), rows, device);
    targets_ = torch::from_blob(targets.data(), {rows, n_targets_}, torch::kFloat).to(torch::kDouble).clone();
    labels_ = torch::from_blob(labels.data(), {rows}, torch::kFloat).to(torch::kLong).clone();
}

std::size_t HeldOutEvaluation::size() const {
    return 1 + 4 * static_cast<std::size_t>(n_targets_) + 1 +
           static_cast<std::size_t>(n_classes_) * static_cast<std::size_t>(n_classes_) + 1 +
           static_cast<std::size_t>(n_targets_) * calibration::kBins;
}

// [n, count, sse, sum_y, sum_yy (n_targets each), cross-entropy, confusion (n_classes^2),
//  negative log-density, PIT histogram (n_targets x kBins; density heads)]
std::vector<double> HeldOutEvaluation::local_sums(Learner& learner) const {
    const int n_t = n_targets_, n_c = n_classes_;
    const torch::Tensor mean = torch::tensor(norm_.target_mean).to(torch::kDouble);
    const torch::Tensor std = torch::tensor(norm_.target_std).to(torch::kDouble);
    const auto zeros = [](std::int64_t n) { return torch::zeros({n}, torch::kDouble); };
    // Per target, over the samples that have it: count, squared error, sum, sum of squares.
    torch::Tensor count = zeros(n_t), sse = zeros(n_t), sum_y = zeros(n_t), sum_yy = zeros(n_t);
    double cross_entropy = 0.0;
    torch::Tensor confusion = zeros(static_cast<std::int64_t>(n_c) * n_c);  // row: true class, column: predicted
    double negative_log_density = 0.0;
    torch::Tensor pit_counts = torch::zeros({n_t, calibration::kBins}, torch::kDouble);
    const bool density = learner.has_density();
    // The draws of every evaluation come from the same stream: metrics move only with the model.
    at::Generator generator = at::detail::createCPUGenerator(seed_);
    const std::int64_t rows = inputs_.size(0);
    const std::int64_t chunk = density ? std::max<std::int64_t>(1, 65536 / draws_) : 1024;
    for (std::int64_t lo = 0; lo < rows; lo += chunk) {
        const std::int64_t hi = std::min(rows, lo + chunk);
        const torch::Tensor inputs = inputs_.slice(0, lo, hi);
        const torch::Tensor outputs = learner.predict(inputs).to(torch::kCPU, torch::kDouble);
        const torch::Tensor y = targets_.slice(0, lo, hi);
        const torch::Tensor present = torch::isfinite(y);
        const torch::Tensor weight = present.to(torch::kDouble);
        const torch::Tensor clean = torch::where(present, y, torch::zeros_like(y));
        torch::Tensor predicted;
        if (density) {
            const torch::Tensor u = learner.sample(inputs, draws_, generator);
            predicted = norm_.targets_from_standardized(u).view({hi - lo, draws_, n_t}).mean(1);
            // Ranks among the draws, in the head's own (increasing) scale.
            const torch::Tensor truths = standardized_targets_.slice(0, lo, hi).to(torch::kCPU);
            pit_counts += calibration::histogram(
                calibration::pit(u.to(torch::kCPU).view({hi - lo, draws_, n_t}), truths, generator));
            negative_log_density -= learner.log_prob(inputs, standardized_targets_.slice(0, lo, hi))
                                        .to(torch::kDouble)
                                        .sum()
                                        .item<double>();
        } else {
            predicted = outputs.slice(1, 0, n_t) * std + mean;
        }
        count += weight.sum(0);
        sse += ((predicted - clean).pow(2) * weight).sum(0);
        sum_y += clean.sum(0);
        sum_yy += clean.pow(2).sum(0);
        if (n_c > 0) {
            const std::int64_t first = density ? 0 : n_t;
            const torch::Tensor logits = outputs.slice(1, first, first + n_c);
            const torch::Tensor labels = labels_.slice(0, lo, hi);
            cross_entropy +=
                torch::nn::functional::cross_entropy(
                    logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
            const torch::Tensor cell = labels * n_c + logits.argmax(1);
            confusion += torch::bincount(cell, {}, static_cast<std::int64_t>(n_c) * n_c).to(torch::kDouble);
        }
    }
    std::vector<double> sums;
    sums.reserve(size());
    sums.push_back(static_cast<double>(rows));
    for (const torch::Tensor* t : {&count, &sse, &sum_y, &sum_yy}) {
        for (int j = 0; j < n_t; ++j) sums.push_back((*t)[j].item<double>());
    }
    sums.push_back(cross_entropy);
    for (std::int64_t k = 0; k < confusion.numel(); ++k) sums.push_back(confusion[k].item<double>());
    sums.push_back(negative_log_density);
    const torch::Tensor counts = pit_counts.flatten().contiguous();
    sums.insert(sums.end(), counts.data_ptr<double>(), counts.data_ptr<double>() + counts.numel());
    return sums;
}

void HeldOutEvaluation::fill_report(const std::vector<double>& totals, comm::TrainerReport& report) const {
    const int n_t = n_targets_, n_c = n_classes_;
    const double n = totals[0];
    const auto total = [&](int block, int j) { return totals[1 + static_cast<std::size_t>(block * n_t + j)]; };
    double eval_loss = 0.0;
    const std::size_t pit_at = size() - static_cast<std::size_t>(n_t) * calibration::kBins;
    const double negative_log_density = totals[pit_at - 1];
    const bool density = norm_.transforms.size() > 0;
    for (int j = 0; j < n_t; ++j) {
        const double m = total(0, j), e = total(1, j), sy = total(2, j), syy = total(3, j);
        const double sst = syy - sy * sy / m;
        report.eval_r2[j] = sst > 0 ? 1.0 - e / sst : std::numeric_limits<double>::quiet_NaN();
        report.eval_rmse[j] = std::sqrt(e / m);
        const double s = norm_.target_std[static_cast<std::size_t>(j)];
        if (!density) eval_loss += e / (n * s * s) / n_t;  // as the training loss: masked entries count as 0
    }
    if (density) {
        eval_loss = negative_log_density / n;  // as the training loss, in the head's space
        report.calibrated = 1;
        report.calibration_draws = draws_;
        for (int j = 0; j < n_t; ++j) {
            const double* counts = totals.data() + pit_at + static_cast<std::size_t>(j) * calibration::kBins;
            const calibration::Summary summary = calibration::summarize(counts);
            for (int l = 0; l < comm::kCoverageLevels; ++l) {
                report.eval_coverage[j * comm::kCoverageLevels + l] = summary.coverage[static_cast<std::size_t>(l)];
            }
            report.eval_sbc_p[j] = summary.p_value;
            std::copy(counts, counts + calibration::kBins, report.eval_pit_histogram + j * calibration::kBins);
        }
    }
    const std::size_t tail = 1 + 4 * static_cast<std::size_t>(n_t);
    if (n_c > 0) {
        report.eval_cross_entropy = totals[tail] / n;
        double correct = 0.0;
        for (int k = 0; k < n_c * n_c; ++k) {
            report.eval_confusion[k] = totals[tail + 1 + static_cast<std::size_t>(k)];
            if (k / n_c == k % n_c) correct += report.eval_confusion[k];
        }
        report.eval_accuracy = correct / n;
        eval_loss += class_weight_ * report.eval_cross_entropy;
    }
    report.eval_loss = eval_loss;
}

}  // namespace sgnn::train
