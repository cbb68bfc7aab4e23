// The `sgnn` command line: subcommand dispatch and help texts.
#pragma once

namespace sgnn::cli {

int main(int argc, char** argv);

}  // namespace sgnn::cli
