// What a checkpoint holds: every dataset path and root attribute, for writing and for
// reading, in this one file (docs/file-formats.md documents the same table).
//
// A checkpoint is one HDF5 file, <out>/checkpoints/step-<step>.h5 (checkpoint/files.hpp),
// written collectively by the coordinator and the trainers through the MPI-IO driver
// (checkpoint/writer.hpp, io/h5_datasets.hpp): each rank writes what it owns, every
// dataset carries a SHA-256 checksum, and the file appears under its name only once
// complete. It is the union of the parts of a run that have state; each part gives its
// datasets (state) and takes them back (restore), as PyTorch's state_dict does:
//
//   part                 owner          datasets                                       state / restore
//   run record           coordinator    config, coordinator/metrics_csv, schedule/*    coord/coordinator.cpp
//   network, optimizer   trainer 0      model/parameters/, model/optimizer/            train/learner.hpp
//   normalization        trainer 0      model/normalization/                           train/normalization.hpp
//   training clock       trainer 0      train/*                                        train/trainer.cpp
//   stream position      every trainer  stream/trainer_<t>/                            stream_state() here
//
// Simulator state needs no part of its own: sample i is a function of (seed, i), so
// where each simulator resumes follows from what the trainers consumed
// (stream/resume.hpp).
#pragma once

#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/stream/batch_source.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sgnn::checkpoint {

// Version 2 adds run_id and attributes_sha256; version 1 files still resume.
constexpr int kFormatVersion = 2;
constexpr const char* kFormatName = "sgnn-checkpoint";  // the root attribute `format`

namespace schema {

// Root attributes, written by the coordinator. Every version has these...
inline constexpr std::array<const char*, 12> kRequiredAttributes = {
    "format",     "format_version", "step", "trainers",      "batch_origin", "origin_step",
    "batch_size", "config_sha256",  "seed", "deterministic", "sgnn_version", "created"};
// ... and version 2 also these.
constexpr const char* kRunIdAttribute = "run_id";

}  // namespace schema

// What the root attributes record, as the coordinator knows it.
struct RootAttributes {
    std::string run_id;
    std::int64_t step = 0;
    int trainers = 0;
    int simulators = 0;
    std::uint64_t seed = 0;
    bool deterministic = false;
    int batch_size = 0;
    std::uint64_t batch_origin = 0;
    std::int64_t origin_step = 0;
    std::string config_ini;  // its SHA-256 is recorded
    std::string sgnn_version;
};
// The root attributes of a checkpoint (format, version, the fields, the time now, and
// how the random streams resume).
std::map<std::string, std::string> root_attributes(const RootAttributes& record);

namespace schema {

// The run record (coordinator).
constexpr const char* kConfig = "config";
constexpr const char* kMetricsCsv = "coordinator/metrics_csv";
constexpr const char* kScheduleStages = "schedule/stages";
constexpr const char* kPublishedVersion = "schedule/published_version";

// Network and optimizer (trainer 0); `name` as in named_parameters().
constexpr const char* kModelGroup = "model/";  // every dataset a resumed trainer's model parts read
std::string parameter(const std::string& name);
// `field`: exp_avg, exp_avg_sq or step.
std::string optimizer_state(const std::string& name, const std::string& field);
// `field`: input_mean, input_std, target_mean or target_std.
std::string normalization(const std::string& field);

// The training clock (trainer 0).
constexpr const char* kStep = "train/step";
constexpr const char* kElapsedSeconds = "train/elapsed_seconds";
constexpr const char* kLearningRate = "train/learning_rate";
constexpr const char* kLearningRateSchedule = "train/lr_schedule";

// Trainer t's stream position: stream/trainer_<t>/{watermark, consumed_above, stats,
// feeders} and buffered/batch_<global index>/{header, indices, inputs, targets, labels}.
std::string stream_group(int trainer_index);

}  // namespace schema

// The stream-position part: trainer `trainer_index`'s datasets. `feeders` are the
// simulator ranks feeding it, in feeder-slot order; their resume points are recorded
// as "every simulator rank's next sample index".
std::vector<io::Dataset> stream_state(int trainer_index, const stream::StreamState& state,
                                      const std::vector<int>& feeders, const stream::StreamConfig& config,
                                      int trainers);

// Everything a resumed run needs, read (and checksum-verified) on every rank.
struct Contents {
    std::string path;
    std::map<std::string, std::string> attributes;  // root attributes
    std::int64_t step = 0;
    int trainers = 0;
    std::uint64_t batch_origin = 0;
    std::int64_t origin_step = 0;
    double elapsed_seconds = 0.0;
    std::string config_ini;
    std::string metrics_csv;                   // the coordinator's rows so far, header included
    std::map<std::string, io::Dataset> model;  // every dataset under schema::kModelGroup
    std::vector<stream::StreamState> streams;  // per trainer
    // The first global batch no trainer of that run had reached: a run resumed with
    // another trainer count starts its batches here.
    std::uint64_t next_unused_batch() const;
    // The model dataset `name`; throws ConfigError naming this file when it is missing.
    const io::Dataset& model_dataset(const std::string& name) const;
};

// Reads and verifies the whole file. Errors are ConfigError: one line naming the file
// and the problem (truncated, checksum mismatch, wrong format version, ...).
Contents read(const std::string& path, int batch_size, int n_inputs, int n_targets);

}  // namespace sgnn::checkpoint
