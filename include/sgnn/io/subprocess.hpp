// Child programs (the plotting script, git, the NumPy reference) run from an argument
// vector, never through a shell: a path or name with a quote, a semicolon or a
// newline in it reaches the child as one argument and is never interpreted.
#pragma once

#include <string>
#include <vector>

namespace sgnn::io {

struct ProcessResult {
    bool started = false;  // false: the program could not be run (not found, not executable)
    int exit_code = -1;    // the child's exit status; 128 + N when signal N ended it
    std::string output;    // what it wrote to standard output (and standard error, if merged)
};

enum class ChildStderr { discard, merge };

// Runs argv[0] (looked up in PATH when it holds no '/') with argv[1..] as its
// arguments, standard input from /dev/null, and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv, ChildStderr stderr_mode);

}  // namespace sgnn::io
