// `sgnn train`: the command line's options over a config file, a resumed checkpoint's
// or a corpus's settings, then the run on every rank (run/run.hpp).
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/run/config.hpp"
#include "sgnn/run/session.hpp"

#include <string>
#include <vector>

namespace sgnn::run {

// Configuration errors are found alike on every rank (before any rank talks); a stop
// signal before the first step may reach some ranks only (ErrorAgreement).
int train_command(Session& session);
constexpr ErrorAgreement kTrainAgreement{Agreement::every_rank, Agreement::some_ranks};
const char* train_help();

// The flags of `sgnn train` beside its options (config::CommandFlags): --resume
// DIR|FILE|auto and --allow-reshard, given on the command line only.
std::vector<config::OptionSpec> train_flags();
struct ResumeFlags {
    std::string what;  // --resume: a checkpoint file, a run directory, "auto", or "" for none
    bool allow_reshard = false;
};

// The configuration a parsed command line asks for: with --resume, the checkpoint's
// configuration under the command line (and the run directory as the default --out);
// with --data, the corpus's simulation settings under it; otherwise the options as
// given. `args` are the options without the flags; `parsed` is re-parsed over the base
// it found. Throws ConfigError.
RunConfig configure_run(const std::vector<std::string>& args, config::ParsedOptions& parsed,
                        const ResumeFlags& resume = {});

}  // namespace sgnn::run
