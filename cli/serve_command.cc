// `fersweep serve`: the live dashboard.
#include <cstdio>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "dashboard/server.h"

namespace fersweep::cli {

const char* const kServeHelp =
    R"(usage: fersweep serve --db DB [--host H] [--port P] [--token T | --token-file F]

Serves a live dashboard of the sweeps in DB over HTTP: the sweeps, each sweep's leaderboard
(sortable, filtered with the --where language of `fersweep results list`, paged), parameters
against the objective, and every trial's curves, confusion matrix and per-class report, updated
every two seconds while a sweep writes DB. Also a JSON API under /api (docs/RESULTS.md). The
database is only read: a running sweep never waits on the dashboard.

options:
  --db DB            the sweep database (required)
  --host H           the address to listen on (default 127.0.0.1: this machine only; on a
                     cluster, tunnel to it: ssh -L 8080:localhost:8080 NODE)
  --port P           the port (default 8080; 0: any free one, printed)
  --token T          a secret every request must carry (Authorization: Bearer T, or ?token=T
                     in the page's URL); required for any host but loopback
  --token-file F     the token, read from the first line of file F (kept out of `ps`)
)";

int serve_command(const std::vector<std::string>& argv) {
  if (wants_help(argv)) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
  const Args args(argv, {}, {"db", "host", "port", "token", "token-file"}, "fersweep serve");
  args.expect_positionals(0, 0, "");
  dashboard::ServeOptions options;
  options.db = args.required_option("db");
  options.host = args.option("host").value_or(options.host);
  options.port = static_cast<int>(args.int_option("port", 0, 65535).value_or(options.port));
  if (args.option("token") && args.option("token-file")) {
    throw InputError("fersweep serve: give --token or --token-file, not both");
  }
  if (const auto file = args.option("token-file")) {
    const std::optional<std::string> text = file_text(*file);
    if (!text) throw InputError(fmt::format("--token-file {}: cannot read it", *file));
    options.token = text->substr(0, text->find_first_of("\r\n"));
    if (options.token.empty()) throw InputError(fmt::format("--token-file {}: empty", *file));
  } else if (const auto token = args.option("token")) {
    if (token->empty()) throw InputError("fersweep serve: --token is empty");
    options.token = *token;
  }
  dashboard::serve(options, stdout);
  return 0;
}

}  // namespace fersweep::cli
