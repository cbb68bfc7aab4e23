// Every message sgnn's ranks exchange, with the tag that carries it and the size check
// that keeps it a wire format. Messages are fixed-size structs sent as MPI_BYTE, so a
// receive can be posted before anything about the message is known; what travels is
// defined here and nowhere else (how it travels is comm/mpi.hpp and the roles).
//
//   tag                    from -> to                     communicator  message
//   kTagBatch              simulator -> trainer            data          BatchHeader + payload (stream/batch.hpp)
//   kTagLaneStop           trainer -> simulator            data          LaneStop
//   kTagScheduleStage      coordinator -> simulator        control       ScheduleStage
//   kTagReport             trainer 0 -> coordinator        control       TrainerReport
//   kTagCheckpointRequest  coordinator -> trainers         control       CheckpointRequest
//   kTagStopSignal         any rank -> coordinator         control       std::int32_t (the signal)
//
// Batches and lane stops travel on the data communicator; schedule stages, reports and
// requests on the control communicator, so neither can be mistaken for the other.
#pragma once

#include <array>
#include <cstdint>

namespace sgnn::comm {

enum Tag : int {
    kTagBatch = 1,
    kTagLaneStop = 2,
    kTagScheduleStage = 3,
    kTagReport = 4,
    kTagCheckpointRequest = 5,
    kTagStopSignal = 6,
};

// The head of a batch message (stream/batch.hpp lays out the payload behind it).
struct BatchHeader {
    std::uint64_t batch_index;
    std::uint32_t schedule_version;
    std::uint32_t sample_count;
    std::uint32_t dropped_count;
    std::uint32_t flags;     // BatchFlags
    std::uint64_t checksum;  // FNV-1a of the payload; catches corrupt or mismatched messages
};
static_assert(sizeof(BatchHeader) == 32, "the batch header is part of the wire format");

enum BatchFlags : std::uint32_t { kEndOfStream = 1u };

// "Send no more": a trainer that has all its batches tells each feeder.
struct LaneStop {
    std::int32_t trainer_index;
    std::int32_t padding;
};
static_assert(sizeof(LaneStop) == 8, "a lane stop is part of the wire format");

// A prior-schedule stage: batches first_batch .. valid_until-1 use `width`. The
// coordinator promises that no other stage applies to those batches, so a simulator
// may simulate a batch only once some published stage covers it.
struct ScheduleStage {
    std::uint64_t first_batch;
    std::uint64_t valid_until;
    double width;
    std::uint32_t version;
    std::uint32_t padding;
};
static_assert(sizeof(ScheduleStage) == 32, "a schedule stage is part of the wire format");

// What the coordinator asks of the trainers; they agree on the step that honours it.
enum RequestFlags : std::int32_t { kRequestCheckpoint = 1, kRequestStop = 2 };

struct CheckpointRequest {
    std::int32_t flags;   // RequestFlags
    std::int32_t signal;  // the signal behind a stop, or 0
    std::int32_t id;      // increasing; trainers serve each request once
    std::int32_t padding;
};
static_assert(sizeof(CheckpointRequest) == 16, "a checkpoint request is part of the wire format");

// What trainer 0 tells the coordinator: a fixed-size message, sent without waiting.
// Progress reports come a few times a second; evaluation reports after each
// evaluation; one final report after the model is written.
constexpr int kMaxTargets = 16;
constexpr int kMaxClasses = 8;  // mechanisms a mixture can classify
// Simulation-based calibration of density heads (train/calibration.hpp): central
// credible intervals at 50, 80, 90 and 95%, and histograms of the truths' randomized
// ranks (PIT) in equal bins, 40 so that those levels fall on bin edges. A target whose
// ranks fail the uniformity test at kCalibrationSignificance is reported miscalibrated.
inline constexpr std::array<double, 4> kCredibleLevels{0.5, 0.8, 0.9, 0.95};
constexpr int kCoverageLevels = static_cast<int>(kCredibleLevels.size());
constexpr int kPitBins = 40;
inline constexpr double kCalibrationSignificance = 0.01;

// checkpoint: the trainers are writing a checkpoint after `step` (the coordinator joins
// the collective write); stopped: they stopped after it, on a signal.
enum class ReportKind : std::int32_t { progress = 1, evaluation = 2, final = 3, checkpoint = 4, stopped = 5 };

struct TrainerReport {
    ReportKind kind;
    std::int32_t n_targets;
    std::int32_t n_classes;      // 0 unless the task classifies mechanisms
    std::int32_t request_flags;  // checkpoint and stopped reports: RequestFlags agreed on
    std::int32_t signal;         // the stop signal behind them, or 0
    std::int64_t step;           // steps completed
    double elapsed_seconds;      // since the first step started (trainer 0's clock)
    double samples;              // samples trained, all trainers
    double train_loss;           // mean loss since the previous report (normalized MSE, or for a
                                 // density head the negative log-density of the standardized targets)
    double learning_rate;
    double wait_fraction;            // share of trainer time spent waiting for batches
    double dropped_samples;          // all trainers
    std::uint32_t schedule_version;  // of trainer 0's latest batch
    std::uint32_t max_buffered_batches;
    double eval_loss;  // the same loss, mean over the held-out set
    double eval_r2[kMaxTargets];
    double eval_rmse[kMaxTargets];
    double eval_accuracy;                              // share of held-out samples whose mechanism is predicted right
    double eval_cross_entropy;                         // mean, nats
    double eval_confusion[kMaxClasses * kMaxClasses];  // counts; row: true mechanism, column: predicted
    // Density heads (calibrated = 1): simulation-based calibration on the held-out set.
    std::int32_t calibrated;
    std::int32_t calibration_draws;                       // posterior draws per held-out sample
    double eval_coverage[kMaxTargets * kCoverageLevels];  // per target, at 50, 80, 90, 95%
    double eval_sbc_p[kMaxTargets];                       // p-value of the uniformity test of each target's PIT
    double eval_pit_histogram[kMaxTargets * kPitBins];    // counts per target and bin
    char model_sha256[72];
};
static_assert(sizeof(TrainerReport) == 952 + 8 + 8 * (kMaxTargets * (kCoverageLevels + 1 + kPitBins)),
              "a trainer report is part of the wire format");

}  // namespace sgnn::comm
