#include "sgnn/checkpoint/files.hpp"

#include "sgnn/error.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace sgnn::checkpoint {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "step-";
constexpr const char* kSuffix = ".h5";

// The step of "step-00001234.h5", or -1 for any other name.
long long step_of(const std::string& filename) {
    const std::string prefix = kPrefix, suffix = kSuffix;
    if (filename.size() <= prefix.size() + suffix.size() || filename.rfind(prefix, 0) != 0 ||
        filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return -1;
    }
    const std::string digits = filename.substr(prefix.size(), filename.size() - prefix.size() - suffix.size());
    if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(digits);
}

}  // namespace

std::string checkpoint_directory(const std::string& out_dir) { return out_dir + "/checkpoints"; }

std::string checkpoint_path(const std::string& out_dir, std::int64_t step) {
    char name[64];
    std::snprintf(name, sizeof name, "%s%08lld%s", kPrefix, static_cast<long long>(step), kSuffix);
    return checkpoint_directory(out_dir) + "/" + name;
}

std::vector<std::string> list_checkpoints(const std::string& directory) {
    std::vector<std::pair<long long, std::string>> found;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
        const long long step = step_of(entry.path().filename().string());
        if (step >= 0 && entry.is_regular_file()) found.emplace_back(step, entry.path().string());
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> paths;
    paths.reserve(found.size());
    for (auto& [step, path] : found) paths.push_back(std::move(path));
    return paths;
}

std::vector<std::string> list_checkpoints(const std::string& directory, const std::string& run_id) {
    std::vector<std::string> own;
    for (std::string& path : list_checkpoints(directory)) {
        if (run_id_of_checkpoint(path) == run_id) own.push_back(std::move(path));
    }
    return own;
}

void prune_checkpoints(const std::string& directory, int keep, const std::string& run_id) {
    const std::vector<std::string> own = list_checkpoints(directory, run_id);
    for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < own.size(); ++i) std::remove(own[i].c_str());
}

std::string new_run_id() {
    std::random_device entropy;
    char text[33];
    std::snprintf(text, sizeof text, "%08x%08x%08x%08x", entropy(), entropy(), entropy(), entropy());
    return text;
}

std::string run_record_path(const std::string& out_dir) { return out_dir + "/run.json"; }

std::string run_id_of_directory(const std::string& out_dir) {
    std::ifstream in(run_record_path(out_dir));
    if (!in) return "";
    try {
        const io::Json record = io::Json::parse(in);
        return record.at("run_id").get<std::string>();
    } catch (const std::exception&) {
        throw ConfigError(run_record_path(out_dir) +
                          ": not a run record (sgnn writes it when a run starts); "
                          "choose another --out, or remove the file if the directory holds no run");
    }
}

void record_run_id(const std::string& out_dir, const std::string& run_id) {
    io::write_json_file(run_record_path(out_dir),
                        {{"run_id", run_id},
                         {"about",
                          "the identity of the training run in this directory; its checkpoints carry the "
                          "same run_id, and sgnn rotates and resumes only those"}});
}

std::string run_id_of_checkpoint(const std::string& path) {
    try {
        const io::DatasetReader reader(path);
        return reader.has_attribute("run_id") ? reader.attribute("run_id") : "";
    } catch (const std::exception&) {
        return "";  // damaged or foreign: never this run's
    }
}

std::vector<std::string> earlier_run_outputs(const std::string& out_dir) {
    std::vector<std::string> found;
    std::error_code error;
    for (const char* name : {"run.json", "summary.json", "model.h5", "metrics.csv", "config.ini"}) {
        if (fs::exists(fs::symlink_status(out_dir + "/" + name, error))) found.push_back(name);
    }
    const std::vector<std::string> checkpoints = list_checkpoints(checkpoint_directory(out_dir));
    if (!checkpoints.empty()) found.push_back("checkpoints/" + fs::path(checkpoints.back()).filename().string());
    return found;
}

std::string resolve_resume_path(const std::string& what) {
    std::error_code error;
    if (fs::is_regular_file(what, error)) return what;
    if (!fs::is_directory(what, error)) {
        throw ConfigError("--resume " + what +
                          ": no such file or directory (give a checkpoint file or a run directory)");
    }
    // A run directory: its own run's newest checkpoint (a directory without run.json,
    // from an older sgnn, or a bare folder of checkpoints: the newest of all).
    const std::string run_id = run_id_of_directory(what);
    for (const std::string& directory : {checkpoint_directory(what), what}) {
        const std::vector<std::string> all = list_checkpoints(directory);
        if (all.empty()) continue;
        if (run_id.empty()) return all.back();
        const std::vector<std::string> own = list_checkpoints(directory, run_id);
        if (!own.empty()) return own.back();
        throw ConfigError("--resume " + what + ": the checkpoints in " + directory + " (newest " +
                          fs::path(all.back()).filename().string() + ") belong to another run than " +
                          run_record_path(what) + " names (run_id " + run_id +
                          "); to continue one of them anyway, "
                          "name its file: --resume " +
                          all.back());
    }
    throw ConfigError("--resume " + what + ": no checkpoint (step-*.h5) in " + what + " or " +
                      checkpoint_directory(what));
}

std::string run_directory_of(const std::string& checkpoint_file) {
    const fs::path folder = fs::path(checkpoint_file).parent_path();
    if (folder.filename() == "checkpoints") return folder.parent_path().empty() ? "." : folder.parent_path().string();
    return folder.empty() ? "." : folder.string();
}

}  // namespace sgnn::checkpoint
