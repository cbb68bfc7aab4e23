// What trainer 0 tells the coordinator: a fixed-size message, sent without waiting.
// Progress reports come a few times a second; evaluation reports after each
// evaluation; one final report after the model is written.
#pragma once

#include <cstdint>

namespace sgnn::coord {

constexpr int kMaxTargets = 16;
constexpr int kMaxClasses = 8;  // mechanisms a mixture can classify

// checkpoint: the trainers are writing a checkpoint after `step` (the coordinator joins
// the collective write); stopped: they stopped after it, on a signal.
enum class ReportKind : std::int32_t { progress = 1, evaluation = 2, final = 3, checkpoint = 4, stopped = 5 };

struct TrainerReport {
    ReportKind kind;
    std::int32_t n_targets;
    std::int32_t n_classes;          // 0 unless the task classifies mechanisms
    std::int32_t request_flags;      // checkpoint and stopped reports: stream::RequestFlags agreed on
    std::int32_t signal;             // the stop signal behind them, or 0
    std::int64_t step;               // steps completed
    double elapsed_seconds;          // since the first step started (trainer 0's clock)
    double samples;                  // samples trained, all trainers
    double train_loss;               // mean normalized MSE since the previous report
    double learning_rate;
    double wait_fraction;            // share of trainer time spent waiting for batches
    double dropped_samples;          // all trainers
    std::uint32_t schedule_version;  // of trainer 0's latest batch
    std::uint32_t max_buffered_batches;
    double eval_loss;                // mean normalized MSE on the held-out set
    double eval_r2[kMaxTargets];
    double eval_rmse[kMaxTargets];
    double eval_accuracy;            // share of held-out samples whose mechanism is predicted right
    double eval_cross_entropy;       // mean, nats
    double eval_confusion[kMaxClasses * kMaxClasses];  // counts; row: true mechanism, column: predicted
    char model_sha256[72];
};

}  // namespace sgnn::coord
