// Where sgnn's own data files are: the configs, scripts and data it ships, found relative to
// the running executable, never through the source tree, so an installed copy
// (cmake --install: PREFIX/bin/sgnn, PREFIX/share/sgnn/...) works wherever it is moved.
// The build tree mirrors the installed layout (build/share/sgnn links to the sources'
// configs/, scripts/ and data/), so build/sgnn finds them the same way.
#pragma once

#include <string>

namespace sgnn::io {

// The folder holding configs/, scripts/, data/ and models/: PREFIX/share/sgnn beside PREFIX/bin/sgnn,
// or share/sgnn beside the executable (the build tree). "" when neither exists.
std::string data_directory();

// data_directory()/relative with links resolved, or "" when there is no data directory
// or no such file.
std::string installed_file(const std::string& relative);

// The commit sgnn was built from ("-dirty" with uncommitted changes to tracked files;
// "unknown" outside a git checkout), recorded at build time.
std::string build_commit();

}  // namespace sgnn::io
