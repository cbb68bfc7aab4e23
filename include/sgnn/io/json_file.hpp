// JSON documents (summary.json and benchmark output), via nlohmann::json.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sgnn::io {

using Json = nlohmann::ordered_json;

// Pretty-printed, written atomically.
void write_json_file(const std::string& path, const Json& document);

}  // namespace sgnn::io
