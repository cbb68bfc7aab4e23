#include "sgnn/stream/options.hpp"

namespace sgnn::stream {

std::vector<config::OptionSpec> stream_options() {
    using config::default_text;
    using Type = config::OptionSpec::Type;
    const StreamConfig stream;
    return {
        {"stream.batch_size", Type::integer, default_text(stream.batch_size),
         "samples per batch; each trainer trains on one batch per step", 1, 1e6},
        {"stream.credits", Type::integer, default_text(stream.credits),
         "batches in flight per simulator-trainer pair; trainer memory is credits x feeders x batch", 1, 1024},
    };
}

void read_stream_options(const config::OptionReader& v, StreamConfig& config) {
    config.batch_size = v.small_integer("stream.batch_size");
    config.credits = v.small_integer("stream.credits");
}

}  // namespace sgnn::stream
