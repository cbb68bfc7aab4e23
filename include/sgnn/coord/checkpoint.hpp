// Checkpoints: where they live, what they hold, how a run resumes from one.
//
// A checkpoint is one HDF5 file, <out>/checkpoints/step-<step>.h5, written collectively
// by the coordinator and the trainers through the MPI-IO driver (io/h5_datasets.hpp):
// each rank writes what it owns, every dataset carries a SHA-256 checksum, and the
// file appears under its name only once complete. The layout is documented in
// docs/file-formats.md. Simulator state needs no rank of its own: sample i is a
// function of (seed, i), so where each simulator resumes follows from what the
// trainers consumed (stream/resume.hpp).
#pragma once

#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/stream/batch_source.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sgnn::coord {

// Version 2 adds run_id and attributes_sha256; version 1 files still resume.
constexpr int kCheckpointFormatVersion = 2;

std::string checkpoint_directory(const std::string& out_dir);
std::string checkpoint_path(const std::string& out_dir, std::int64_t step);
// Complete checkpoints in `directory`, oldest first (temporary files are not listed).
std::vector<std::string> list_checkpoints(const std::string& directory);

// A run's identity: 32 hex digits drawn when a run starts fresh and kept across
// resumes, recorded in <out>/run.json and in every checkpoint (root attribute run_id).
// It tells a run's own checkpoints from those of another run in the same directory:
// only its own are rotated, and `--resume DIR` picks only among its own.
std::string new_run_id();
std::string run_record_path(const std::string& out_dir);
std::string run_id_of_directory(const std::string& out_dir);  // "" when there is no run.json
void record_run_id(const std::string& out_dir, const std::string& run_id);
std::string run_id_of_checkpoint(const std::string& path);  // "" for none, or an unreadable file
// The checkpoints of run `run_id` in `directory`, oldest first.
std::vector<std::string> list_checkpoints(const std::string& directory, const std::string& run_id);
// Deletes all of run `run_id`'s checkpoints but the newest `keep`; other runs' stay.
void prune_checkpoints(const std::string& directory, int keep, const std::string& run_id);
// What an earlier run left in `out_dir` that a fresh run would mix its outputs with
// (run.json, summary.json, model.h5, metrics.csv, config.ini, a checkpoint); empty if none.
std::vector<std::string> earlier_run_outputs(const std::string& out_dir);

// The checkpoint `--resume WHAT` names: a file, or a run directory (or its
// checkpoints/ folder), meaning the newest checkpoint of the run recorded there.
// Throws ConfigError if none, or if the checkpoints there are another run's.
std::string resolve_resume_path(const std::string& what);
// The run directory a checkpoint belongs to (where a resumed run writes by default).
std::string run_directory_of(const std::string& checkpoint_file);

// Datasets of one trainer's stream state, under stream/trainer_<t>/. `feeders` are the
// simulator ranks feeding it, in feeder-slot order; their resume points are recorded
// as "every simulator rank's next sample index".
std::vector<io::Dataset> stream_state_datasets(int trainer_index, const stream::StreamState& state,
                                               const std::vector<int>& feeders, const stream::StreamConfig& config,
                                               int trainers);

// Everything a resumed run needs, read (and checksum-verified) on every rank.
struct CheckpointContents {
    std::string path;
    std::map<std::string, std::string> attributes;  // root attributes
    std::int64_t step = 0;
    int trainers = 0;
    std::uint64_t batch_origin = 0;
    std::int64_t origin_step = 0;
    double elapsed_seconds = 0.0;
    std::string config_ini;
    std::string metrics_csv;                   // the coordinator's rows so far, header included
    std::map<std::string, io::Dataset> model;  // "model/..." datasets (parameters, optimizer, normalization)
    std::vector<stream::StreamState> streams;  // per trainer
    // The first global batch no trainer of that run had reached: a run resumed with
    // another trainer count starts its batches here.
    std::uint64_t next_unused_batch() const;
};

// Reads and verifies the whole file. Errors are ConfigError: one line naming the file
// and the problem (truncated, checksum mismatch, wrong format version, ...).
CheckpointContents read_checkpoint(const std::string& path, int batch_size, int n_inputs, int n_targets);

}  // namespace sgnn::coord
