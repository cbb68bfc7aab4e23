// Where checkpoints live and which run they belong to: their paths, listing and
// rotation, the run identity, and which checkpoint `--resume` means. What a
// checkpoint holds is checkpoint/schema.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::checkpoint {

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

}  // namespace sgnn::checkpoint
